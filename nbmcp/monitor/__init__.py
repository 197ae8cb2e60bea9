"""Call records, the journal of recent calls, and per-tool statistics.

The tools layer reports each call here through :class:`Monitor`; widgets and the CLI read
it. Nothing here knows about HTTP or Jupyter.
"""

from nbmcp.monitor.monitor import Monitor, ToolStats
from nbmcp.monitor.records import TRANSPORTS, CallRecord, summarize

__all__ = ["TRANSPORTS", "CallRecord", "Monitor", "ToolStats", "summarize"]
