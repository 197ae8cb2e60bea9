"""The 2026-07-28 request headers checked against the JSON-RPC body they mirror.

Streamable HTTP (transports/streamable-http §Standard Request Headers, §Custom Headers,
§Server Validation) copies body fields into headers so intermediaries can route without
reading the body: ``MCP-Protocol-Version`` (the ``_meta`` protocol version), ``Mcp-Method``,
``Mcp-Name`` (``params.name`` or ``params.uri``) and one ``Mcp-Param-{Name}`` per
``x-mcp-header`` tool parameter. If a gateway routes on the header while the server acts on
the body, the two must agree, so any disagreement, missing header, duplicate or bad byte is
refused with :class:`~nbmcp.errors.HeaderMismatch` (-32020, HTTP 400).

Pure functions over the raw ASGI header pairs (a folded dict would hide duplicates); no I/O,
no regex, no pydantic: they run on every modern ``tools/call``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from nbmcp.errors import HeaderMismatch
from nbmcp.tools.x_mcp_header import HeaderParam

__all__ = ["NAME_FIELD", "check_params", "check_standard", "decode_header_value"]

NAME_FIELD: Mapping[str, str] = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
"""The methods whose ``Mcp-Name`` header is required, and the ``params`` field it mirrors."""

_VERSION = b"mcp-protocol-version"
_METHOD = b"mcp-method"
_NAME = b"mcp-name"
_DISPLAY = {_VERSION: "MCP-Protocol-Version", _METHOD: "Mcp-Method", _NAME: "Mcp-Name"}
_PARAM_PREFIX = b"mcp-param-"

_FIELD_BYTES = bytes(range(0x20, 0x7F)) + b"\t"
"""What RFC 9110 §5.5 allows in a field value we read: visible ASCII, space and tab."""
_OWS = b" \t"

_OPEN = "=?base64?"
_CLOSE = "?="


def decode_header_value(value: str) -> str | None:
    """A header value as the body would hold it: ``=?base64?...?=`` decoded, else the literal.

    The markers are case-sensitive and the base64 must be strict and canonical (standard
    alphabet, correct padding, zero trailing bits) and decode to UTF-8; anything else inside
    the markers gives ``None``, so a corrupt header never matches a body value by chance.
    Without both markers the value is literal (``=?base64?SGk=`` stays as written).
    """
    if len(value) < 11 or not value.startswith(_OPEN) or not value.endswith(_CLOSE):
        return value
    payload = value[9:-2]
    try:
        raw = base64.b64decode(payload, validate=True)
        if base64.b64encode(raw).decode("ascii") != payload:
            return None  # non-canonical: validate=True still accepts stray trailing bits
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):  # bad alphabet or padding, non-ASCII, not UTF-8
        return None


def _text(value: bytes, shown: str) -> str:
    """A raw header value with OWS stripped, or :class:`HeaderMismatch` for bytes RFC 9110
    does not allow (CR, LF, NUL and other controls, DEL, anything beyond ASCII)."""
    if value.translate(None, _FIELD_BYTES):
        raise HeaderMismatch(f"{shown} header contains invalid characters")
    return value.strip(_OWS).decode("ascii")


def _show(value: Any) -> str:
    """``repr`` of a value for a message, cut short (headers and bodies can be long)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _plainly_equal(folded: Mapping[str, str], msg: dict[str, Any], version: str) -> bool:
    """The common case at the cost of three lookups: no header repeated (the folded dict has as
    many entries as the raw list, checked by the caller), and each standard header exactly the
    body's value in plain visible ASCII (no spaces to strip, no base64 to decode)."""
    method = msg.get("method")
    if folded.get("mcp-protocol-version") != version or folded.get("mcp-method") != method:
        return False
    name = folded.get("mcp-name")
    field = NAME_FIELD.get(method) if isinstance(method, str) else None
    if field is None:
        return name is None
    params = msg.get("params")
    return (
        isinstance(params, dict)
        and name is not None
        and name == params.get(field)
        and name.isascii()
        and name.isprintable()
        and not name.startswith(_OPEN)
        and name.strip() == name
    )


