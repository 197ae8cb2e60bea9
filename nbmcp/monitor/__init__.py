"""Call records, the ring of recent calls, usage statistics, and where records are kept.

The tools layer reports each call here through :class:`Monitor`; the server, widgets and the
CLI read it. :mod:`~nbmcp.monitor.stats` counts, :mod:`~nbmcp.monitor.redact` decides what may
be shown or stored, :mod:`~nbmcp.monitor.jsonlines` appends the call log and
:mod:`~nbmcp.monitor.journal` keeps the SQLite journal (imported only when one is asked for).
Nothing here knows about HTTP or Jupyter.
"""

from nbmcp.monitor.monitor import Monitor
from nbmcp.monitor.records import TRANSPORTS, CallRecord, summarize
from nbmcp.monitor.stats import ToolStats, Usage

__all__ = ["TRANSPORTS", "CallRecord", "Monitor", "ToolStats", "Usage", "summarize"]
