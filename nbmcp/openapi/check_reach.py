"""The checker's reach rules: can ChatGPT call the server (one https server) and sign in (one scheme)?

Used by :mod:`nbmcp.openapi.check`; each rule reports through the checker it is given.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from nbmcp.openapi.check_schemas import Reporter

__all__ = ["security", "servers"]

_OAUTH_EXEMPT = ("google.com", "googleapis.com", "microsoft.com", "microsoftonline.com", "adobe.com")


def _private_host(host: str) -> bool:
    if host in ("localhost", "") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def servers(ck: Reporter) -> None:
    servers = ck.doc.get("servers")
    fix = "publish the server (a tunnel gives it a public https URL) or pass --url https://your.host"
    if not isinstance(servers, list) or not servers:
        ck.add(
            "error",
            "server-url",
            "servers",
            f"no server URL: ChatGPT needs the public https address it should call; {fix}",
        )
        return
    if len(servers) > 1:
        ck.add(
            "warning",
            "server-url",
            "servers",
            f"{len(servers)} servers listed: ChatGPT calls only the first and drops the others; keep one",
        )
    first = servers[0] if isinstance(servers[0], dict) else {}
    url = first.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.scheme or not parts.netloc:
        ck.add("error", "server-url", "servers[0].url", f"server URL {url!r} is not absolute; {fix}")
        return
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        ck.add(
            "warning",
            "server-https",
            "servers[0].url",
            f"server URL {url} is not https: ChatGPT only calls https URLs (TLS on port 443) that "
            f"the internet can reach; {fix}",
        )
    elif _private_host(host):
        ck.add(
            "warning",
            "server-url",
            "servers[0].url",
            f"server URL {url} is a local address ChatGPT cannot reach; {fix}",
        )
    elif parts.port not in (None, 443):
        ck.add(
            "warning",
            "server-url",
            "servers[0].url",
            f"server URL {url} uses port {parts.port}: ChatGPT calls https on port 443 only",
        )


def security(ck: Reporter) -> None:
    components = ck.doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(schemes, dict) or not schemes:
        return
    if len(schemes) > 1:
        ck.add(
            "error",
            "security",
            "components.securitySchemes",
            f"{len(schemes)} security schemes ({', '.join(schemes)}): a ChatGPT Action takes one "
            "authentication type (an API key or OAuth); keep one",
        )
    server = (ck.doc.get("servers") or [{}])[0]
    server_host = (urlsplit(str(server.get("url", ""))).hostname or "") if isinstance(server, dict) else ""
    for name, scheme in schemes.items():
        where = f"components.securitySchemes.{name}"
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        if kind == "apiKey":
            if scheme.get("in") != "header":
                ck.add("error", "security", where, "ChatGPT sends API keys in a header: use in: header")
        elif kind == "http":
            if str(scheme.get("scheme", "")).lower() not in ("bearer", "basic"):
                ck.add(
                    "error",
                    "security",
                    where,
                    "ChatGPT's API-key auth is Basic, Bearer or a custom header",
                )
        elif kind == "oauth2":
            flow = (scheme.get("flows") or {}).get("authorizationCode")
            if not isinstance(flow, dict) or not flow.get("authorizationUrl") or not flow.get("tokenUrl"):
                ck.add(
                    "error",
                    "security",
                    where,
                    "ChatGPT's OAuth needs an authorizationCode flow with authorizationUrl and tokenUrl",
                )
                continue
            for key in ("authorizationUrl", "tokenUrl"):
                host = urlsplit(str(flow[key])).hostname or ""
                if server_host and host != server_host and not host.endswith(_OAUTH_EXEMPT):
                    ck.add(
                        "warning",
                        "security",
                        where,
                        f"{key} is on {host}, not the API's domain {server_host}: ChatGPT wants OAuth "
                        "on the same domain (Google, Microsoft and Adobe excepted)",
                    )
        else:
            ck.add("error", "security", where, f"security scheme type {kind!r} is not one ChatGPT offers")
