"""The ASGI doors of the built-in authorization server: metadata, authorize, token, register, revoke.

Raw ASGI like every door: small form and JSON bodies read with a bound, answers in the
shapes RFC 6749, 7591, 7009 and 8414 give (JSON errors ``{"error", "error_description"}``,
``Cache-Control: no-store`` on anything holding a token). Nothing a client sends raises past
here: a bad body is a 400, never a 500. A wrong owner key on the consent page is reported to
the guard chain (:func:`~nbmcp.http.chain.report_refusal`) so the failed-authentication limit
counts it like a wrong API key.
"""

from __future__ import annotations

import base64
import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from nbmcp.auth.authorization import AuthorizationServer
from nbmcp.auth.oauth_error import OAuthError
from nbmcp.errors import traceback_text
from nbmcp.http.asgi import BodyTooLarge, Receive, Scope, Send, read_body, send_empty, send_json
from nbmcp.http.chain import Refusal, headers_of, report_refusal, route_path
from nbmcp.http.consent import error_page, render_consent

if TYPE_CHECKING:
    from nbmcp.http.oauth import BuiltinOAuth

__all__ = ["OAuthDoors", "basic_credentials"]

logger = logging.getLogger("nbmcp")

MAX_FORM = 64 * 1024
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class _BadBody(Exception):
    """A body that is not the form or JSON object asked for."""


async def _form(receive: Receive, scope: Scope) -> dict[str, str]:
    try:
        body = await read_body(receive, MAX_FORM)
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=50
        )
    except (BodyTooLarge, UnicodeDecodeError, ValueError):
        raise _BadBody("the body must be a form (application/x-www-form-urlencoded) under 64 KiB") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:  # RFC 6749 3.1: parameters must not be repeated
            raise _BadBody(f"the parameter {key!r} is repeated")
        form[key] = value
    return form


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        raise _BadBody("too many query parameters") from None
    query: dict[str, str] = {}
    for key, value in pairs:
        if key in query:
            raise _BadBody(f"the parameter {key!r} is repeated")
        query[key] = value
    return query


def basic_credentials(scope: Scope) -> tuple[str, str] | None:
    """``Authorization: Basic`` credentials (RFC 6749 2.3.1: each part form-urlencoded), if sent."""
    value = headers_of(scope).get("authorization", "")
    if value[:6].lower() != "basic ":
        return None
    try:
        raw = base64.b64decode(value[6:].strip(), validate=True).decode()
    except ValueError:
        return None
    client_id, sep, secret = raw.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


async def _html(send: Send, status: int, page: tuple[bytes, list[tuple[bytes, bytes]]]) -> None:
    body, headers = page
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode()), *_NO_STORE, (b"referrer-policy", b"no-referrer")]
    await send_empty(send, 303, headers)


