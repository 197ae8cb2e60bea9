"""A function's signature as JSON Schema: the input model, its validator and the output shape.

Everything is built once, at registration; a call only runs the compiled pydantic-core
validator. A signature that cannot be served raises :class:`ToolDefinitionError` here,
never at call time.

Plain signatures and return types (``int``, ``str``, lists, dicts, ``Optional``, ``Literal``)
are compiled straight to pydantic-core; pydantic's model machinery (about 50 ms to import) is
imported only for the first signature that needs it, so serving a notebook's first simple
tool does not wait for it.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic_core import PydanticSerializationError, SchemaSerializer, SchemaValidator, ValidationError
from pydantic_core import core_schema as cs

from nbmcp.errors import InvalidParams, ToolDefinitionError
from nbmcp.tools.docstrings import DocInfo
from nbmcp.tools.fastargs import SimpleParam, compile_simple

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter
    from pydantic.json_schema import GenerateJsonSchema

__all__ = [
    "ArgumentSpec",
    "CoreAdapter",
    "OutputSpec",
    "build_arguments",
    "build_output",
    "format_validation_error",
]


@functools.cache
def _pydantic_bases() -> tuple[type[GenerateJsonSchema], type[BaseModel]]:
    """The strict JSON Schema generator and the base of argument models (pydantic loads now)."""
    from pydantic import BaseModel, ConfigDict
    from pydantic.json_schema import GenerateJsonSchema

    class _StrictSchema(GenerateJsonSchema):
        """Raise instead of warning: a schema that silently drops something is a bad schema."""

        def emit_warning(self, kind: Any, detail: str) -> None:
            raise ToolDefinitionError(detail)

    class _ArgsBase(BaseModel):
        model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)

    return _StrictSchema, _ArgsBase


@dataclass
class ArgumentSpec:
    """How to turn a client's ``arguments`` object into keyword arguments."""

    names: tuple[str, ...]
    """Parameter names, in signature order (the schema's property names)."""
    schema: dict[str, Any]
    context_param: str | None
    """The parameter that receives the request :class:`Context`, if any."""
    required: frozenset[str]
    descriptions: dict[str, str]
    _convert: Callable[[dict[str, Any]], dict[str, Any]]
    """Validates and returns keyword arguments; raises ``pydantic.ValidationError`` (pydantic-core's)."""

    def check(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated keyword arguments; raises ``pydantic.ValidationError`` (for callers that
        report the structured errors themselves)."""
        return self._convert(arguments)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated keyword arguments, or :class:`InvalidParams` with readable reasons."""
        try:
            return self._convert(arguments)
        except ValidationError as exc:
            raise InvalidParams(format_validation_error(exc)) from None


def _attr(index: int) -> str:
    """The model attribute of the ``index``-th parameter; the parameter's own name is the alias,
    so names such as ``json``, ``schema`` or ``model_config`` never clash with pydantic's."""
    return f"p{index}"


def _model_converter(
    model: type[BaseModel], names: tuple[str, ...]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    validate = model.__pydantic_validator__.validate_python
    attrs = tuple(zip(names, (_attr(i) for i in range(len(names))), strict=True))

    def convert(arguments: dict[str, Any]) -> dict[str, Any]:
        instance = validate(arguments)
        return {name: getattr(instance, attr) for name, attr in attrs}

    return convert


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the argument: ``city: Field required``."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        lines.append(f"{where}: {err['msg']}")
    return "Invalid arguments: " + "; ".join(lines)


def _is_context(annotation: Any, context_type: type | None) -> bool:
    if context_type is None:
        return False
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_is_context(a, context_type) for a in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, context_type)


def _has_description(annotation: Any) -> bool:
    if get_origin(annotation) is not Annotated:
        return False
    from pydantic.fields import FieldInfo

    return any(isinstance(m, FieldInfo) and m.description for m in get_args(annotation)[1:])


def _signature(fn: Any, what: str) -> inspect.Signature:
    try:
        return inspect.signature(fn, eval_str=True)
    except (NameError, TypeError, SyntaxError) as exc:
        raise ToolDefinitionError(f"{what}: cannot read the signature of {fn!r}: {exc}") from exc
    except ValueError as exc:
        raise ToolDefinitionError(f"{what}: {fn!r} has no readable signature: {exc}") from exc


def _strip_titles(schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema


def build_arguments(
    fn: Any, name: str, doc: DocInfo, context_type: type | None = None, kind: str = "tool"
) -> ArgumentSpec:
    """Compile the input model and JSON Schema of ``fn``.

    Raises:
        ToolDefinitionError: ``*args``, ``**kwargs``, positional-only or ``_private``
            parameters, or an annotation pydantic cannot turn into JSON Schema.
    """
    what = f"{kind} {name!r}"
    sig = _signature(fn, what)
    params: list[SimpleParam] = []
    context_param = None
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"{what}: parameter {param}: MCP passes arguments by name, so *args and **kwargs "
                "cannot be described; list the parameters explicitly"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise ToolDefinitionError(
                f"{what}: parameter {param.name!r} is positional-only; MCP passes arguments by name"
            )
        annotation = Any if param.annotation is inspect.Parameter.empty else param.annotation
        if _is_context(annotation, context_type):
            context_param = param.name
            continue
        if param.name.startswith("_"):
            raise ToolDefinitionError(
                f"{what}: parameter {param.name!r} starts with '_', which JSON Schema "
                "clients treat as private; rename it"
            )
        default = ... if param.default is inspect.Parameter.empty else param.default
        params.append((param.name, annotation, default, doc.params.get(param.name)))
    names = tuple(p[0] for p in params)
    required = frozenset(p[0] for p in params if p[2] is ...)
    simple = compile_simple(params)
    if simple is not None:
        validator, schema = simple
        descriptions = {p[0]: p[3] for p in params if p[3]}
        return ArgumentSpec(names, schema, context_param, required, descriptions, validator.validate_python)
    model, schema = _compile_model(params, name, what)
    descriptions = {
        n: d for n, d in ((n, s.get("description")) for n, s in schema["properties"].items()) if d
    }
    return ArgumentSpec(names, schema, context_param, required, descriptions, _model_converter(model, names))


def _compile_model(params: list[SimpleParam], name: str, what: str) -> tuple[type[BaseModel], dict[str, Any]]:
    """The full pydantic path: any annotation pydantic supports."""
    import pydantic
    from pydantic import Field

    strict_schema, args_base = _pydantic_bases()
    fields: dict[str, Any] = {}
    for index, (param_name, annotation, default, description) in enumerate(params):
        if description and not _has_description(annotation):
            annotation = Annotated[annotation, Field(description=description)]
        fields[_attr(index)] = (annotation, Field(default, alias=param_name))
    model_name = "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Tool"
    try:
        model = pydantic.create_model(f"{model_name}Arguments", __base__=args_base, **fields)
        schema = model.model_json_schema(schema_generator=strict_schema)
    except ToolDefinitionError as exc:
        raise ToolDefinitionError(f"{what}: {exc}") from None
    except (pydantic.PydanticUserError, pydantic.PydanticSchemaGenerationError, TypeError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        raise ToolDefinitionError(f"{what}: unsupported parameter type: {first}") from exc
    schema = _strip_titles(schema)
    schema.setdefault("properties", {})
    return model, schema


class CoreAdapter:
    """What :class:`pydantic.TypeAdapter` gives for a plain type (its ``validate_python`` and
    ``dump_python``), built from the same pydantic-core schema without importing pydantic."""

    __slots__ = ("_serializer", "_validator", "core_schema")

    def __init__(self, core_schema: cs.CoreSchema) -> None:
        self.core_schema = core_schema
        self._validator = SchemaValidator(core_schema)
        self._serializer = SchemaSerializer(core_schema)

    def validate_python(self, value: Any) -> Any:
        return self._validator.validate_python(value)

    def dump_python(self, value: Any, *, mode: Literal["json", "python"] = "python") -> Any:
        return self._serializer.to_python(value, mode=mode)


_PLAIN_SCALARS: dict[Any, tuple[Callable[[], cs.CoreSchema], str]] = {
    int: (cs.int_schema, "integer"),
    float: (cs.float_schema, "number"),
    str: (cs.str_schema, "string"),
    bool: (cs.bool_schema, "boolean"),
}


def _plain_output(ann: Any) -> tuple[cs.CoreSchema, dict[str, Any]] | None:
    """The pydantic-core schema and the JSON Schema (as pydantic writes it) of a plain return
    type: scalars, ``list``/``dict[str, ...]`` of plain types, ``X | None``, ``Literal`` of
    two or more strings or ints; ``None`` for anything else (pydantic then builds it)."""
    scalar = _PLAIN_SCALARS.get(ann)
    if scalar is not None:
        return scalar[0](), {"type": scalar[1]}
    if ann is list:
        return cs.list_schema(), {"items": {}, "type": "array"}
    if ann is dict:
        return cs.dict_schema(), {"additionalProperties": True, "type": "object"}
    origin, args = get_origin(ann), get_args(ann)
    if origin is list and len(args) == 1:
        if args[0] is Any:
            return cs.list_schema(cs.any_schema()), {"items": {}, "type": "array"}
        item = _plain_output(args[0])
        return None if item is None else (cs.list_schema(item[0]), {"items": item[1], "type": "array"})
    if origin is dict and len(args) == 2 and args[0] is str:
        if args[1] is Any:
            return cs.dict_schema(cs.str_schema(), cs.any_schema()), {
                "additionalProperties": True,
                "type": "object",
            }
        value = _plain_output(args[1])
        if value is None:
            return None
        return cs.dict_schema(cs.str_schema(), value[0]), {"additionalProperties": value[1], "type": "object"}
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _plain_output(next(a for a in args if a is not type(None)))
        if inner is None:
            return None
        return cs.nullable_schema(inner[0]), {"anyOf": [inner[1], {"type": "null"}]}
    if origin is Literal and len(args) >= 2 and len(set(args)) == len(args):
        if all(type(a) is str for a in args):
            kind = "string"
        elif all(type(a) is int for a in args):
            kind = "integer"
        else:
            return None
        return cs.literal_schema(list(args)), {"enum": list(args), "type": kind}
    return None


@dataclass
class OutputSpec:
    """How a return value becomes ``structuredContent``, derived from the return annotation."""

    adapter: TypeAdapter[Any] | CoreAdapter | None = None
    schema: dict[str, Any] | None = None
    wrap: bool = False
    """Non-object results travel as ``{"result": value}``."""

    def dump(self, value: Any) -> Any:
        """Check ``value`` against the annotation and turn it into JSON-ready data.

        Raises:
            ValueError: the value does not match the declared return type.
        """
        if self.adapter is None:
            raise ValueError("this tool declares no structured output")
        try:
            return self.adapter.dump_python(self.adapter.validate_python(value), mode="json")
        except ValidationError as exc:
            raise ValueError(
                "the tool returned a value that does not match its return annotation: "
                + format_validation_error(exc).removeprefix("Invalid arguments: ")
            ) from None
        except PydanticSerializationError as exc:
            raise ValueError(f"the tool's result cannot be serialised: {exc}") from None


_NO_SCHEMA = (str, bytes, bytearray, type(None))


def build_output(fn: Any, name: str) -> OutputSpec:
    """The output schema for ``fn``'s return annotation, or none when it has no JSON shape."""
    sig = _signature(fn, f"tool {name!r}")
    ann = sig.return_annotation
    if ann is inspect.Signature.empty or ann is None or ann in _NO_SCHEMA or ann is Any:
        return OutputSpec()
    plain = _plain_output(ann)
    if plain is not None:
        return _output_spec(CoreAdapter(plain[0]), plain[1])
    import pydantic

    strict_schema, _ = _pydantic_bases()
    try:
        adapter: TypeAdapter[Any] = pydantic.TypeAdapter(ann)
        schema: dict[str, Any] = adapter.json_schema(mode="serialization", schema_generator=strict_schema)
    except (
        pydantic.PydanticUserError,
        pydantic.PydanticSchemaGenerationError,
        ToolDefinitionError,
        TypeError,
    ):
        return OutputSpec()  # e.g. an image or a content list: no structured output
    return _output_spec(adapter, schema)


def _output_spec(adapter: TypeAdapter[Any] | CoreAdapter, schema: dict[str, Any]) -> OutputSpec:
    if schema.get("type") == "object" or (
        "$ref" in schema
        and schema.get("$defs", {}).get(schema["$ref"].rsplit("/", 1)[-1], {}).get("type") == "object"
    ):
        return OutputSpec(adapter=adapter, schema=_strip_titles(_inline_root(schema)), wrap=False)
    defs = schema.pop("$defs", None)
    schema.pop("title", None)
    wrapped: dict[str, Any] = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    if defs:
        wrapped["$defs"] = defs
    return OutputSpec(adapter=adapter, schema=wrapped, wrap=True)


def _inline_root(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn ``{"$ref": "#/$defs/X", "$defs": {...}}`` into X's body with the other defs kept."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    defs = dict(schema.get("$defs", {}))
    root = dict(defs.pop(ref.rsplit("/", 1)[-1]))
    if defs:
        root["$defs"] = defs
    return root
