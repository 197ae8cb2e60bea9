"""The guard chain's authentication layer: API keys and OAuth bearer tokens, on every door at once.

A request carries ``X-API-Key: K`` or ``Authorization: Bearer K``. Every configured API key
is compared with what it sent, each in constant time; when none matches and an OAuth mode is
on (``server.token_verifier``), a bearer credential is handed to the verifier as an access
token. Either way the request gets its :class:`~nbmcp.principal.Principal`. So Custom GPT
Actions and Cursor (keys) work beside ChatGPT and Claude connectors (OAuth) on one server.

Open without credentials: ``/health``, ``/.well-known/*`` (RFC 9728 and RFC 8414 documents),
the built-in authorization server's endpoints while OAuth is on (``/authorize``, ``/token``,
``/register``, ``/revoke``, and the verifier's ``open_paths``; :func:`add_open_paths` adds
more), and the Action schema
(``/openapi.json``, ``/openapi.yaml``: it holds no secret, and ChatGPT's "Import from URL"
fetches it without credentials) unless ``protect_schema=True``.

Every 401 carries ``WWW-Authenticate: Bearer realm="nbmcp"``, with ``error="invalid_token"``
when a credential was sent, and with ``resource_metadata="..."`` (RFC 9728) while OAuth is
on, so clients find the authorization server from a bare 401. A valid token without the
scopes the verifier requires for everything (``OAuthIssuer(scopes=...)``) gets 403
``insufficient_scope``; a tool's own scopes are checked by the doors (:func:`scope_refusal`).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from nbmcp.config import OWNER_LABEL, ServerConfig
from nbmcp.http.asgi import Scope
from nbmcp.http.chain import GuardRequest, Refusal
from nbmcp.http.resource_metadata import base_url, metadata_url, resource_url
from nbmcp.principal import Principal

if TYPE_CHECKING:
    from nbmcp.auth import TokenVerifier

__all__ = [
    "OAUTH_PATHS",
    "OPEN_PATHS",
    "SCHEMA_PATHS",
    "AuthLayer",
    "add_open_paths",
    "challenge",
    "missing_scopes",
    "scope_refusal",
]

logger = logging.getLogger("nbmcp")

OPEN_PATHS = frozenset({"/health"})
"""Paths any client may read without credentials (still behind the Host/Origin guard)."""

OAUTH_PATHS = frozenset({"/authorize", "/token", "/register", "/revoke"})
"""The built-in authorization server's endpoints: open while an OAuth mode is on."""

SCHEMA_PATHS = frozenset({"/openapi.json", "/openapi.yaml"})
"""The Action schema: open unless ``protect_schema=True``."""

_METADATA = "nbmcp.resource_metadata"
_TOKENS_MAX = 1024
"""Verified tokens kept by the guard (each until it expires or anything is revoked)."""
_URLS_MAX = 256  # (Host, scheme, prefix) combinations whose URLs are kept; a client picks the Host

VerifierSource = Callable[[], "TokenVerifier | None"]


def _none() -> TokenVerifier | None:
    return None


def challenge(
    metadata: str | None = None, *, error: str | None = None, scope: Iterable[str] = ()
) -> tuple[bytes, bytes]:
    """A ``WWW-Authenticate: Bearer`` header (RFC 6750 section 3, RFC 9728 section 5.1)."""
    params = ['realm="nbmcp"']
    if error:
        params.append(f'error="{error}"')
    wanted = " ".join(sorted(scope))
    if wanted:
        params.append(f'scope="{wanted}"')
    if metadata:
        params.append(f'resource_metadata="{metadata}"')
    return b"www-authenticate", ("Bearer " + ", ".join(params)).encode("latin-1", "replace")


def missing_scopes(principal: Principal | None, needed: Iterable[str]) -> frozenset[str]:
    """The scopes of ``needed`` a token principal lacks; API keys (and no auth) lack none."""
    if principal is None or principal.kind != "token":
        return frozenset()
    return frozenset(needed) - principal.scopes


