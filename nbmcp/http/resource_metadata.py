"""RFC 9728 protected-resource metadata: how ChatGPT and Claude find who issues tokens for ``/mcp``.

A client that gets 401 reads ``resource_metadata="..."`` from the ``WWW-Authenticate``
challenge (or tries the well-known paths itself), fetches the document, and learns the
authorization server to send its user to. The document is served at
``/.well-known/oauth-protected-resource/mcp`` (the path-suffixed form RFC 9728 section 3.1
builds from the resource ``<base>/mcp``) and at ``/.well-known/oauth-protected-resource``
(where older clients look); both describe the same resource, the MCP endpoint. They exist
only while an OAuth mode is on (``server.token_verifier`` is set): 404 otherwise.

Behind a proxy that serves the notebook under a path prefix (``public_url`` =
``https://host/nb``), the resource is ``https://host/nb/mcp`` and its document
``https://host/.well-known/oauth-protected-resource/nb/mcp``: at the host's root (RFC 9728
section 3.1, as RFC 8414 puts ``/.well-known/oauth-authorization-server/nb`` for the issuer
``https://host/nb``). The proxy rule is therefore: forward ``https://host/nb/...`` to this
server with the prefix removed, and ``https://host/.well-known/...`` as it is.
:func:`refresh_well_known` makes the server answer those path-inserted forms
(:class:`WellKnownAlias`), served by the same doors as the root forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import orjson

from nbmcp.config import ServerConfig
from nbmcp.http.asgi import ASGIApp, Receive, Scope, Send, send_json
from nbmcp.http.chain import headers_of

if TYPE_CHECKING:
    from nbmcp.auth import TokenVerifier

__all__ = [
    "METADATA_PATHS",
    "WELL_KNOWN",
    "ResourceMetadata",
    "WellKnownAlias",
    "base_url",
    "metadata_doors",
    "metadata_url",
    "path_prefix",
    "refresh_well_known",
    "resource_url",
    "well_known_aliases",
]

WELL_KNOWN = "/.well-known/oauth-protected-resource"
METADATA_PATHS = (WELL_KNOWN, WELL_KNOWN + "/mcp")
"""Where the document is served (below the host's root)."""

VerifierSource = Callable[[], "TokenVerifier | None"]

_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
_UNSAFE = re.compile(r'["\\\x00-\x20\x7f]')
_CACHE = (b"cache-control", b"public, max-age=300")


def base_url(scope: Scope, config: ServerConfig) -> str:
    """This server's base URL as clients see it: ``public_url`` if set, else scheme, Host and mount prefix.

    The result is safe to quote in a header (no quotes, backslashes, spaces or controls).
    """
    if config.public_url:
        return _UNSAFE.sub("", config.public_url).rstrip("/")
    host = headers_of(scope).get("host", "")
    if not _HOST.match(host):  # a Host we would not dare to echo: name the socket instead
        server = scope.get("server") or ("127.0.0.1", config.port or 80)
        host = f"[{server[0]}]:{server[1]}" if ":" in str(server[0]) else f"{server[0]}:{server[1]}"
    scheme = "https" if scope.get("scheme") == "https" else "http"
    root = _UNSAFE.sub("", str(scope.get("root_path", "")))
    return f"{scheme}://{host}{root}".rstrip("/")


def resource_url(base: str) -> str:
    """The protected resource: the MCP endpoint below ``base``."""
    return f"{base}/mcp"


def metadata_url(base: str) -> str:
    """Where the RFC 9728 document of ``resource_url(base)`` is: the well-known path after the host."""
    scheme, _, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    prefix = f"/{path}" if slash and path else ""
    return f"{scheme}://{host}{WELL_KNOWN}{prefix}/mcp"


class ResourceMetadata:
    """The ASGI door serving the document, read live: the verifier and scopes of the moment.

    Args:
        config: The server's settings (``public_url``).
        verifier: Returns the server's token verifier (``None``: no OAuth, the door is 404).
        scopes: Returns the scopes tools ask for, listed as ``scopes_supported``.
    """

    def __init__(
        self, config: ServerConfig, verifier: VerifierSource, scopes: Callable[[], Iterable[str]]
    ) -> None:
        self.config = config
        self.verifier = verifier
        self.scopes = scopes

    def document(self, base: str) -> dict[str, object] | None:
        """The metadata for the server at ``base``, or ``None`` when no OAuth mode is on."""
        verifier = self.verifier()
        if verifier is None:
            return None
        document: dict[str, object] = {
            "resource": resource_url(base),
            "authorization_servers": [verifier.authorization_server(base)],
            "bearer_methods_supported": ["header"],
        }
        wanted = set(self.scopes()) | set(getattr(verifier, "required_scopes", ()))
        if wanted:
            document["scopes_supported"] = sorted(wanted)
        return document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        document = self.document(base_url(scope, self.config))
        if document is None:
            await send_json(send, 404, {"error": "Not found: OAuth is off", "type": "not_found"})
            return
        if scope["method"] not in ("GET", "HEAD"):
            body = {"error": "use GET", "type": "method_not_allowed"}
            await send_json(send, 405, body, [(b"allow", b"GET, HEAD")])
            return
        encoded = orjson.dumps(document)
        if scope["method"] == "HEAD":
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(encoded)).encode()),
                _CACHE,
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send_json(send, 200, encoded, [_CACHE])


