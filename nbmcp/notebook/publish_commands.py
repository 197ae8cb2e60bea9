"""``%mcp publish``, ``%mcp unpublish`` and ``%mcp connect``: the server on a public HTTPS URL.

Tunnel trouble never raises into a cell as a traceback: a missing token or binary, or a
tunnel that does not come up, is one :class:`UsageError` line; a tunnel that dies later is
one line in ``%mcp status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from nbmcp.errors import NbmcpError, ServerStateError

if TYPE_CHECKING:
    from nbmcp.notebook.commands import MagicsSettings
    from nbmcp.server import MCPServer

__all__ = ["auth_mode_text", "cmd_connect", "cmd_publish", "cmd_unpublish", "publish_facts"]


def cmd_publish(magics: MagicsSettings, args: Any) -> Any:
    """``%mcp publish [--provider ngrok|cloudflared] [--domain NAME] [--no-auth]``."""
    from nbmcp.notebook.commands import oauth_lines
    from nbmcp.server.publishing import NO_AUTH_WARNING

    server = magics.server
    if server.url is None and magics.serving:
        raise UsageError("%mcp publish: the server is not running")
    if server.url is None:
        from nbmcp.notebook.commands import start_for_publish

        start_for_publish(magics)
    had_oauth = server.token_verifier is not None
    try:
        url = server.publish(args.provider, domain=args.domain, no_auth=args.no_auth)
    except ServerStateError as exc:
        raise UsageError(f"%mcp publish: {exc} (`%mcp unpublish` first)") from None
    except NbmcpError as exc:
        raise UsageError(f"%mcp publish: {exc}") from None
    tunnel = server.tunnel
    provider = tunnel.provider if tunnel is not None else "?"
    lines = [f"nbmcp: published {server.name!r} through {provider} at {url}"]
    if args.no_auth and not server.config.requires_key and server.token_verifier is None:
        lines.append(NO_AUTH_WARNING)
    elif server.oauth is not None and server.token_verifier is server.oauth and not had_oauth:
        lines += oauth_lines(server)
    note = server.publish_note
    if note:
        lines.append(f"  note: {note}")
    lines.append("  `%mcp connect` shows how to add it to ChatGPT, Claude, Cursor, VS Code and more")
    print("\n".join(lines))
    if server.oauth is not None and server.oauth.generated_key and not had_oauth:
        from nbmcp.notebook.secret_view import OwnerKey

        return OwnerKey.of(server)
    return None


def cmd_unpublish(magics: MagicsSettings, args: Any) -> None:
    """``%mcp unpublish``: close the tunnel; the local server keeps serving."""
    server = magics.server
    if server.tunnel is None:
        print("nbmcp: not published")
        return
    public = server.public_url
    server.unpublish()
    print(f"nbmcp: unpublished {public}; still serving locally at {server.url}")


def cmd_connect(magics: MagicsSettings, args: Any) -> Any:
    """``%mcp connect [--client NAME]``: how to add this server to each client, with copy buttons."""
    from nbmcp.notebook.connect_view import ConnectView

    server = magics.server
    info = server.connect_info()
    client = getattr(args, "client", None)
    if client is not None:
        if client not in info:
            raise UsageError(f"%mcp connect: unknown client {client!r}; one of: {', '.join(info)}")
        info = {client: info[client]}
    where = (server.public_url or (server.url or "").removesuffix("/mcp") or "not started").rstrip("/")
    heading = f"nbmcp server {server.name!r} at {where}/mcp (auth: {server.auth_mode})"
    if server.url is None and server.public_url is None:
        heading += "; `%mcp start` first, then these work"
    return ConnectView(info, heading=heading)


def auth_mode_text(server: MCPServer) -> str:
    """The auth a client must bring, in words (``%mcp status``)."""
    words = {
        "none": "none",
        "key": "API key",
        "oauth": "OAuth (built-in)" if server.oauth is not None else "OAuth (outside issuer)",
        "oauth+key": "OAuth or API key",
    }
    mode = server.auth_mode
    if mode.startswith("oauth") and server.oauth is None:
        words[mode] = words[mode].replace("built-in", "outside issuer")
    return words[mode]


def publish_facts(server: MCPServer) -> list[tuple[str, str]]:
    """``%mcp status`` lines on publishing: public URL, provider, tunnel state, auth mode."""
    facts = [("auth", auth_mode_text(server))]
    tunnel = server.tunnel
    if tunnel is None:
        facts.append(("public url", server.public_url or "not published (%mcp publish)"))
        return facts
    facts.append(("public url", f"{server.public_url}/mcp"))
    facts.append(("provider", tunnel.provider))
    note = server.publish_note
    state = server.tunnel_state
    facts.append(("tunnel", f"{state}: {note}" if note else state))
    return facts
