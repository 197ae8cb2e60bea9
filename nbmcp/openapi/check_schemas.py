"""The checker's schema rules: what ChatGPT makes of request schemas, ``$ref`` s, and the dialect.

Used by :mod:`nbmcp.openapi.check`; each rule reports through the checker it is given.
"""

from __future__ import annotations

from typing import Any, Protocol

from nbmcp.openapi.findings import Severity
from nbmcp.openapi.limits import MAX_PARAMETER_DESCRIPTION

__all__ = ["Reporter", "dialect", "refs", "request_schema"]

_IGNORED = {
    "prefixItems": "a fixed-length tuple (prefixItems)",
    "not": "'not'",
    "if": "'if/then/else'",
    "patternProperties": "'patternProperties'",
    "dependentSchemas": "'dependentSchemas'",
    "dependentRequired": "'dependentRequired'",
    "unevaluatedProperties": "'unevaluatedProperties'",
    "unevaluatedItems": "'unevaluatedItems'",
    "contains": "'contains'",
    "propertyNames": "'propertyNames'",
    "$dynamicRef": "'$dynamicRef'",
}
_ONLY_31 = (
    "const",
    "prefixItems",
    "$defs",
    "examples",
    "contentEncoding",
    "contentMediaType",
    "if",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "$schema",
    "$id",
    "$anchor",
    "$dynamicRef",
)


class Reporter(Protocol):
    """What a rule needs from the checker."""

    doc: dict[str, Any]
    v30: bool
    walked: set[str]

    def add(self, severity: Severity, code: str, where: str, message: str) -> None: ...

    def resolve(self, node: dict[str, Any]) -> Any: ...


def request_schema(ck: Reporter, schema: Any, where: str, path: str) -> None:
    """What ChatGPT makes of a schema it turns into function parameters."""
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            request_schema(ck, item, where, f"{path}[{i}]")
        return
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref not in ck.walked:
        ck.walked.add(ref)
        target = ck.resolve(schema)
        if target is not None:
            request_schema(ck, target, where, ref[2:].replace("/", "."))
    text = schema.get("description")
    if isinstance(text, str) and len(text) > MAX_PARAMETER_DESCRIPTION:
        ck.add(
            "error",
            "parameter-description-length",
            f"{where}: {path}",
            f"a parameter description is {len(text)} characters; ChatGPT allows at most "
            f"{MAX_PARAMETER_DESCRIPTION}: shorten it (for a tool, the argument's entry in the docstring)",
        )
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and "items" not in schema and "prefixItems" not in schema:
        ck.add(
            "error",
            "array-without-items",
            f"{where}: {path}",
            "an array schema has no 'items': ChatGPT rejects it ('array schema missing items'); "
            "type the list, e.g. list[str]",
        )
    if "object" in kinds and "properties" not in schema and schema.get("additionalProperties") is not False:
        ck.add(
            "warning",
            "object-without-properties",
            f"{where}: {path}",
            "an object schema has no 'properties': ChatGPT warns 'object schema missing properties' and "
            "the model is not told which keys to send; use a model (pydantic, TypedDict, dataclass) "
            "instead of a plain dict",
        )
    for key, what in _IGNORED.items():
        if key in schema:
            ck.add(
                "warning",
                "unsupported-schema",
                f"{where}: {path}",
                f"ChatGPT does not understand {what} in a request schema, so the model is not told "
                "this constraint (the server still enforces it); prefer a plain list or a model",
            )
    for key in ("properties", "$defs"):
        children = schema.get(key)
        if isinstance(children, dict):
            for name, child in children.items():
                request_schema(ck, child, where, f"{path}.{key}.{name}")
    for key in ("items", "additionalProperties", "not", "prefixItems", "anyOf", "oneOf", "allOf"):
        if key in schema:
            request_schema(ck, schema[key], where, f"{path}.{key}")


def refs(ck: Reporter, node: Any, path: str) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            refs(ck, item, f"{path}[{i}]")
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                ck.add(
                    "error",
                    "external-ref",
                    path or "(root)",
                    f"$ref {ref!r} points outside the document: ChatGPT cannot fetch it; inline it "
                    "under components",
                )
            elif ck.resolve(node) is None:
                ck.add("error", "unresolved-ref", path or "(root)", f"$ref {ref!r} points at nothing")
        for key, value in node.items():
            if key not in ("enum", "default", "example", "examples", "const"):
                refs(ck, value, f"{path}.{key}" if path else key)


def dialect(ck: Reporter) -> None:
    """Keywords the declared OpenAPI version does not have."""
    seen: set[str] = set()

    def walk(node: Any, path: str, in_schema: bool) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]", in_schema)
            return
        if not isinstance(node, dict):
            return
        if in_schema:
            kind = node.get("type")
            bad = None
            if ck.v30:
                bad = next((k for k in _ONLY_31 if k in node), None)
                if bad is None and (isinstance(kind, list) or kind == "null"):
                    bad = f"type {kind!r}"
            elif "nullable" in node:
                bad = "nullable"
            if bad is not None and bad not in seen:
                seen.add(bad)
                if ck.v30:
                    message = (
                        f"{bad} is not OpenAPI 3.0 (it is 3.1 / JSON Schema 2020-12): "
                        "convert it or declare 3.1.0"
                    )
                else:
                    message = (
                        "nullable is OpenAPI 3.0: in 3.1 write type: [X, 'null'] or anyOf with {type: 'null'}"
                    )
                ck.add("error" if ck.v30 else "warning", "dialect", path, message)
        for key, value in node.items():
            if key in ("enum", "default", "example", "examples", "const"):
                continue
            child_in_schema = key in ("schema", "items", "additionalProperties", "not") or (
                in_schema and key in ("properties", "anyOf", "oneOf", "allOf", "prefixItems", "$defs")
            )
            if key == "schemas" and path == "components":
                for name, sub in (value or {}).items() if isinstance(value, dict) else []:
                    walk(sub, f"components.schemas.{name}", True)
                continue
            if in_schema and key in ("properties", "$defs") and isinstance(value, dict):
                for name, sub in value.items():
                    walk(sub, f"{path}.{key}.{name}", True)
                continue
            walk(value, f"{path}.{key}" if path else key, child_in_schema)

    walk(ck.doc, "", False)