def scope_refusal(scope: Scope, needed: Iterable[str]) -> Refusal:
    """403 ``insufficient_scope`` for a request whose token lacks ``needed`` (a tool's scopes)."""
    wanted = sorted(set(needed))
    metadata = scope.get(_METADATA)
    header = challenge(
        metadata if isinstance(metadata, str) else None, error="insufficient_scope", scope=wanted
    )
    message = f"Forbidden: the access token lacks the scope {', '.join(wanted)}"
    return Refusal(403, message, "insufficient_scope", [header])


Keys = tuple[tuple[Principal, bytes], ...]


def _build_keys(api_key: str | None, labelled: tuple[tuple[str, str], ...]) -> Keys:
    keys: list[tuple[Principal, bytes]] = []
    if api_key:
        keys.append((Principal("default", owner=True), api_key.encode()))
    for label, key in labelled:
        if key:
            keys.append((Principal(label, owner=label == OWNER_LABEL), key.encode()))
    return tuple(keys)


class _KeyCache:
    """The configured keys as ``(principal, bytes)`` pairs, rebuilt only when the config's keys change.

    The config is read on every request (a key set while serving holds at once); what is
    compared is its key values, so the principals and encoded keys are not made per request.
    """

    __slots__ = ("_keys", "_seen")

    def __init__(self) -> None:
        self._seen: tuple[str | None, tuple[tuple[str, str], ...]] | None = None
        self._keys: Keys = ()

    def get(self, config: ServerConfig) -> Keys:
        labelled = config.api_keys
        seen = (config.api_key, tuple(labelled.items()) if labelled else ())
        if seen != self._seen:
            self._keys = _build_keys(*seen)
            self._seen = seen
        return self._keys


def _match(keys: Keys, offered: Iterable[str | None]) -> Principal | None:
    """The principal of the key among ``offered``; every key compared, each in constant time."""
    found = None
    for given in offered:
        if given is None:
            continue
        data = given.encode("utf-8", "surrogateescape")
        for principal, key in keys:
            if hmac.compare_digest(data, key) and found is None:
                found = principal
    return found


def _bearer(authorization: str | None) -> str | None:
    if authorization is None or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip()


