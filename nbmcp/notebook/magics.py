"""The ``%%mcp_tool`` and ``%mcp`` magics (coming with the notebook integration)."""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics on ``ipython``."""
    raise NotImplementedError("the nbmcp magics are not there yet")


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and stop the kernel's server."""
