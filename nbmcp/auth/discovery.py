"""Finding an outside issuer's documents: URL rules, where its metadata lives, a bounded fetch.

Used by :class:`~nbmcp.auth.issuer.OAuthIssuer`. Every fetch is HTTPS (plain HTTP only for
an issuer on this machine, for tests), follows no redirect, reads at most ``max_bytes`` and
gives up after ``timeout`` seconds overall; any failure is one :class:`IssuerError` line.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from nbmcp.config import is_loopback
from nbmcp.errors import NbmcpError

__all__ = ["DISCOVERY", "IssuerError", "check_url", "discover", "fetch_json", "metadata_urls"]

DISCOVERY = ("openid-configuration", "oauth-authorization-server")
"""The well-known metadata documents tried, in this order."""


class IssuerError(NbmcpError, ValueError):
    """The issuer is misconfigured or cannot be reached: its URL, metadata or JWKS."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        raise IssuerError("the issuer answered with a redirect (not followed)")


def check_url(url: str, what: str, *, allow_http: bool) -> str:
    """``url`` if it is https (or http to a loopback host when ``allow_http``), else :class:`IssuerError`."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and allow_http and is_loopback(parts.hostname):
        return url
    raise IssuerError(f"{what} must be an https:// URL (http:// only on this machine), not {url!r}")


def fetch_json(url: str, *, timeout: float, max_bytes: int) -> dict[str, Any]:
    """GET ``url`` and parse its JSON object: no redirects, ``max_bytes`` at most, ``timeout`` overall.

    Raises:
        IssuerError: any failure, in one line (status, size, time, not JSON).
    """
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "nbmcp"})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = response.read(min(65536, max_bytes + 1 - size))
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise IssuerError(f"{url}: the answer is larger than {max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise IssuerError(f"{url}: no complete answer within {timeout:g} s")
                chunks.append(chunk)
    except IssuerError:
        raise
    except urllib.error.HTTPError as exc:
        raise IssuerError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise IssuerError(f"{url}: {reason}") from None
    try:
        document = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        raise IssuerError(f"{url}: not JSON") from None
    if not isinstance(document, dict):
        raise IssuerError(f"{url}: not a JSON object")
    return document


def metadata_urls(issuer: str, kinds: Sequence[str] = DISCOVERY) -> list[str]:
    """Where an issuer's metadata is: OIDC's path-appended form, RFC 8414's path-inserted one."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    urls = {
        "openid-configuration": f"{origin}{path}/.well-known/openid-configuration",
        "oauth-authorization-server": f"{origin}/.well-known/oauth-authorization-server{path}",
    }
    return [urls[name] for name in kinds if name in urls]


def discover(
    issuer: str, kinds: Sequence[str] = DISCOVERY, *, timeout: float, max_bytes: int
) -> dict[str, Any]:
    """The first usable metadata document of ``issuer`` among ``kinds``.

    Usable: it names this issuer (a trailing slash aside; its own spelling is kept in
    ``issuer``) and a ``jwks_uri`` that is https (http only for an issuer on this machine).

    Raises:
        IssuerError: none is usable; the message lists why for each URL tried.
    """
    errors: list[str] = []
    allow_http = urlsplit(issuer).scheme == "http"
    for url in metadata_urls(issuer, kinds):
        try:
            document = fetch_json(url, timeout=timeout, max_bytes=max_bytes)
        except IssuerError as exc:
            errors.append(str(exc))
            continue
        named = document.get("issuer")
        if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
            errors.append(f"{url}: names the issuer {named!r}, not {issuer!r}")
            continue
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            errors.append(f"{url}: no jwks_uri")
            continue
        check_url(jwks_uri, "the issuer's jwks_uri", allow_http=allow_http)
        return document
    raise IssuerError("no usable metadata: " + "; ".join(errors or ["no discovery document to try"]))
