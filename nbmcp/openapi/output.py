"""The schema as text: JSON (pretty or compact) or YAML, with no YAML library needed.

The YAML writer covers exactly what a schema holds (dicts, lists, strings, numbers, booleans,
null). Strings are plain when that is unambiguous, block literals when they span lines, and
double-quoted (with JSON escapes, which YAML shares) otherwise, so any YAML parser reads back
the same data.
"""

from __future__ import annotations

import importlib
import math
import re
from pathlib import Path
from typing import Any

import orjson

from nbmcp.errors import SchemaError

__all__ = ["FORMATS", "dumps", "load_document", "to_yaml"]

FORMATS = ("json", "yaml")

_PLAIN = re.compile(r"^[A-Za-z_$/][A-Za-z0-9 _$./()+,-]*$")
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")
"""Not printable in YAML, or a line break to YAML 1.1 (NEL, LS, PS): escaped in quotes."""
_RESERVED = frozenset(
    {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~", ".nan", ".inf", "-.inf"}
)


def dumps(doc: Any, fmt: str = "json", *, pretty: bool = True) -> str:
    """``doc`` as ``"json"`` or ``"yaml"`` text (ending with a newline when pretty)."""
    if fmt == "yaml":
        return to_yaml(doc)
    if fmt != "json":
        raise ValueError(f"unknown format {fmt!r}; use json or yaml")
    if not pretty:
        return orjson.dumps(doc).decode()
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n"


def load_document(path: str | Path) -> Any:
    """A schema file read back: JSON, or YAML when PyYAML is installed.

    Raises:
        SchemaError: unreadable, not JSON/YAML, or YAML without PyYAML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SchemaError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            yaml = importlib.import_module("yaml")  # optional: PyYAML
        except ImportError:
            raise SchemaError("reading YAML needs PyYAML (pip install pyyaml); or give the JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SchemaError(f"{path} is not valid YAML: {exc}") from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise SchemaError(f"{path} is not valid JSON: {exc}") from None


def _quoted(text: str) -> str:
    """A double-quoted scalar: JSON's escapes, plus the characters YAML may not hold raw."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", orjson.dumps(text).decode())


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("a schema cannot hold NaN or infinity")
        text = repr(value)  # a dot and a signed exponent: a float to YAML 1.1 and 1.2 alike
        if "e" in text:
            mantissa, exponent = text.split("e")
            mantissa += "" if "." in mantissa else ".0"
            return f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"
        return text
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text.lower() not in _RESERVED
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
    ):
        return text
    return _quoted(text)


def _block(text: str, indent: str) -> str | None:
    """``text`` as a ``|`` block scalar, or ``None`` when a block cannot hold it exactly."""
    if "\n" not in text or "\r" in text or "\t" in text or text.startswith((" ", "\n")):
        return None
    body = text[:-1] if text.endswith("\n") else text
    if body.endswith("\n") or any(line != line.rstrip() for line in body.split("\n")):
        return None
    if any(not ch.isprintable() for ch in body.replace("\n", "")):
        return None
    header = "|" if text.endswith("\n") else "|-"
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    return header + "\n" + "\n".join(lines)


def _lines(value: Any, indent: str, out: list[str], prefix: str) -> None:
    """Append ``value`` to ``out``; ``prefix`` is what precedes it on its first line."""
    if isinstance(value, dict):
        if not value:
            out.append(f"{prefix}{{}}")
            return
        first = True
        for key, item in value.items():
            lead = prefix if first else indent
            first = False
            _entry(f"{lead}{_scalar(str(key))}:", item, indent, out)
        return
    if isinstance(value, (list, tuple)):
        if not value:
            out.append(f"{prefix}[]")
            return
        first = True
        for item in value:
            lead = prefix if first else indent
            first = False
            _lines(item, indent + "  ", out, f"{lead}- ")
        return
    if isinstance(value, str):
        block = _block(value, indent + "  ")
        if block is not None:
            out.append(f"{prefix}{block}")
            return
    out.append(f"{prefix}{_scalar(value)}")


def _entry(head: str, item: Any, indent: str, out: list[str]) -> None:
    if isinstance(item, (dict, list, tuple)) and item:
        out.append(head)
        _lines(item, indent + "  ", out, indent + "  ")
    elif isinstance(item, dict):
        out.append(f"{head} {{}}")
    elif isinstance(item, (list, tuple)):
        out.append(f"{head} []")
    else:
        block = _block(item, indent + "  ") if isinstance(item, str) else None
        out.append(f"{head} {block if block is not None else _scalar(item)}")


def to_yaml(doc: Any) -> str:
    """``doc`` as block-style YAML."""
    out: list[str] = []
    _lines(doc, "", out, "")
    return "\n".join(out) + "\n"
