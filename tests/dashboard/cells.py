"""The notebook cells the dashboard tests run: tools (one always fails, one stays in flight), a server,
the dashboard."""

from __future__ import annotations

import re

ADD = '''%%mcp_tool
def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b
'''

FAIL = '''%%mcp_tool
def fail(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ValueError(reason)
'''

HOLD = '''%%mcp_tool
import threading
_gate = threading.Event()

def hold() -> str:
    """Wait until release() is called (a call that stays in flight)."""
    _gate.clear()
    return "released" if _gate.wait(60) else "timed out"
'''
RELEASE = '''%%mcp_tool
def release() -> str:
    """Let the held call finish."""
    _gate.set()
    return "done"
'''
WHERE = "import sys; print('kernel python:', sys.executable)"

START = "%mcp start --port 0"

MONITOR = "%mcp monitor"
"""Shows the dashboard (``show_dashboard(current_server())``)."""

CELLS = ["%load_ext nbmcp", ADD, FAIL, HOLD, RELEASE, WHERE, START, MONITOR]
"""The browser tests' notebook: four tools, where the kernel runs, a server, the dashboard."""

_URL = re.compile(r"serving .* at (http://127\.0\.0\.1:\d+/mcp)")


def url_in(printed: str) -> str:
    """The ``/mcp`` URL ``%mcp start`` printed."""
    found = _URL.search(printed)
    assert found, printed
    return found.group(1)
