"""A small MCP server: `nbmcp serve examples/weather.py`, then call it from any MCP client."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel

from nbmcp import Context, MCPServer, ToolError

server = MCPServer("weather", instructions="Weather lookups for a few cities, offline.")

_CITIES = {"tokyo": 18.5, "paris": 12.0, "new york": 9.5, "nairobi": 24.0}


class Forecast(BaseModel):
    city: str
    temperature: float
    unit: Literal["celsius", "fahrenheit"]


@server.tool(read_only=True)
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> Forecast:
    """Current temperature in a city.

    Args:
        city: City name, e.g. "Tokyo".
        unit: Temperature unit.
    """
    celsius = _CITIES.get(city.lower())
    if celsius is None:
        raise ToolError(f"unknown city {city!r}; try one of: {', '.join(sorted(_CITIES))}")
    value = celsius if unit == "celsius" else celsius * 9 / 5 + 32
    return Forecast(city=city, temperature=round(value, 1), unit=unit)


@server.tool
async def slow_count(n: int = 3, ctx: Context | None = None) -> str:
    """Count to n, reporting progress as it goes."""
    for i in range(1, n + 1):
        await asyncio.sleep(0.05)
        if ctx is not None:
            await ctx.report_progress(i, n, f"counted {i}")
    return f"counted to {n}"


@server.tool
def forecast_lines(city: str, days: int = 3):  # type: ignore[no-untyped-def]
    """Stream a day-by-day forecast, one line per day."""
    base = _CITIES.get(city.lower(), 15.0)
    for day in range(1, days + 1):
        yield f"day {day}: {base + day:.1f} C"


@server.resource("weather://cities")
def cities() -> list[str]:
    """The cities this server knows."""
    return sorted(_CITIES)


@server.prompt()
def plan_trip(city: str) -> str:
    """Ask for a packing list based on the weather in a city."""
    return f"Check the weather in {city} with get_weather and suggest what to pack."
