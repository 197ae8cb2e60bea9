"""What ``nbmcp serve`` prints once it serves: the URLs, how to connect, OAuth, the proxy rule.

Behind a reverse proxy at a path prefix (``--public-url https://host/nb``) the proxy has two
rules to follow, printed by :func:`proxy_rule`: ``https://host/nb/...`` goes to the server
with the prefix removed, and ``https://host/.well-known/...`` goes as it is (the OAuth
metadata documents live at the host's root, RFC 8414 and RFC 9728).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = ["announce", "announce_published", "proxy_rule"]


def announce(server: Any, url: str) -> None:
    """Print where ``server`` serves (``url``, its local ``/mcp`` URL) and how clients connect."""
    tools = len(server.tools)
    auth = " (needs X-API-Key)" if server.config.requires_key else ""
    print(f"nbmcp: serving {server.name!r} with {tools} tool{'s' * (tools != 1)} at {url}{auth}", flush=True)
    public = server.public_url
    shown = f"{public.rstrip('/')}/mcp" if public else url
    if public:
        print(f"  public URL: {shown}", flush=True)
    print(
        f"  connect: claude mcp add --transport http {server.name} {shown}   |   "
        f"npx @modelcontextprotocol/inspector --cli {shown} --method tools/list   |   Ctrl-C stops",
        flush=True,
    )
    base = shown.removesuffix("/mcp")
    print(f"  ChatGPT Actions: POST {base}/tools/NAME, schema at {base}/openapi.json", flush=True)
    _announce_oauth(server, url.removesuffix("/mcp"))
    for line in proxy_rule(server, url):
        print(line, flush=True)


def _announce_oauth(server: Any, local: str) -> None:
    """Where OAuth clients discover the authorization server."""
    verifier = getattr(server, "token_verifier", None)
    if verifier is None:
        return
    from nbmcp.http.resource_metadata import metadata_url

    base = (server.config.public_url or local).rstrip("/")
    issuer = verifier.authorization_server(base)
    print(f"  OAuth: tokens from {issuer}; clients discover it at {metadata_url(base)}", flush=True)


def proxy_rule(server: Any, url: str) -> list[str]:
    """The lines telling a reverse proxy what to forward, when the public URL has a path prefix.

    Args:
        server: The server (its ``public_url``, its OAuth mode).
        url: Its local ``/mcp`` URL (what the proxy forwards to).

    Returns:
        No lines without a prefix (the proxy then forwards everything as it is).
    """
    from nbmcp.http.resource_metadata import WELL_KNOWN, path_prefix

    public = server.public_url
    prefix = path_prefix(public)
    if not prefix:
        return []
    parts = urlsplit(public)
    origin = f"{parts.scheme}://{parts.netloc}"
    local = url.removesuffix("/mcp")
    lines = [f"  proxy: forward {origin}{prefix}/... -> {local}/... (the prefix removed)"]
    if getattr(server, "token_verifier", None) is not None:
        documents = [f"{WELL_KNOWN}{prefix}/mcp"]
        if getattr(server, "oauth", None) is not None:
            documents.append(f"/.well-known/oauth-authorization-server{prefix}")
        lines.append(
            f"  proxy: forward {origin}/.well-known/... -> {local}/.well-known/... as it is "
            f"(OAuth clients read {' and '.join(documents)} at the host's root)"
        )
    return lines


def announce_published(server: Any, url: str, *, shown_key: bool) -> None:
    """Print the public ``url`` ``--publish`` got, and the key that approves OAuth clients.

    (``server.publish`` itself logs the warning for ``--no-auth`` and any problem reaching it.)

    Args:
        shown_key: The owner key was printed already (``--oauth``).
    """
    tunnel = getattr(server, "tunnel", None)
    through = f" through {tunnel.provider}" if tunnel is not None else ""
    print(f"nbmcp: published at {url}{through}", flush=True)
    if getattr(server, "oauth", None) is not None and not shown_key:
        from nbmcp.cli.credentials import show_owner_key

        show_owner_key(server)
    print(f"  connect: settings for each client: nbmcp connect {url}", flush=True)