class OAuthDoors:
    """One ASGI app for every OAuth path; routes on the path below ``root_path``."""

    def __init__(self, oauth: BuiltinOAuth) -> None:
        self.oauth = oauth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        method = scope.get("method", "GET")
        base = self.oauth.base_url(scope)
        started = False

        async def tracked(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._route(scope, receive, tracked, path, method, base)
        except Exception as exc:  # a bug or a broken store: logged whole; the client gets no traceback
            logger.error("nbmcp: the OAuth endpoint %s failed: %s", path, type(exc).__name__, exc_info=exc)
            if started:
                raise
            shown = traceback_text(exc) if self.oauth.server.config.debug else None
            if path == "/authorize":
                message = "The server failed while handling this request." + (f"\n\n{shown}" if shown else "")
                await _html(send, 500, error_page("Server error", message))
            else:
                body: dict[str, Any] = {"error": "server_error", "error_description": "Internal error"}
                if shown is not None:
                    body["traceback"] = shown
                await send_json(send, 500, body, _NO_STORE)

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, path: str, method: str, base: str
    ) -> None:
        try:
            if path in ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"):
                if method not in ("GET", "HEAD"):
                    await send_empty(send, 405, [(b"allow", b"GET, HEAD")])
                    return
                await send_json(send, 200, self.oauth.metadata(base))
            elif path == "/authorize":
                await self._authorize(scope, receive, send, base, method)
            elif method != "POST":
                await send_empty(send, 405, [(b"allow", b"POST")])
            elif path == "/register":
                await self._register(receive, send, base)
            elif path == "/token":
                await self._token(scope, receive, send, base)
            elif path == "/revoke":
                await self._revoke(scope, receive, send, base)
            else:
                await send_json(send, 404, {"error": "not_found"})
        except _BadBody as exc:
            if path == "/authorize":
                await _html(send, 400, error_page("Bad request", str(exc)))
            else:
                await send_json(
                    send, 400, {"error": "invalid_request", "error_description": str(exc)}, _NO_STORE
                )

    # -- RFC 7591 ---------------------------------------------------------------------------

    async def _register(self, receive: Receive, send: Send, base: str) -> None:
        try:
            metadata = orjson.loads(await read_body(receive, MAX_FORM))
        except (BodyTooLarge, orjson.JSONDecodeError):
            raise _BadBody("the registration must be a JSON object under 64 KiB") from None
        try:
            response = self.oauth.authority(base).register(metadata)
        except OAuthError as exc:
            await send_json(send, 400, exc.body(), _NO_STORE)
            return
        await send_json(send, 201, response, _NO_STORE)

    # -- the token endpoint and revocation --------------------------------------------------

    async def _token(self, scope: Scope, receive: Receive, send: Send, base: str) -> None:
        form = await _form(receive, scope)
        basic = basic_credentials(scope)
        try:
            answer = await self.oauth.authority(base).token(form, basic)
        except OAuthError as exc:
            headers = list(_NO_STORE)
            if exc.status == 401:  # a client secret guessed wrong counts like a wrong key
                report_refusal(
                    scope, Refusal(401, "Unauthorized: client authentication failed", "unauthorized")
                )
                headers.append((b"www-authenticate", b'Basic realm="nbmcp"'))
            await send_json(send, exc.status, exc.body(), headers)
            return
        await send_json(send, 200, answer, _NO_STORE)

    async def _revoke(self, scope: Scope, receive: Receive, send: Send, base: str) -> None:
        form = await _form(receive, scope)
        try:
            await self.oauth.authority(base).revoke(form, basic_credentials(scope))
        except OAuthError as exc:
            if exc.status == 401:
                report_refusal(
                    scope, Refusal(401, "Unauthorized: client authentication failed", "unauthorized")
                )
            await send_json(send, exc.status, exc.body(), _NO_STORE)
            return
        await send_empty(send, 200, _NO_STORE)

    # -- the authorization endpoint: consent ------------------------------------------------

    async def _authorize(self, scope: Scope, receive: Receive, send: Send, base: str, method: str) -> None:
        authority = self.oauth.authority(base)
        if method == "GET":
            try:
                started = await authority.begin(_query(scope), issuer=base, resource=f"{base}/mcp")
            except OAuthError as exc:
                await self._refuse(send, exc, base)
                return
            await _html(send, 200, self._page(scope, started))
            return
        if method != "POST":
            await send_empty(send, 405, [(b"allow", b"GET, POST")])
            return
        form = await _form(receive, scope)
        pending = authority.pending(form.get("request", ""))
        if pending is None:
            message = "This approval page has expired or was already used."
            await _html(send, 400, error_page("Approval expired", message))
            return
        if not hmac.compare_digest(form.get("csrf_token", "").encode(), pending.csrf.encode()):
            message = "The form did not come from this approval page (its request token is missing or wrong)."
            await _html(send, 403, error_page("Refused", message))
            return
        action = form.get("action", "approve")
        if action == "deny":
            await _redirect(send, authority.deny(pending))
        elif action == "continue":
            if pending.approved:
                await _redirect(send, authority.approve(pending))
            else:
                notice = (
                    f"Not approved in the notebook yet: run %mcp approve {pending.approval_code} there first."
                )
                await _html(send, 200, self._page(scope, pending, notice=notice))
        else:
            await self._check_key(scope, send, authority, pending, form.get("key", ""))

    async def _check_key(
        self, scope: Scope, send: Send, authority: AuthorizationServer, pending: Any, key: str
    ) -> None:
        offered = key.encode()
        right = False
        for owner in self.oauth.owner_keys():  # each compared, in constant time
            right = hmac.compare_digest(offered, owner.encode()) or right
        if right and key:
            await _redirect(send, authority.approve(pending))
            return
        report_refusal(
            scope, Refusal(401, "Unauthorized: wrong owner key on the consent page", "unauthorized")
        )
        if not authority.failed(pending):
            message = "Too many wrong keys for this request. Start again from the app you were connecting."
            await _html(send, 403, error_page("Refused", message))
            return
        await _html(send, 403, self._page(scope, pending, error="That is not the owner key. Try again."))

    def _page(
        self, scope: Scope, pending: Any, *, error: str | None = None, notice: str | None = None
    ) -> Any:
        server = self.oauth.server
        name = server.info.title or server.name
        # the path the browser sees: the public URL's prefix behind a proxy, else the mount's root_path
        action = f"{urlsplit(self.oauth.base_url(scope)).path}/authorize"
        return render_consent(pending, server_name=name, action=action, error=error, notice=notice)

    async def _refuse(self, send: Send, exc: OAuthError, base: str) -> None:
        """An authorization error: back to the client if its redirect URI is verified, else a page."""
        if exc.redirect_uri is None:
            await _html(send, exc.status, error_page("This request cannot be approved", exc.description))
            return
        from nbmcp.auth.authorization import add_query

        params = {"error": exc.error, "error_description": exc.description, "state": exc.state, "iss": base}
        await _redirect(send, add_query(exc.redirect_uri, params))
