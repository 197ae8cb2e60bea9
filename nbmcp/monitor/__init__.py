"""Call events, the journal of recent calls, and per-tool statistics.

The tools layer reports each call here through :class:`Monitor`; widgets and the CLI read
it. Nothing here knows about HTTP or Jupyter.
"""

from nbmcp.monitor.events import CallEvent, Monitor, ToolStats

__all__ = ["CallEvent", "Monitor", "ToolStats"]
