"""A server whose tools cover the shapes an Action schema must carry.

Enums (Literal and Enum), optional and nullable arguments, nested and recursive models, a
discriminated union, lists, a dict, no parameters, async, read_only, typed and untyped
results, text, an image, a generator, a tool that raises, a ``Context`` user, and a tool
whose MCP name (``stats.summary``) is no valid operationId. Every tool is deterministic and
bounded, so a fuzzer can call it as often as it likes. ``EXAMPLES`` holds one valid call per
tool and the body the REST facade must answer it with.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from nbmcp import Context, MCPServer, ToolError, image

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

Bounded = Annotated[float, Field(ge=-1e6, le=1e6)]


class Color(str, enum.Enum):
    """A paint colour."""

    red = "red"
    green = "green"
    blue = "blue"


class Point(BaseModel):
    """A point on the plane."""

    x: Bounded
    y: Bounded = 0.0


class Node(BaseModel):
    """A tree node."""

    label: str
    children: list[Node] = Field(default_factory=list, max_length=3)


class Circle(BaseModel):
    kind: Literal["circle"]
    radius: Annotated[float, Field(ge=0, le=1e3)]


class Square(BaseModel):
    kind: Literal["square"]
    side: Annotated[float, Field(ge=0, le=1e3)]


class Stats(BaseModel):
    """Summary statistics."""

    count: int
    mean: float | None
    low: float | None = None
    high: float | None = None


def build_server(**kwargs: Any) -> MCPServer:
    """A fresh server with every sample tool."""
    server = MCPServer("samples", **kwargs)

    @server.tool(read_only=True)
    def add(a: int, b: int) -> int:
        """Add two whole numbers.

        Args:
            a: The first number.
            b: The second number.
        """
        return a + b

    @server.tool
    def greet(name: str, punctuation: Literal["!", "?", "."] = "!", shout: bool = False) -> str:
        """Greet someone by name.

        Args:
            name: Who to greet.
            punctuation: How to end the greeting.
            shout: Upper-case the greeting.
        """
        text = f"Hello, {name}{punctuation}"
        return text.upper() if shout else text

    @server.tool(read_only=True)
    def move(point: Point, dx: Bounded = 0.0, label: str | None = None) -> Point:
        """Move a point by dx along the x axis. The label is ignored.

        Args:
            point: Where it starts.
            dx: How far to move it.
            label: An optional note.
        """
        return Point(x=point.x + dx, y=point.y)

    @server.tool(name="stats.summary", read_only=True)
    def stats(values: list[Bounded], weights: list[Bounded] | None = None) -> Stats:
        """Count, mean and range of a list of numbers.

        Args:
            values: The numbers (may be empty).
            weights: Ignored; here to be optional and nullable.
        """
        if not values:
            return Stats(count=0, mean=None)
        return Stats(count=len(values), mean=sum(values) / len(values), low=min(values), high=max(values))

    @server.tool(read_only=True)
    def today() -> dict[str, str]:
        """Today's date (no arguments)."""
        return {"date": dt.date(2026, 1, 2).isoformat()}

    @server.tool
    async def forecast(city: str, days: Annotated[int, Field(ge=1, le=7)] = 1) -> list[dict[str, Any]]:
        """Weather forecast for a city (async).

        Args:
            city: City name.
            days: How many days, 1 to 7.
        """
        await asyncio.sleep(0)
        return [{"city": city, "day": i, "temp_c": 20 + i} for i in range(days)]

    @server.tool
    def paint(color: Color, shades: Annotated[int, Field(ge=1, le=5)] = 1) -> list[str]:
        """Shades of a colour (an Enum argument)."""
        return [f"{color.value}-{i}" for i in range(shades)]

    @server.tool
    def count_nodes(root: Node) -> int:
        """How many nodes a tree has (a recursive model)."""

        def count(node: Node) -> int:
            return 1 + sum(count(child) for child in node.children)

        return count(root)

    @server.tool
    def area(shape: Annotated[Circle | Square, Field(discriminator="kind")]) -> float:
        """Area of a circle or a square (a discriminated union)."""
        return 3.0 * shape.radius**2 if isinstance(shape, Circle) else shape.side**2

    @server.tool
    def lookup(key: str):  # type: ignore[no-untyped-def]
        """Look a key up in a small table (no return annotation)."""
        return {"key": key, "found": key in ("a", "b"), "length": len(key)}

    @server.tool(read_only=True)
    def pixel():  # type: ignore[no-untyped-def]
        """A 1x1 PNG image."""
        return image(PNG)

    @server.tool
    def countdown(start: Annotated[int, Field(ge=0, le=5)] = 3) -> Iterator[str]:
        """Count down (a generator)."""
        for i in range(start, 0, -1):
            yield f"{i}..."

    @server.tool
    def refuse(reason: str = "no") -> str:
        """Always fails, with the reason as its message."""
        raise ToolError(f"refused: {reason}")

    @server.tool
    def whoami(ctx: Context) -> dict[str, Any]:
        """The caller's User-Agent header (a tool taking a Context)."""
        return {"agent": ctx.headers.get("user-agent", ""), "session": ctx.session_id}

    return server


EXAMPLES: dict[str, tuple[dict[str, Any] | None, Any]] = {
    "add": ({"a": 2, "b": 40}, {"result": 42}),
    "greet": ({"name": "Ada", "punctuation": "?"}, {"text": "Hello, Ada?"}),
    "move": ({"point": {"x": 1.5, "y": 2.0}, "dx": 1.0}, {"x": 2.5, "y": 2.0}),
    "stats.summary": ({"values": [1, 2, 6]}, {"count": 3, "mean": 3.0, "low": 1.0, "high": 6.0}),
    "today": (None, {"date": "2026-01-02"}),
    "forecast": (
        {"city": "Oslo", "days": 2},
        {"result": [{"city": "Oslo", "day": 0, "temp_c": 20}, {"city": "Oslo", "day": 1, "temp_c": 21}]},
    ),
    "paint": ({"color": "green", "shades": 2}, {"result": ["green-0", "green-1"]}),
    "count_nodes": ({"root": {"label": "r", "children": [{"label": "a"}, {"label": "b"}]}}, {"result": 3}),
    "area": ({"shape": {"kind": "square", "side": 3}}, {"result": 9.0}),
    "lookup": ({"key": "a"}, {"data": {"key": "a", "found": True, "length": 1}}),
    "pixel": (
        None,
        {"images": [{"mimeType": "image/png", "data": __import__("base64").b64encode(PNG).decode()}]},
    ),
    "countdown": ({"start": 2}, {"text": "2...\n1..."}),
    "refuse": ({"reason": "tired"}, None),
    "whoami": (None, {"agent": "nbmcp-test", "session": None}),
}
"""tool -> (arguments, expected 200 body); ``None`` body: the tool fails (400)."""
