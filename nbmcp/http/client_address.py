"""The client's address: which machine a request comes from, for the per-address limits.

One rule, in one place, for every layer that counts by address (the failed-authentication
limit, the rate limit of callers without a principal, concurrent calls):

1. By default the address is the socket's peer (``scope["client"]``). ``X-Forwarded-For`` and
   its kin are ignored: any client can write them.
2. ``trust_proxy=True``: every connection comes through a proxy the operator runs. The address
   is then the right-most entry of ``forwarded_header`` (``X-Forwarded-For`` by default; RFC
   7239 ``Forwarded`` is read too) that is not a trusted proxy itself (loopback, or an address
   or network in ``trusted_proxies``). Entries left of it are the client's own word and are
   never used, so a client cannot choose its address by sending the header.
3. Published through a tunnel (``public_url`` set): the tunnel's connector runs on this
   machine, so everything it forwards arrives from loopback and the peer says nothing. A request
   from a loopback peer then takes its address from the tunnel's own forwarded-for header
   (``forwarded_header``; publishing code sets it to the header its tunnel writes, e.g.
   ``cf-connecting-ip`` for Cloudflare, and keeps the default ``x-forwarded-for`` for tunnels
   that append to it), read as in rule 2. A loopback request without that header did not come
   through the tunnel (a process on this machine) and keeps its peer address. A request from
   any other peer (a server bound to another interface as well) is rule 1: its header is ignored.

An entry that is not an IP address ends the walk: the address is then the hop that wrote it,
so garbage in a header cannot mint fresh addresses. :func:`address_key` groups IPv6 addresses
by their /64 (what one host usually holds), so rotating within it gains nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from nbmcp.config import ServerConfig
from nbmcp.http.asgi import Scope

__all__ = ["UNKNOWN", "address_key", "client_address", "parse_address"]

UNKNOWN = "unknown"
"""The address of a request whose socket peer the ASGI server did not report."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def parse_address(text: str) -> IPAddress | None:
    """An IP address from a header entry (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``"[::1]"``).

    Cached: the same few peers ask on every request (an attacker's fresh ones only churn it).
    """
    value = text.strip().strip('"').strip()
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        value = value[1:end]
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]  # an IPv6 zone says nothing about the client
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=32)
def _networks(values: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            continue  # checked when the config is built; never fail a request over it
    return tuple(networks)


def _trusted(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return address.is_loopback or any(address in network for network in networks)


def _entries(scope: Scope, header: str) -> list[str]:
    """Every value of ``header`` in order (several lines joined as one list)."""
    name = header.strip().lower().encode("latin-1")
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name]
    entries = [entry for value in values for entry in value.split(",")]
    if name != b"forwarded":
        return entries
    found: list[str] = []
    for entry in entries:  # RFC 7239: for=...;proto=...;by=...
        for pair in entry.split(";"):
            key, _, value = pair.partition("=")
            if key.strip().lower() == "for":
                found.append(value)
    return found


def _from_header(scope: Scope, config: ServerConfig, peer: str) -> str:
    entries = _entries(scope, config.forwarded_header)
    networks = _networks(tuple(config.trusted_proxies))
    last: IPAddress | None = None
    for entry in reversed(entries):
        address = parse_address(entry)
        if address is None:
            break
        if not _trusted(address, networks):
            return str(address)
        last = address
    return str(last) if last is not None else peer


def client_address(scope: Scope, config: ServerConfig) -> str:
    """The address of the client that sent this request, by the rules of this module."""
    client = scope.get("client")
    peer_text = str(client[0]) if client else ""
    parsed = parse_address(peer_text) if peer_text else None
    peer = str(parsed) if parsed is not None else (peer_text or UNKNOWN)
    if config.trust_proxy:
        return _from_header(scope, config, peer)
    if config.public_url and parsed is not None and parsed.is_loopback:
        return _from_header(scope, config, peer)
    return peer


@lru_cache(maxsize=4096)
def address_key(address: str) -> str:
    """What limits count by: the address itself, or its /64 network for IPv6."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed is not None else address
