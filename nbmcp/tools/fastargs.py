"""A quick compiler for the common signature: plain JSON types only, no pydantic model.

Most tools take ``str``, ``int``, ``float``, ``bool``, lists and dicts of those, ``Optional``
and ``Literal``. For such a signature the validator and JSON Schema are built straight from
pydantic-core schemas, in microseconds; the validator returns the keyword arguments as a
dict. Anything else returns ``None`` and goes through the full pydantic path in
:mod:`nbmcp.tools.schema`, which gives the same schema and the same error messages.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

from pydantic_core import CoreSchema, SchemaValidator
from pydantic_core import core_schema as cs

__all__ = ["SimpleParam", "compile_simple"]

SimpleParam = tuple[str, Any, Any, "str | None"]
"""``(name, annotation, default or ..., description)``."""

_SCALARS: dict[Any, tuple[Any, dict[str, Any]]] = {
    int: (cs.int_schema, {"type": "integer"}),
    float: (cs.float_schema, {"type": "number"}),
    str: (cs.str_schema, {"type": "string"}),
    bool: (cs.bool_schema, {"type": "boolean"}),
}
_DEFAULT_TYPES = (int, float, str, bool, type(None))


def _type(annotation: Any) -> tuple[CoreSchema, dict[str, Any]] | None:
    """Core schema and JSON Schema for a plain annotation, or ``None`` if it is not plain."""
    if annotation is Any:
        return cs.any_schema(), {}
    scalar = _SCALARS.get(annotation)
    if scalar is not None:
        return scalar[0](), dict(scalar[1])
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list and len(args) == 1:
        item = _type(args[0])
        if item is None:
            return None
        return cs.list_schema(item[0]), {"items": item[1], "type": "array"}
    if origin is dict and len(args) == 2 and args[0] is str:
        value = _type(args[1])
        if value is None:
            return None
        return cs.dict_schema(cs.str_schema(), value[0]), {"additionalProperties": value[1], "type": "object"}
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _type(next(a for a in args if a is not type(None)))
        if inner is None or not inner[1]:
            return None
        return cs.nullable_schema(inner[0]), {"anyOf": [inner[1], {"type": "null"}]}
    if origin is Literal and args:
        if all(type(a) is str for a in args):
            kind = "string"
        elif all(type(a) is int for a in args):
            kind = "integer"
        else:
            return None
        values = list(args)
        return cs.literal_schema(values), {"enum": values, "type": kind}
    return None


def compile_simple(params: Sequence[SimpleParam]) -> tuple[SchemaValidator, dict[str, Any]] | None:
    """The dict-returning validator and the input schema, or ``None`` for non-plain signatures."""
    fields: dict[str, cs.TypedDictField] = {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, annotation, default, description in params:
        compiled = _type(annotation)
        if compiled is None:
            return None
        core, schema = compiled
        if default is not ...:
            if type(default) not in _DEFAULT_TYPES:
                return None
            core = cs.with_default_schema(core, default=default)
            schema = {"default": default, **schema}
        else:
            required.append(name)
        if description:
            schema = {**schema, "description": description}
        fields[name] = cs.typed_dict_field(core, required=default is ...)
        properties[name] = schema
    validator = SchemaValidator(cs.typed_dict_schema(fields, extra_behavior="forbid", total=True))
    result: dict[str, Any] = {"additionalProperties": False, "properties": properties}
    if required:
        result["required"] = required
    result["type"] = "object"
    return validator, result
