"""From the tools' JSON Schemas to OpenAPI schema objects.

Two jobs. :class:`Components` hoists every schema's ``$defs`` into one shared
``components/schemas`` and rewrites the ``$ref`` s to point there (a model used by several
tools is listed once; two different models that share a name get distinct names). And
:func:`to_openapi_30` turns a JSON Schema 2020-12 object (what pydantic writes, and what
OpenAPI 3.1 takes as it is) into an OpenAPI 3.0 schema object: ``nullable`` instead of
``null`` types, ``enum`` for ``const``, ``allOf`` around a ``$ref`` that has siblings, boolean
``exclusiveMinimum``, no 2020-12-only keywords. The tools' own schemas are never changed:
everything here returns new objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["COMPONENT_PREFIX", "Components", "cut_descriptions", "local_refs", "to_openapi_30"]

COMPONENT_PREFIX = "#/components/schemas/"

_DEF_PREFIXES = ("#/$defs/", "#/definitions/")
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]")


def _component_name(name: str) -> str:
    """A name valid as a key of ``components/schemas`` (``^[a-zA-Z0-9._-]+$``)."""
    return _NAME_BAD.sub("_", name) or "Schema"


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def local_refs(node: Any) -> set[str]:
    """The local definition names (``#/$defs/X`` -> ``X``) a schema refers to."""
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                for prefix in _DEF_PREFIXES:
                    if ref.startswith(prefix):
                        found.add(ref[len(prefix) :])
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return found


def _rewrite(node: Any, names: dict[str, str]) -> Any:
    """A copy of ``node`` with local refs (and discriminator mappings) pointing at components."""

    def target(ref: str) -> str:
        for prefix in _DEF_PREFIXES:
            if ref.startswith(prefix):
                local = ref[len(prefix) :]
                if local in names:
                    return COMPONENT_PREFIX + names[local]
        return ref

    if isinstance(node, list):
        return [_rewrite(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = target(value)
        elif key == "discriminator" and isinstance(value, dict) and isinstance(value.get("mapping"), dict):
            mapping = {k: target(v) if isinstance(v, str) else v for k, v in value["mapping"].items()}
            out[key] = {**value, "mapping": mapping}
        elif key in ("properties", "patternProperties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _rewrite(v, names) for k, v in value.items()}
        else:
            out[key] = _rewrite(value, names)
    return out


class Components:
    """The shared ``components/schemas`` of one document, filled schema by schema."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._origin: dict[str, tuple[bytes, dict[str, str]]] = {}
        """Per component: the body it was made from (local refs) and its namespace's names."""

    def _fresh(self, base: str, taken: set[str]) -> str:
        name, n = base, 1
        while name in self.schemas or name in taken:
            n += 1
            name = f"{base}_{n}"
        return name

    def add(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` without its ``$defs``, its refs pointing into these components."""
        defs: dict[str, Any] = {}
        for key in ("$defs", "definitions"):
            value = schema.get(key)
            if isinstance(value, dict):
                defs.update(value)
        root = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
        if not defs:
            return dict(_rewrite(root, {}))
        bodies = {local: _canonical(body) for local, body in defs.items()}
        names: dict[str, str] = {}
        shared: set[str] = set()
        for local in defs:
            base = _component_name(local)
            origin = self._origin.get(base)
            if origin is not None and origin[0] == bodies[local] and base not in names.values():
                names[local] = base
                shared.add(local)
            else:
                names[local] = self._fresh(base, set(names.values()))
        # A body may be shared only if everything it refers to resolves as it did for its creator.
        changed = True
        while changed:
            changed = False
            for local in sorted(shared):
                creator = self._origin[names[local]][1]
                if any(names.get(ref) != creator.get(ref) for ref in local_refs(defs[local])):
                    shared.discard(local)
                    taken = {v for k, v in names.items() if k != local}
                    names[local] = self._fresh(_component_name(local), taken)
                    changed = True
        for local, body in defs.items():
            if local in shared:
                continue
            name = names[local]
            self.schemas[name] = _rewrite(body, names)
            self._origin[name] = (bodies[local], dict(names))
        return dict(_rewrite(root, names))

    def put(self, name: str, schema: dict[str, Any]) -> str:
        """Add a fixed schema (nbmcp's own shapes) under ``name``, or a fresh name if taken.

        Returns:
            Its ``$ref``.
        """
        name = self._fresh(name, set())
        self.schemas[name] = schema
        return COMPONENT_PREFIX + name

    def map(self, fn: Callable[[Any], Any]) -> None:
        """Apply ``fn`` to every component schema (e.g. :func:`to_openapi_30`)."""
        self.schemas = {name: fn(body) for name, body in self.schemas.items()}


def cut_descriptions(
    node: Any, limit: int, cut: Callable[[str, int], str], on_cut: Callable[[str], None]
) -> Any:
    """A copy of ``node`` with every schema ``description`` longer than ``limit`` cut.

    ``on_cut`` is told the path (``properties.city``) of each description it cut.
    """

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(item)]
        if not isinstance(item, dict):
            return item
        out: dict[str, Any] = {}
        for key, value in item.items():
            here = f"{path}.{key}" if path else key
            if key == "description" and isinstance(value, str) and len(value) > limit:
                out[key] = cut(value, limit)
                on_cut(path or "(root)")
            elif key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(
                value, dict
            ):
                out[key] = {k: walk(v, f"{here}.{k}") for k, v in value.items()}
            elif key in ("default", "enum", "const", "examples", "example"):
                out[key] = value
            else:
                out[key] = walk(value, here)
        return out

    return walk(node, "")


# -- OpenAPI 3.0 -------------------------------------------------------------------------

_DROP_30 = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$dynamicRef",
        "$dynamicAnchor",
        "$defs",
        "definitions",
        "contentMediaType",
        "contentSchema",
        "dependentRequired",
        "dependentSchemas",
        "if",
        "then",
        "else",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "contains",
        "minContains",
        "maxContains",
        "patternProperties",
    }
)

NULL_30: dict[str, Any] = {"type": "string", "nullable": True, "enum": [None]}
"""The 3.0 way to say "exactly null" (``nullable`` only counts next to an explicit ``type``)."""


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "null" or (schema.get("nullable") is True and schema.get("enum") == [None])
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dedupe(schemas: list[Any]) -> list[Any]:
    seen: set[bytes] = set()
    out = []
    for schema in schemas:
        key = _canonical(schema)
        if key not in seen:
            seen.add(key)
            out.append(schema)
    return out


def to_openapi_30(schema: Any) -> Any:
    """One JSON Schema 2020-12 object as an OpenAPI 3.0 schema object (a new object)."""
    if schema is True:
        return {}
    if schema is False:
        return {"not": {}}
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "contentEncoding":
            if value == "base64":
                out.setdefault("format", "byte")
        elif key in _DROP_30:
            continue
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: to_openapi_30(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            if key == "items" and value is False:
                continue
            out[key] = (
                to_openapi_30(value) if (key != "additionalProperties" or isinstance(value, dict)) else value
            )
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [to_openapi_30(sub) for sub in value]
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples":
            if isinstance(value, list) and value:
                out.setdefault("example", value[0])
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and _is_number(value):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound] = value
            out[key] = True
        elif key == "prefixItems" and isinstance(value, list):
            items = _dedupe([to_openapi_30(sub) for sub in value])
            if items and "items" not in schema:
                out["items"] = items[0] if len(items) == 1 else {"anyOf": items}
        else:
            out[key] = value
    _nullability(out)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}, *out.get("allOf", [])]
    return out


def _nullability(out: dict[str, Any]) -> None:
    """Turn ``null`` types and ``null`` branches into 3.0's ``nullable``, in place."""
    kind = out.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        if len(rest) < len(kind):
            out["nullable"] = True
        if len(rest) == 1:
            out["type"] = rest[0]
        else:
            del out["type"]
            if rest:
                out.setdefault("anyOf", [{"type": k} for k in rest])
            else:
                out.update(NULL_30)
    elif kind == "null":
        out.update(NULL_30)
    for combinator in ("anyOf", "oneOf"):
        branches = out.get(combinator)
        if not isinstance(branches, list) or not any(_is_null(b) for b in branches):
            continue
        rest = [b for b in branches if not _is_null(b)]
        single = rest[0] if len(rest) == 1 else None
        others = [c for c in ("anyOf", "oneOf", "allOf") if c != combinator and c in out]
        if single is not None and "$ref" not in single and "type" in single and not others:
            del out[combinator]
            for k, v in single.items():
                out.setdefault(k, v)
            out["nullable"] = True
        else:
            out[combinator] = [*rest, dict(NULL_30)]
    enum = out.get("enum")
    if out.get("nullable") is True and isinstance(enum, list) and None not in enum:
        out["enum"] = [*enum, None]
    elif isinstance(enum, list) and None in enum and "type" in out:
        out["nullable"] = True
