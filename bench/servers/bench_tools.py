"""The tools every benchmarked server registers, as plain Python functions (no framework).

``add`` is the tool the load generator calls. ``make_tools(n)`` builds ``n`` *distinct*
functions (own name, docstring, signature drawn from a few realistic shapes) so that
"1,000 tools" means 1,000 different schemas to build, list and look up, for every framework
alike. Functions are built with ``exec`` so each one is a real function with real
annotations, exactly as if written by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


_SHAPES = [
    (
        "(a: int, b: int) -> int",
        "Multiply two integers (variant {i}).",
        {"a": "First factor.", "b": "Second factor."},
        "return a * b + {i}",
    ),
    (
        "(text: str, times: int = 1) -> str",
        "Repeat a piece of text (variant {i}).",
        {"text": "The text to repeat.", "times": "How many times."},
        "return text * times",
    ),
    (
        "(values: list[float]) -> float",
        "Mean of a list of numbers (variant {i}).",
        {"values": "The numbers."},
        "return sum(values) / max(len(values), 1)",
    ),
    (
        "(city: str, units: Literal['c', 'f'] = 'c') -> dict[str, Any]",
        "Current weather for a city (variant {i}).",
        {"city": "City name.", "units": "Celsius or Fahrenheit."},
        "return {{'city': city, 'units': units, 'temp': {i}}}",
    ),
    (
        "(x: float, y: float, z: float | None = None) -> list[float]",
        "Scale a point (variant {i}).",
        {"x": "X coordinate.", "y": "Y coordinate.", "z": "Optional Z coordinate."},
        "return [x * {i}, y * {i}] + ([z * {i}] if z is not None else [])",
    ),
]


def make_tools(n: int, prefix: str = "tool_") -> list[Callable[..., Any]]:
    """``n`` distinct tool functions named ``tool_0001`` .. ``tool_NNNN``."""
    namespace: dict[str, Any] = {}
    lines = ["from typing import Any, Literal", ""]
    names = []
    for i in range(1, n + 1):
        signature, summary, params, body = _SHAPES[i % len(_SHAPES)]
        name = f"{prefix}{i:04d}"
        names.append(name)
        args_doc = "\n".join(f"        {p}: {d}" for p, d in params.items())
        lines.append(f"def {name}{signature}:")
        lines.append(f'    """{summary.format(i=i)}\n\n    Args:\n{args_doc}\n    """')
        lines.append(f"    {body.format(i=i)}")
        lines.append("")
    exec(compile("\n".join(lines), f"<bench tools x{n}>", "exec"), namespace)
    return [namespace[name] for name in names]
