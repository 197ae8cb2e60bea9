"""Small checks of the authorization flow: PKCE S256, ``resource`` URLs, redirect queries."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

__all__ = ["CHALLENGE", "VERIFIER", "add_query", "resource_ok", "s256"]

CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
"""An S256 ``code_challenge``: the base64url SHA-256 of the verifier, unpadded."""
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
"""A ``code_verifier`` (RFC 7636 4.1)."""


def add_query(uri: str, params: Mapping[str, str | None]) -> str:
    """``uri`` with ``params`` appended to its query (``None`` values left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def s256(verifier: str) -> str:
    """The S256 challenge of ``verifier``."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def resource_ok(resource: str, issuer: str) -> bool:
    """Whether ``resource`` is a URL under this server (``issuer``), without a fragment."""
    try:
        parts, base = urlsplit(resource), urlsplit(issuer)
    except ValueError:
        return False
    if parts.fragment or (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return False
    return parts.path == base.path or parts.path.startswith(base.path.rstrip("/") + "/")