class AuthLayer:
    """API keys (``config.api_key``, ``config.api_keys``) and OAuth access tokens.

    Args:
        config: Read on every request: a key added while serving holds at once.
        verifier: Returns the server's token verifier now (``None``: API keys only); it is a
            callable because OAuth may be turned on after the layers are built.
        open_paths: Paths let through without credentials (:data:`OPEN_PATHS` by default).
    """

    def __init__(
        self,
        config: ServerConfig,
        verifier: VerifierSource | None = None,
        open_paths: Iterable[str] = OPEN_PATHS,
    ) -> None:
        self.config = config
        self.verifier: VerifierSource = verifier or _none
        self.open_paths: set[str] = set(open_paths)
        """Exact paths open to anyone; the built-in authorization server adds its own."""
        self._keys = _KeyCache()
        self._urls: dict[tuple[object, ...], tuple[str, str]] = {}
        self._tokens: dict[str, _Verified] = {}
        """Bearer tokens verified lately, so a busy client's calls skip the verifier."""

    def is_open(self, path: str, verifier: TokenVerifier | None = None) -> bool:
        """Whether ``path`` needs no credentials (see the module docstring).

        While OAuth is on, the verifier's own ``open_paths`` (the built-in authorization
        server's endpoints) are open too, and :data:`OAUTH_PATHS` in any case.
        """
        if path in self.open_paths or path.startswith("/.well-known/"):
            return True
        if path in SCHEMA_PATHS:
            return not self.config.protect_schema
        if verifier is None:
            return False
        return path in OAUTH_PATHS or path in getattr(verifier, "open_paths", ())

    async def check(self, request: GuardRequest) -> Refusal | None:
        verifier = self.verifier()
        if self.is_open(request.path, verifier):
            return None
        keys = self._keys.get(self.config)
        if not keys and verifier is None:
            return None
        headers = request.headers
        api_key = headers.get("x-api-key")
        bearer = _bearer(headers.get("authorization"))
        principal = _match(keys, (api_key, bearer)) if keys else None
        if principal is not None:
            request.principal = principal
            return None
        metadata = None
        if verifier is not None:
            if bearer:
                hit = self._tokens.get(bearer)
                if (  # inlined: this runs on every call of a busy OAuth client
                    hit is not None
                    and hit.verifier is verifier
                    and hit.exp > time.time()
                    and hit.revision == getattr(verifier, "revision", 0)
                    and hit.where == _where(request, self.config)
                ):
                    required = getattr(verifier, "required_scopes", ())
                    lacking = missing_scopes(hit.principal, required) if required else None
                    if lacking:
                        return scope_refusal(request.scope, lacking)
                    request.scope[_METADATA] = hit.metadata
                    request.principal = hit.principal
                    return None
            metadata, resource = self._urls_of(request)
            if bearer:
                try:
                    principal = await verifier.verify(bearer, resource)
                except Exception as exc:  # a verifier's bug must not become a 500 for the client
                    logger.warning(
                        "nbmcp: the token verifier failed (%s); the request is refused", type(exc).__name__
                    )
            if principal is not None:
                request.scope[_METADATA] = metadata
                required = getattr(verifier, "required_scopes", ())
                lacking = missing_scopes(principal, required) if required else None
                if lacking:
                    return scope_refusal(request.scope, lacking)
                request.principal = principal
                if bearer:
                    self._remember(bearer, principal, verifier, request, metadata)
                return None
        given = api_key is not None or bearer is not None
        header = challenge(metadata, error="invalid_token" if given else None)
        return Refusal(401, self._message(given, keys, verifier is not None), "unauthorized", [header])

    def _remember(
        self, bearer: str, principal: Principal, verifier: TokenVerifier, request: GuardRequest, metadata: str
    ) -> None:
        exp = principal.claims.get("exp") if principal.claims else None
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return  # no expiry to bound the entry: verified every time
        if len(self._tokens) >= _TOKENS_MAX:
            self._tokens.clear()
        self._tokens[bearer] = _Verified(
            principal, verifier, _where(request, self.config), float(exp), _revision(verifier), metadata
        )

    def _urls_of(self, request: GuardRequest) -> tuple[str, str]:
        """The RFC 9728 document's URL and the resource (the MCP URL) as this request names the server.

        Worked out once per combination of what :func:`base_url` reads (a bounded cache): a
        token's audience is checked against it on every call.
        """
        scope, config = request.scope, self.config
        seen = _where(request, config)
        urls = self._urls.get(seen)
        if urls is None:
            base = base_url(scope, config)
            urls = (metadata_url(base), resource_url(base))
            if len(self._urls) >= _URLS_MAX:
                self._urls.clear()
            self._urls[seen] = urls
        return urls

    @staticmethod
    def _message(given: bool, keys: Keys, oauth: bool) -> str:
        if not oauth:
            why = "invalid API key" if given else "missing API key"
            return f"Unauthorized: {why} (send X-API-Key or Authorization: Bearer)"
        what = "an access token or API key" if keys else "an access token"
        why = "invalid or expired credentials" if given else "missing credentials"
        return f"Unauthorized: {why} (send {what} as Authorization: Bearer)"


def _revision(verifier: TokenVerifier) -> int:
    revision = getattr(verifier, "revision", 0)
    return revision if isinstance(revision, int) else 0


def _where(request: GuardRequest, config: ServerConfig) -> tuple[object, ...]:
    """What the resource URL (a token's audience) comes from, as :meth:`AuthLayer._urls_of` reads it."""
    scope = request.scope
    server = scope.get("server")
    return (
        config.public_url,
        request.headers.get("host"),
        str(scope.get("scheme")),
        str(scope.get("root_path", "")),
        server if type(server) is tuple else repr(server),
        config.port,
    )


class _Verified:
    """A token the verifier accepted: valid again for the same verifier, URL and revision until ``exp``."""

    __slots__ = ("exp", "metadata", "principal", "revision", "verifier", "where")

    def __init__(
        self,
        principal: Principal,
        verifier: TokenVerifier,
        where: tuple[object, ...],
        exp: float,
        revision: int,
        metadata: str,
    ) -> None:
        self.principal = principal
        self.verifier = verifier
        self.where = where
        self.exp = exp
        self.revision = revision
        self.metadata = metadata


def add_open_paths(layers: Iterable[object], *paths: str) -> None:
    """Let requests for ``paths`` through every :class:`AuthLayer` of ``layers`` without credentials."""
    for layer in layers:
        if isinstance(layer, AuthLayer):
            layer.open_paths.update(paths)