def check_standard(
    raw: Iterable[tuple[bytes, bytes]],
    msg: dict[str, Any],
    version: str,
    folded: Mapping[str, str] | None = None,
) -> None:
    """Check ``MCP-Protocol-Version``, ``Mcp-Method`` and ``Mcp-Name`` against the request.

    Args:
        raw: The ASGI ``scope["headers"]`` pairs (names in any case).
        msg: The decoded JSON-RPC request.
        version: The ``io.modelcontextprotocol/protocolVersion`` of ``params._meta``.
        folded: The same headers as a dict of lower-case names, when the caller has it: a
            request whose headers are all distinct and plainly equal to the body passes with
            three lookups instead of a scan.

    Raises:
        HeaderMismatch: one of the three appears twice; ``MCP-Protocol-Version`` or
            ``Mcp-Method`` is missing; ``Mcp-Name`` is missing for ``tools/call``,
            ``prompts/get`` or ``resources/read``; a value has invalid characters; or a value
            (OWS stripped, ``Mcp-Name`` base64-decoded) differs from the body.
    """
    if (
        folded is not None
        and isinstance(raw, list)
        and len(raw) == len(folded)
        and _plainly_equal(folded, msg, version)
    ):
        return
    found: dict[bytes, bytes] = {}
    for key, value in raw:
        if len(key) < 8 or (key[0] | 0x20) != 0x6D:  # cheap skip of everything not "m..."
            continue
        key = key.lower()
        if key in _DISPLAY:
            if key in found:
                raise HeaderMismatch(f"{_DISPLAY[key]} header appears more than once")
            found[key] = value
    _must_equal(found, _VERSION, version, "the _meta protocol version")
    method = msg.get("method")
    _must_equal(found, _METHOD, method, "the body method")
    field = NAME_FIELD.get(method) if isinstance(method, str) else None
    sent = found.get(_NAME)
    if field is None:
        if sent is not None:
            _text(sent, "Mcp-Name")  # not compared here, but a bad byte is still refused
        return
    params = msg.get("params")
    body = params.get(field) if isinstance(params, dict) else None
    if body is None:
        return  # nothing to mirror: the method itself answers -32602 for the missing field
    if sent is None:
        raise HeaderMismatch(f"Mcp-Name header required for {method} (it mirrors params.{field})")
    decoded = decode_header_value(_text(sent, "Mcp-Name"))
    if decoded is None:
        raise HeaderMismatch("Mcp-Name header holds a malformed =?base64?...?= value")
    if decoded != body:
        raise HeaderMismatch(f"Mcp-Name header {_show(decoded)} does not match params.{field} {_show(body)}")


def _must_equal(found: Mapping[bytes, bytes], name: bytes, expected: Any, what: str) -> None:
    """The header ``name`` is there and says exactly ``expected`` (``what`` names it in the refusal)."""
    display = _DISPLAY[name]
    sent = found.get(name)
    if sent is None:
        raise HeaderMismatch(f"{display} header required")
    header = _text(sent, display)
    if header != expected:
        raise HeaderMismatch(f"{display} header {_show(header)} does not match {what} {_show(expected)}")


def check_params(
    raw: Iterable[tuple[bytes, bytes]], arguments: dict[str, Any], params: tuple[HeaderParam, ...]
) -> None:
    """Check the ``Mcp-Param-*`` headers of a ``tools/call`` against its ``arguments``.

    The spec's server table: a value in the body needs its header, equal after base64
    decoding (integers compare as numbers, ``"042"`` and ``"42.0"`` match ``42``; booleans
    as ``true``/``false``); a ``null`` or absent value must come without one. Header values
    are never echoed in messages: parameters may be sensitive.

    Raises:
        HeaderMismatch: a declared header is missing, sent without a body value, repeated,
            malformed (bad bytes or base64) or different from the body.
    """
    if not params:
        return
    wanted = {p.header.encode("ascii"): p for p in params}
    sent: dict[str, bytes] = {}
    for key, value in raw:
        if len(key) <= 10 or (key[0] | 0x20) != 0x6D:
            continue
        key = key.lower()
        param = wanted.get(key)
        if param is not None:
            if param.header in sent:
                raise HeaderMismatch(f"Mcp-Param-{param.name} header appears more than once")
            sent[param.header] = value
    for param in params:
        shown = "Mcp-Param-" + param.name
        where = ".".join(param.path)
        value = _at(arguments, param.path)
        header = sent.get(param.header)
        if value is None:
            if header is not None:
                raise HeaderMismatch(f"{shown} header sent but argument {where!r} is absent or null")
            continue
        rendered = _render(value)
        if header is None:
            if rendered is None:
                continue  # no header form (an object or list): the argument check refuses it
            raise HeaderMismatch(f"{shown} header required: argument {where!r} is in the body")
        decoded = decode_header_value(_text(header, shown))
        if decoded is None:
            raise HeaderMismatch(f"{shown} header holds a malformed =?base64?...?= value")
        if rendered is None or not _same(param.type, value, rendered, decoded):
            raise HeaderMismatch(f"{shown} header does not match argument {where!r}")


def _at(arguments: Any, path: tuple[str, ...]) -> Any:
    """The value at a ``properties`` path in ``arguments``, or ``None`` where it stops."""
    node = arguments
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _render(value: Any) -> str | None:
    """The header form a client sends for ``value`` (``None``: it has none)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        try:
            return str(value)
        except ValueError:  # an int past sys.get_int_max_str_digits
            return None
    return None


def _same(kind: str, value: Any, rendered: str, decoded: str) -> bool:
    """Whether the decoded header equals the body value (numerically for integers)."""
    if decoded == rendered:
        return True
    if kind != "integer" or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not value.is_integer():
        return False
    digits = decoded[1:] if decoded[:1] == "-" else decoded
    whole, dot, fraction = digits.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (fraction.isascii() and fraction.isdigit())):
        return False  # only plain decimals compare as numbers (no "+", "1e3", "0x10", "1_0")
    if fraction.strip("0"):
        return False
    try:
        return int(decoded.partition(".")[0]) == int(value)
    except ValueError:  # past the int-from-str digit limit
        return False
