"""What of a call record may be shown or stored: secrets redacted, big values cut.

Arguments can hold credentials and personal data, and call records end up in a journal file, a
JSON-lines log and the notebook's dashboard. So before a record leaves memory:

* **An argument whose name looks secret has its value replaced by ``"***"``**, at any depth
  (inside nested objects and lists too). A name looks secret when, lower-cased with ``_``,
  ``-`` and spaces removed, it contains ``password``, ``passwd``, ``passphrase``, ``secret``,
  ``credential``, ``authorization``, ``apikey``, ``accesskey``, ``privatekey`` or ``cookie``,
  ends in ``token``, ``key``, ``pwd`` or ``auth``, or is ``pin``/``otp``: so ``api_key``,
  ``X-Api-Key``, ``accessToken``, ``client_secret``, ``password`` and ``key`` are redacted,
  ``max_tokens``, ``keyword`` and ``author`` are not.
* **A string that looks like a bearer credential is redacted whatever its name**: a JWT
  (``eyJ...``, three dot-separated base64url parts) or a ``Bearer ...`` header value.
* **The server's own secrets never appear**: an argument value equal to one of its API keys is
  redacted, and any of its keys found inside a value, the error, the summary or the captured
  output is replaced by ``***`` (keys shorter than :data:`MIN_SCRUBBED` characters only when
  they are the whole value: shorter ones would match ordinary text).
* **Big values are cut with a marker.** The journal and the log keep arguments whole up to
  :data:`JOURNAL_LIMIT` bytes of JSON (64 KiB); past that, the arguments are replaced by
  ``{"$truncated": {"bytes": N}, "head": "<the first 64 KiB of their JSON>"}``, and the output,
  summary or error are cut to 64 KiB characters ending in ``…[cut: N more characters]``.
  Views cut further with :func:`for_display`.

Redaction changes only what is shown or stored: the tool itself gets its arguments as sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson

__all__ = [
    "CREDENTIAL_PREFIXES",
    "DISPLAY_CHARS",
    "JOURNAL_LIMIT",
    "MIN_SCRUBBED",
    "PLAIN_VALUES",
    "REDACTED",
    "TRUNCATED",
    "cut_record",
    "cut_text",
    "dumps",
    "for_display",
    "is_secret_name",
    "redact_arguments",
    "scrub",
]

REDACTED = "***"
"""What a redacted value is shown as."""

JOURNAL_LIMIT = 64 * 1024
"""Bytes of JSON arguments (and characters of output, summary, error) kept whole in the journal and log."""

DISPLAY_CHARS = 2000
"""Characters of one string :func:`for_display` keeps."""

MIN_SCRUBBED = 6
"""A server key is replaced inside longer text only from this length on."""

TRUNCATED = "$truncated"
"""The key that marks cut arguments: ``{"$truncated": {"bytes": N}, "head": "..."}``."""

_CONTAINS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "credential",
    "authorization",
    "apikey",
    "accesskey",
    "privatekey",
    "cookie",
)
_ENDS = ("token", "key", "pwd", "auth")
_EXACT = frozenset({"pin", "otp"})
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = ("bearer ", "Bearer ", "BEARER ")
CREDENTIAL_PREFIXES = (*_BEARER, "eyJ")
"""How strings that may be credentials begin (a bearer header value, a JWT)."""
_NAMES: dict[Any, bool] = {}
PLAIN_VALUES = frozenset({int, float, bool, type(None)})
"""Value types with nothing in them to redact."""
_NAMES_KEPT = 4096


def dumps(value: Any, *, newline: bool = False) -> bytes:
    """``value`` as compact UTF-8 JSON; what JSON cannot hold is written as ``str()`` of it.

    orjson, but for integers past 64 bits (a notebook may pass any Python value), which fall
    back to the standard library so that no record is ever lost to its encoding.
    """
    try:
        return orjson.dumps(value, default=str, option=_NEWLINE if newline else orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        text = json.dumps(value, default=_text, ensure_ascii=False, separators=(",", ":"), skipkeys=True)
        return (text + "\n" if newline else text).encode("utf-8", errors="replace")


_NEWLINE = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def _text(value: Any) -> str:
    """What the standard library's encoder writes for a value JSON has no type for (as orjson does)."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def is_secret_name(name: str) -> bool:
    """Whether an argument called ``name`` holds a secret (the rule in this module's docstring)."""
    known = _NAMES.get(name)
    if known is not None:
        return known
    flat = re.sub(r"[\s_\-.]", "", name.lower())
    secret = flat in _EXACT or flat.endswith(_ENDS) or any(word in flat for word in _CONTAINS)
    if len(_NAMES) < _NAMES_KEPT:  # names repeat call after call: decide each once
        _NAMES[name] = secret
    return secret


