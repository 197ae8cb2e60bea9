"""Learn a running server's name and auth mode from its URL (for ``nbmcp connect URL``).

Two or three requests, standard library only, each bounded by ``timeout``, redirects not
followed (a key must not travel to another host):

1. ``GET /health``: nbmcp answers ``{"status": "ok", "name": ...}`` without credentials.
2. ``POST /mcp`` with a ``ping`` and no credentials: ``401`` whose ``WWW-Authenticate`` names
   ``resource_metadata`` means OAuth (RFC 9728), a ``401`` without it means an API key, any
   other client answer means no authentication.
3. With a key (``NBMCP_API_KEY``, never argv) and a ``401``: the same ``ping`` with
   ``Authorization: Bearer KEY`` tells ``"oauth+key"`` from ``"oauth"``, and checks the key.
   The key goes only over https or to this machine, never over plain http elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from nbmcp.connect.target import ConnectTarget, auth_mode
from nbmcp.errors import ConnectError

__all__ = ["ConnectError", "Probed", "probe", "split_url"]

_PING = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "User-Agent": "nbmcp-connect",
}


@dataclass(frozen=True)
class Probed:
    """What the probe learnt: the target, and warnings worth a line each (never a key)."""

    target: ConnectTarget
    warnings: list[str] = field(default_factory=list)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx reaches the caller as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def split_url(url: str) -> tuple[str, str]:
    """``(base, mcp_url)`` from a server's base URL or its ``/mcp`` URL.

    Raises:
        ConnectError: not an http(s) URL with a host.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectError(
            f"{url!r} is not an http(s) URL; give the server's URL, e.g. http://127.0.0.1:8000/mcp"
        )
    path = parts.path.rstrip("/").removesuffix("/mcp")
    base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return base, base + "/mcp"


def _request(url: str, data: bytes | None, headers: dict[str, str], timeout: float) -> tuple[int, Any, bytes]:
    """``(status, headers, body)``; HTTP errors are answers too. Network failures raise ConnectError."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status), response.headers, response.read(65536)
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(65536) if exc.fp is not None else b""
        except OSError:
            body = b""
        finally:
            exc.close()
        return int(exc.code), exc.headers, body
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectError(f"cannot reach {url}: {reason}") from None


def _name(base: str, timeout: float) -> str | None:
    status, _, body = _request(base + "/health", None, {"User-Agent": "nbmcp-connect"}, timeout)
    if status != 200:
        return None
    try:
        name = json.loads(body).get("name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name else None


def _may_carry_key(url: str) -> bool:
    """Whether a key may go to ``url``: over https, or to this machine."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refusal(mcp_url: str, status: int, headers: Any) -> str | None:
    """The one line to stop on for an answer that is no MCP endpoint, else ``None``."""
    if 300 <= status < 400:
        where = headers.get("Location", "?") if headers is not None else "?"
        return f"{mcp_url} redirects ({status}) to {where}: give that URL instead"
    if status == 404:
        return f"no MCP endpoint at {mcp_url} (404): is this the server's URL?"
    if status == 421:
        return (
            f"{mcp_url} refused its own host name (421): let the server accept it "
            "(nbmcp serve --allow-host HOST, or publish it with %mcp publish)"
        )
    if status >= 500:
        return f"{mcp_url} answered {status}: the server (or the tunnel in front of it) is not serving"
    return None


def probe(url: str, *, key: str | None = None, name: str | None = None, timeout: float = 5.0) -> Probed:
    """The :class:`ConnectTarget` of the server at ``url`` (its base URL or its ``/mcp`` URL).

    Args:
        url: Where clients reach the server; the snippets use it as given (public or local).
        key: The API key to check (from ``NBMCP_API_KEY``); it only tells modes apart.
        name: The entry name to use instead of the one ``/health`` gives.
        timeout: Seconds for each request.

    Raises:
        ConnectError: the URL is unreachable or answers as no MCP server would.
    """
    base, mcp_url = split_url(url)
    warnings: list[str] = []
    found = _name(base, timeout)
    if found is None and name is None:
        warnings.append(f"{base}/health gave no server name: using 'nbmcp' (--name NAME picks one)")
    status, headers, _ = _request(mcp_url, _PING, dict(_HEADERS), timeout)
    stop = _refusal(mcp_url, status, headers)
    if stop:
        raise ConnectError(stop)
    oauth = status == 401 and "resource_metadata" in (headers.get("WWW-Authenticate", "") or "")
    needs_key = status == 401 and not oauth
    if status == 401 and key and not _may_carry_key(mcp_url):
        warnings.append(f"not sending NBMCP_API_KEY over plain http to {urlsplit(mcp_url).hostname}")
    elif status == 401 and key:
        answered, _, _ = _request(mcp_url, _PING, {**_HEADERS, "Authorization": f"Bearer {key}"}, timeout)
        if answered == 401:
            warnings.append("the server refused the key in NBMCP_API_KEY (401): check it")
        else:
            needs_key = True
    elif needs_key:
        warnings.append("the server asks for an API key: set NBMCP_API_KEY where the clients run")
    target = ConnectTarget(
        name=name or found or "nbmcp",
        url=mcp_url,
        auth=auth_mode(oauth=oauth, key=needs_key),
        schema_url=base + "/openapi.json",
    )
    return Probed(target, warnings)