def metadata_doors(
    config: ServerConfig, verifier: VerifierSource, scopes: Callable[[], Iterable[str]]
) -> dict[str, ASGIApp]:
    """The doors to add to ``server.doors``: both well-known paths, one :class:`ResourceMetadata`."""
    door = ResourceMetadata(config, verifier, scopes)
    return dict.fromkeys(METADATA_PATHS, door)


def path_prefix(public_url: str | None) -> str:
    """The path of ``public_url`` (``"/nb"`` for ``https://host/nb/``), ``""`` when it has none."""
    if not public_url:
        return ""
    return urlsplit(public_url).path.rstrip("/")


class WellKnownAlias:
    """A well-known path with the prefix inserted, served by the door of its root form.

    ``/.well-known/oauth-authorization-server/nb`` is answered as
    ``/.well-known/oauth-authorization-server`` would be (the door routes on the path it sees).
    """

    def __init__(self, door: ASGIApp, path: str) -> None:
        self.door = door
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = f"{scope.get('root_path', '')}{self.path}"
        await self.door({**scope, "path": path, "raw_path": path.encode()}, receive, send)


def well_known_aliases(doors: MutableMapping[str, ASGIApp], public_url: str | None) -> dict[str, ASGIApp]:
    """The path-inserted forms of the well-known doors in ``doors`` for ``public_url``'s prefix.

    ``/.well-known/NAME[/REST]`` gets ``/.well-known/NAME/PREFIX[/REST]`` (RFC 8414 section 3.1,
    RFC 9728 section 3.1); none when ``public_url`` has no path. Paths ``doors`` already
    serves itself are left to it.
    """
    prefix = path_prefix(public_url)
    if not prefix:
        return {}
    found: dict[str, ASGIApp] = {}
    for path, door in doors.items():
        if isinstance(door, WellKnownAlias) or not path.startswith("/.well-known/"):
            continue
        name, slash, rest = path[len("/.well-known/") :].partition("/")
        alias = f"/.well-known/{name}{prefix}{slash}{rest}"
        if alias not in doors:
            found[alias] = WellKnownAlias(door, path)
    return found


def refresh_well_known(doors: MutableMapping[str, ASGIApp], public_url: str | None) -> None:
    """Replace the :class:`WellKnownAlias` doors in ``doors`` with those ``public_url`` needs now.

    Called when the server starts; call it again after ``public_url`` changes while serving.
    """
    stale = [path for path, door in doors.items() if isinstance(door, WellKnownAlias)]
    for path in stale:
        del doors[path]
    doors.update(well_known_aliases(doors, public_url))