def _looks_like_credential(text: str) -> bool:
    return text.startswith(_BEARER) or (text.startswith("eyJ") and _JWT.fullmatch(text) is not None)


def _string(text: str, secrets: Collection[str]) -> str:
    if _looks_like_credential(text):
        return REDACTED
    for secret in secrets:
        if secret == text or (len(secret) >= MIN_SCRUBBED and secret in text):
            return REDACTED
    return text


def _redact(value: Any, secrets: Collection[str]) -> Any:
    """``value`` with its secrets redacted; the very same object when there was nothing to redact."""
    if isinstance(value, str):
        return _string(value, secrets) if len(value) >= 3 else value
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            secret = _NAMES.get(key)
            if secret is None:
                secret = isinstance(key, str) and is_secret_name(key)
            if secret:
                new = REDACTED
            elif item.__class__ in PLAIN_VALUES:  # numbers, booleans, null: nothing to look at
                continue
            else:
                new = _redact(item, secrets)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list | tuple):
        items = [_redact(item, secrets) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def redact_arguments(arguments: dict[str, Any], secrets: Collection[str] = ()) -> dict[str, Any]:
    """``arguments`` as they may be shown or stored (a copy only when something was redacted).

    Args:
        arguments: A call's arguments.
        secrets: The server's own keys (redacted wherever they appear).
    """
    shown: dict[str, Any] = _redact(arguments, secrets)
    return shown


def scrub(text: str, secrets: Collection[str]) -> str:
    """``text`` with each of ``secrets`` (long enough to be told from ordinary words) replaced by ``***``."""
    for secret in secrets:
        if len(secret) >= MIN_SCRUBBED and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def cut_text(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with a marker saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[cut: {len(text) - limit} more characters]"


def cut_record(shown: dict[str, Any], limit: int = JOURNAL_LIMIT) -> dict[str, Any]:
    """A record's dict (:meth:`~nbmcp.monitor.records.CallRecord.to_dict`) with big values cut.

    Arguments over ``limit`` bytes of JSON become ``{"$truncated": {"bytes": N}, "head": ...}``;
    the output, summary and error are cut to ``limit`` characters (see :func:`cut_text`).
    """
    out = dict(shown)
    encoded = dumps(shown.get("arguments"))
    if len(encoded) > limit:
        head = encoded[:limit].decode("utf-8", errors="ignore")
        out["arguments"] = {TRUNCATED: {"bytes": len(encoded)}, "head": head}
    for field in ("output", "summary", "error"):
        value = out.get(field)
        if isinstance(value, str):
            out[field] = cut_text(value, limit)
    return out


def for_display(value: Any, max_chars: int = DISPLAY_CHARS, max_items: int = 100, depth: int = 6) -> Any:
    """``value`` small enough for a feed or a widget: long strings cut, long lists and objects
    shortened (a ``"…"`` entry says how many were left out), deep nesting elided."""
    if isinstance(value, str):
        return cut_text(value, max_chars)
    if depth <= 0 and isinstance(value, dict | list | tuple):
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        shown = {k: for_display(v, max_chars, max_items, depth - 1) for k, v in items[:max_items]}
        if len(items) > max_items:
            shown["…"] = f"{len(items) - max_items} more"
        return shown
    if isinstance(value, list | tuple):
        kept = [for_display(v, max_chars, max_items, depth - 1) for v in value[:max_items]]
        if len(value) > max_items:
            kept.append(f"… {len(value) - max_items} more")
        return kept
    return value
