"""Client ID metadata documents: a client whose ``client_id`` is an https URL describes itself there.

The newer MCP authorization revision prefers them to dynamic registration: the server fetches
``client_id`` and reads the client's name and redirect URIs from the JSON document found there.
Fetching a URL a stranger chose is a server-side request forgery risk, so the fetch is narrow:

- ``https`` only, a real path, no fragment, no user info, no dot segments;
- the host is resolved and **every** address must be public: never loopback, private,
  link-local (cloud metadata at 169.254.169.254), shared, multicast or reserved; the
  connection then goes to one of those checked addresses (no second lookup to rebind);
- TLS verified against the host name; one GET, no redirects (a 3xx is a refusal);
- bounded time (5 s) and size (64 KiB);
- the document's ``client_id`` must equal its URL exactly;
- documents are cached (by ``Cache-Control: max-age``, within 5 minutes and a day) and so are
  failures, briefly, so a client cannot make the server fetch on every request.

The fetch speaks HTTP/1.1 itself through h11 (uvicorn's parser) over one socket it opened to
the address it checked, which is what makes the pinning above possible.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import h11
import orjson

from nbmcp.auth.clients import Client, validate_redirect_uri
from nbmcp.auth.oauth_error import OAuthError

__all__ = ["DocumentCache", "check_document_url", "is_public_address"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


def is_public_address(address: Address) -> bool:
    """Whether a fetch may go to ``address``: globally routable, not loopback, private, link-local..."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_loopback or address.is_link_local)


def check_document_url(url: str) -> tuple[str, int, str]:
    """``(host, port, target)`` of a metadata document URL, or :class:`OAuthError` if it may not be one."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise OAuthError("invalid_client", "the client_id URL is not valid") from None
    segments = parts.path.split("/")
    if parts.scheme != "https" or not parts.hostname or parts.path in ("", "/"):
        raise OAuthError("invalid_client", "a client_id URL must be https with a path")
    if parts.fragment or "#" in url or parts.username is not None or parts.password is not None:
        raise OAuthError("invalid_client", "a client_id URL must have no fragment and no user info")
    if "." in segments or ".." in segments or any(ch.isspace() for ch in url):
        raise OAuthError("invalid_client", "a client_id URL must have no dot segments or spaces")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, target


async def _resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


class DocumentCache:
    """Fetches and caches client ID metadata documents, as :class:`~nbmcp.auth.clients.Client` objects.

    Args:
        timeout: Seconds for the whole fetch (resolve, connect, TLS, answer).
        max_bytes: The largest document read.
        allow: Which resolved addresses may be connected to (tests widen it to loopback).
        resolver: Host name to addresses (tests point names at a local server).
        ssl_context: The TLS trust (default: the system's).
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        allow: Callable[[Address], bool] = is_public_address,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_entries: int = 256,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allow = allow
        self.resolver = resolver or _resolve
        self.ssl_context = ssl_context
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, Client | OAuthError]] = {}

    async def client(self, url: str) -> Client:
        """The client the document at ``url`` describes (cached), or :class:`OAuthError`."""
        now = time.monotonic()
        cached = self._cache.get(url)
        if cached is not None and cached[0] > now:
            if isinstance(cached[1], OAuthError):
                raise cached[1]
            return cached[1]
        try:
            client, ttl = await asyncio.wait_for(self._fetch(url), self.timeout)
            entry: Client | OAuthError = client
        except asyncio.TimeoutError:
            entry, ttl = OAuthError("invalid_client", "the client metadata document took too long"), 60.0
        except OAuthError as exc:
            entry, ttl = exc, 60.0
        except (OSError, ssl.SSLError, h11.ProtocolError, UnicodeError, ValueError):
            entry, ttl = (
                OAuthError("invalid_client", "the client metadata document could not be fetched"),
                60.0,
            )
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[url] = (now + ttl, entry)
        if isinstance(entry, OAuthError):
            raise entry
        return entry

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            literal: Address | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        found = [str(literal)] if literal is not None else await self.resolver(host, port)
        if not found:
            raise OAuthError("invalid_client", "the client_id host does not resolve")
        for address in found:
            if not self.allow(ipaddress.ip_address(address.split("%", 1)[0])):
                raise OAuthError("invalid_client", "the client_id host is not a public address: refused")
        return found

    async def _fetch(self, url: str) -> tuple[Client, float]:
        host, port, target = check_document_url(url)
        address = (await self._addresses(host, port))[0]
        context = self.ssl_context or ssl.create_default_context()
        reader, writer = await asyncio.open_connection(address, port, ssl=context, server_hostname=host)
        try:
            status, headers, body = await self._exchange(reader, writer, host, port, target)
        finally:
            writer.close()
        if status != 200:
            raise OAuthError(
                "invalid_client", f"the client metadata document answered {status} (redirects refused)"
            )
        return _client_of(url, body), _ttl(headers.get("cache-control", ""))

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int, target: str
    ) -> tuple[int, dict[str, str], bytes]:
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=16 * 1024)
        authority = host if port == 443 else f"{host}:{port}"
        request = h11.Request(
            method="GET",
            target=target,
            headers=[
                ("Host", authority),
                ("Accept", "application/json"),
                ("User-Agent", "nbmcp"),
                ("Connection", "close"),
            ],
        )
        writer.write(conn.send(request) + (conn.send(h11.EndOfMessage()) or b""))
        await writer.drain()
        status, headers, chunks, size = 0, {}, [], 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(16 * 1024))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
                if status != 200:
                    return status, headers, b""
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self.max_bytes:
                    raise OAuthError("invalid_client", "the client metadata document is too large")
                chunks.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, headers, b"".join(chunks)


def _ttl(cache_control: str) -> float:
    found = _MAX_AGE.search(cache_control.lower())
    seconds = float(found.group(1)) if found else 3600.0
    return min(max(seconds, 300.0), 86400.0)


def _client_of(url: str, body: bytes) -> Client:
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise OAuthError("invalid_client", "the client metadata document is not JSON") from None
    if not isinstance(document, dict):
        raise OAuthError("invalid_client", "the client metadata document is not a JSON object")
    if document.get("client_id") != url:
        raise OAuthError("invalid_client", "the document's client_id is not its own URL")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise OAuthError(
            "invalid_client", "a metadata-document client must use token_endpoint_auth_method none"
        )
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or len(uris) > 10:
        raise OAuthError("invalid_client", "the document must list 1 to 10 redirect_uris")
    try:
        redirect_uris = tuple(validate_redirect_uri(u) for u in uris)
    except OAuthError as exc:
        raise OAuthError("invalid_client", exc.description) from None
    raw_name = document.get("client_name")
    name = None
    if isinstance(raw_name, str):
        name = "".join(ch for ch in raw_name if ch.isprintable())[:100] or None
    uri = document.get("client_uri")
    return Client(
        client_id=url,
        redirect_uris=redirect_uris,
        name=name,
        client_uri=uri if isinstance(uri, str) and len(uri) <= 2000 else None,
        document=True,
    )
