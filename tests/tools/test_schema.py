"""Input schemas from type hints and docstrings, and the definitions that cannot be served."""

from __future__ import annotations

import enum
import threading
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from nbmcp import MCPServer, ToolDefinitionError
from nbmcp.errors import DuplicateNameError, InvalidParams


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: int
    y: int


class Address(BaseModel):
    street: str
    city: str = "Paris"


def _schema(fn: Any) -> dict[str, Any]:
    server = MCPServer("t")
    server.tool(fn)
    return server.tools[fn.__name__].args.schema


def test_every_supported_type_becomes_json_schema() -> None:
    def everything(
        i: int,
        f: float,
        s: str,
        b: bool,
        lit: Literal["a", "b"],
        color: Color,
        maybe: Optional[int],  # noqa: UP045 - testing the old spelling on purpose
        items: list[int],
        mapping: dict[str, float],
        point: Point,
        address: Address,
        described: Annotated[str, Field(description="From Field")],
        with_default: int = 3,
    ) -> None:
        """Do everything."""

    schema = _schema(everything)
    props = schema["properties"]
    assert schema["type"] == "object"
    assert schema["required"] == [
        "i", "f", "s", "b", "lit", "color", "maybe", "items", "mapping", "point", "address", "described"
    ]  # fmt: skip
    assert props["i"] == {"type": "integer"}
    assert props["f"] == {"type": "number"}
    assert props["s"] == {"type": "string"}
    assert props["b"] == {"type": "boolean"}
    assert props["lit"] == {"enum": ["a", "b"], "type": "string"}
    assert props["maybe"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert props["items"] == {"items": {"type": "integer"}, "type": "array"}
    assert props["mapping"] == {"additionalProperties": {"type": "number"}, "type": "object"}
    assert props["described"]["description"] == "From Field"
    assert props["with_default"] == {"default": 3, "type": "integer"}
    defs = schema["$defs"]
    assert defs["Color"]["enum"] == ["red", "blue"]
    assert set(defs["Point"]["properties"]) == {"x", "y"}
    assert defs["Address"]["properties"]["city"]["default"] == "Paris"


def test_google_docstring_gives_descriptions() -> None:
    def weather(city: str, days: int = 1) -> str:
        """Get the forecast.

        Longer explanation here.

        Args:
            city: The city name.
            days: How many days ahead.
        """
        return city

    server = MCPServer("t")
    tool = server.add_tool(weather)
    assert tool.description == "Get the forecast.\n\nLonger explanation here."
    assert tool.args.schema["properties"]["city"]["description"] == "The city name."
    assert tool.args.schema["properties"]["days"]["description"] == "How many days ahead."


def test_numpy_docstring_gives_descriptions() -> None:
    def area(width: float, height: float) -> float:
        """Area of a rectangle.

        Parameters
        ----------
        width : float
            Width in metres.
        height : float
            Height in metres.
        """
        return width * height

    schema = _schema(area)
    assert schema["properties"]["width"]["description"] == "Width in metres."
    assert schema["properties"]["height"]["description"] == "Height in metres."


def test_field_description_wins_over_docstring() -> None:
    def f(x: Annotated[int, Field(description="explicit")]) -> int:
        """F.

        Args:
            x: from the docstring
        """
        return x

    assert _schema(f)["properties"]["x"]["description"] == "explicit"


def test_output_schema_from_return_annotation() -> None:
    server = MCPServer("t")

    def model() -> Address:
        return Address(street="x")

    def number() -> int:
        return 1

    def words() -> str:
        return ""

    for fn in (model, number, words):
        server.tool(fn)
    assert server.tools["model"].output.schema["properties"]["street"] == {"type": "string"}  # type: ignore[index]
    assert server.tools["number"].output.schema == {
        "type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]
    }  # fmt: skip
    assert server.tools["words"].output.schema is None


def _bad_star_args(*values: int) -> None: ...
def _bad_kwargs(**options: int) -> None: ...
def _bad_positional(a: int, /) -> None: ...
def _bad_private(_hidden: int) -> None: ...
def _bad_type(lock: type[BaseException]) -> None: ...  # noqa: E704
def _bad_name_ref(x: "DoesNotExist") -> None: ...  # type: ignore[name-defined] # noqa: F821


@pytest.mark.parametrize(
    ("fn", "reason"),
    [
        (_bad_star_args, "*args and **kwargs"),
        (_bad_kwargs, "*args and **kwargs"),
        (_bad_positional, "positional-only"),
        (_bad_private, "starts with '_'"),
        (_bad_name_ref, "DoesNotExist"),
    ],
)
def test_bad_definitions_fail_at_registration(fn: Any, reason: str) -> None:
    server = MCPServer("t")
    with pytest.raises(ToolDefinitionError, match=reason.replace("*", r"\*")):
        server.tool(fn)


def test_unsupported_annotation_fails_at_registration() -> None:
    def f(lock: threading.Lock) -> None: ...  # type: ignore[valid-type]

    with pytest.raises(ToolDefinitionError, match="unsupported parameter type"):
        MCPServer("t").tool(f)


@pytest.mark.parametrize("name", ["has space", "", "x" * 129, "slash/name", "ünïcode"])
def test_bad_names_fail_at_registration(name: str) -> None:
    with pytest.raises(ToolDefinitionError, match="not valid"):
        MCPServer("t").tool(name=name)(lambda: None)


def test_duplicate_names_fail_unless_replacing() -> None:
    server = MCPServer("t")

    def f() -> int:
        return 1

    server.tool(f)
    with pytest.raises(DuplicateNameError, match="already"):
        server.tool(f)
    server.tool(f, replace=True)  # type: ignore[call-overload]
    assert list(server.tools) == ["f"]


def test_explicit_input_schema_is_advertised_verbatim() -> None:
    raw = {
        "type": "object",
        "properties": {"q": {"type": "string"}},
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }

    def search(q: str = "") -> str:
        return q

    server = MCPServer("t")
    server.tool(input_schema=raw)(search)
    assert server.tools["search"].args.schema == raw
    with pytest.raises(ToolDefinitionError, match="JSON object schema"):
        server.tool(name="other", input_schema={"type": "string"})(search)


def test_parameter_names_never_clash_with_the_model() -> None:
    def f(json: int, model_config: str = "a", p0: int = 0) -> dict[str, Any]:
        return {"json": json, "model_config": model_config, "p0": p0}

    spec = MCPServer("t").add_tool(f).args
    assert list(spec.schema["properties"]) == ["json", "model_config", "p0"]
    assert spec.validate({"json": 1, "p0": 2}) == {"json": 1, "model_config": "a", "p0": 2}
    with pytest.raises(InvalidParams, match="p1: Extra inputs are not permitted"):
        spec.validate({"json": 1, "p1": 5})


def _pydantic_path(fn: Any) -> dict[str, Any]:
    """The schema the full pydantic compiler gives (the simple-signature shortcut bypassed)."""
    from nbmcp.tools import schema as schema_module
    from nbmcp.tools.docstrings import parse_doc

    original = schema_module.compile_simple
    schema_module.compile_simple = lambda params: None  # type: ignore[assignment]
    try:
        return schema_module.build_arguments(fn, fn.__name__, parse_doc(fn)).schema
    finally:
        schema_module.compile_simple = original


def test_the_simple_signature_shortcut_matches_pydantic() -> None:
    def plain(
        i: int,
        s: str,
        f: float = 1.5,
        b: bool = False,
        lit: Literal["x", "y"] = "x",
        nums: list[int] | None = None,
        table: dict[str, float] | None = None,
        anything: Any = None,
        tags: list[str] = [],  # noqa: B006 - a mutable default takes the pydantic path
    ) -> None:
        """Plain.

        Args:
            i: An integer.
            lit: A choice.
        """

    def simple(i: int, s: str = "a", maybe: Optional[int] = None, n: Literal[1, 2] = 1) -> None:  # noqa: UP045
        """Simple."""

    for fn in (plain, simple):
        assert _schema(fn) == _pydantic_path(fn)


def test_the_simple_signature_shortcut_validates_like_pydantic() -> None:
    def simple(i: int, flag: bool = False, names: list[str] | None = None) -> None:
        """Simple."""

    spec = MCPServer("t").add_tool(simple).args
    assert spec.validate({"i": "5", "flag": "true"}) == {"i": 5, "flag": True, "names": None}
    with pytest.raises(InvalidParams) as info:
        spec.validate({"names": [1], "extra": 0})
    assert info.value.message == (
        "Invalid arguments: i: Field required; names.0: Input should be a valid string; "
        "extra: Extra inputs are not permitted"
    )
