"""Clients in a web app that call from their own cloud: ChatGPT (connector, Custom GPT Action), Claude.

The snippet is the one thing to paste, a URL. ChatGPT's developer-mode connectors and
Claude's custom connectors accept only OAuth (discovered from the server's first 401, RFC
9728) or no authentication; a key-only server is told to publish with OAuth. A Custom GPT
Action imports the schema from ``/openapi.json`` and sends the key as ``X-API-Key``.
"""

from __future__ import annotations

from nbmcp.connect.entry import Entry, entry, publish_step, steps
from nbmcp.connect.target import ConnectTarget

__all__ = ["chatgpt", "chatgpt_actions", "claude"]

_CONSENT = (
    "Approve on the consent page that opens: nbmcp's built-in OAuth asks for the owner key "
    "(server.access_key) or gives a code for %mcp approve; an outside issuer has you sign in there."
)


def _auth(target: ConnectTarget, who: str, oauth: str) -> tuple[str, str | None]:
    """The authentication step(s) for a connector that takes OAuth or nothing."""
    if target.oauth:
        return f"Authentication: {oauth}.", _CONSENT
    if target.key:
        return (
            f"{who} connectors accept only OAuth or no authentication, and this server asks for an "
            "API key: publish with OAuth (%mcp publish turns it on; or nbmcp serve --oauth) and use "
            "that URL.",
            None,
        )
    return "Authentication: none. Anyone with the URL can call the tools.", None


def chatgpt(target: ConnectTarget) -> Entry:
    """ChatGPT developer mode: a custom MCP connector (an "app") with this URL."""
    return entry(
        "ChatGPT (developer mode connector)",
        target.url,
        steps(
            publish_step(target, "ChatGPT"),
            "In ChatGPT: Settings > Apps (Apps & Connectors in some versions) > Advanced settings: "
            "turn on Developer mode.",
            f"Back in Settings > Apps, click Create app: name it {target.entry} and paste the URL as "
            "MCP Server URL.",
            *_auth(target, "ChatGPT", "OAuth"),
            "Confirm that you trust it and click Create; in a chat, pick it under + > Developer mode.",
        ),
        "url",
        "https://platform.openai.com/docs/guides/developer-mode",
    )


def _action_auth(target: ConnectTarget) -> str:
    if target.key:
        return (
            "Authentication: API Key, Auth Type Custom, Custom Header Name X-API-Key; paste the key "
            "(the owner key: server.access_key)."
        )
    if target.oauth:
        return (
            "Authentication: OAuth, with a client ID and secret from your issuer (Actions do not "
            "register themselves); or give the server an API key and use Custom, X-API-Key."
        )
    return "Authentication: None. Anyone with the URL can call the tools."


def chatgpt_actions(target: ConnectTarget) -> Entry:
    """A Custom GPT Action: the OpenAPI schema at ``/openapi.json``, the key as ``X-API-Key``."""
    return entry(
        "ChatGPT Custom GPT Action",
        target.schema,
        steps(
            publish_step(target, "ChatGPT"),
            "In ChatGPT: Explore GPTs > Create > Configure > Actions > Create new action.",
            "Import from URL: paste the schema URL (one operation per tool).",
            _action_auth(target),
            "Save; the GPT can call the tools (sharing it needs a privacy policy URL).",
        ),
        "url",
        "https://platform.openai.com/docs/actions/introduction",
    )


def claude(target: ConnectTarget) -> Entry:
    """Claude (claude.ai, and Claude Desktop's Connectors): a custom connector with this URL."""
    return entry(
        "Claude (custom connector)",
        target.url,
        steps(
            publish_step(target, "Claude"),
            "In Claude: Settings > Connectors > Add custom connector.",
            f"Name it {target.entry} and paste the URL as the remote MCP server URL; leave "
            "Advanced settings empty (Claude registers itself).",
            *_auth(target, "Claude", "OAuth, found from the URL: click Add, then Connect"),
            "In a chat, turn the connector on in the tools menu.",
        ),
        "url",
        "https://support.claude.com/en/articles/11503834",
    )
