"""``nbmcp serve TARGET`` / ``nbmcp schema TARGET``: find the :class:`MCPServer` a target names.

TARGET is ``notebook.ipynb`` (its cells run, then its tools are served), ``file.py`` (its one
module-level :class:`MCPServer`) or ``file.py:attr``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from nbmcp.errors import NbmcpError, TargetError

__all__ = ["load_target", "notebook_module"]


def load_target(target: str) -> Any:
    """Import ``file.py[:attr]`` and return its :class:`MCPServer`.

    A ``notebook.ipynb`` has its code cells run in this process's IPython shell (magics
    included); its server is the one its ``%%mcp_tool`` cells registered on.

    Raises:
        TargetError: no such file, no server in it, or more than one without ``:attr``.
    """
    from nbmcp.server import MCPServer

    path_text, _, attr = target.partition(":") if not os.path.exists(target) else (target, "", "")
    path = Path(path_text)
    if not path.is_file():
        raise TargetError(f"no such file: {path_text}")
    if path.suffix == ".ipynb":
        return notebook_module().load_notebook(path)
    module_name = f"nbmcp_target_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path.resolve())
    if spec is None or spec.loader is None:
        raise TargetError(f"cannot import {path_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except NbmcpError:
        raise
    except Exception as exc:
        raise TargetError(f"importing {path_text} failed: {type(exc).__name__}: {exc}") from exc
    if attr:
        server = getattr(module, attr, None)
        if not isinstance(server, MCPServer):
            raise TargetError(f"{path_text} has no MCPServer named {attr!r}")
        return server
    found = {name: value for name, value in vars(module).items() if isinstance(value, MCPServer)}
    if not found:
        raise TargetError(f"{path_text} defines no module-level MCPServer (e.g. server = MCPServer('name'))")
    if len(found) > 1:
        names = ", ".join(sorted(found))
        raise TargetError(f"{path_text} defines several servers ({names}); pick one: {path_text}:NAME")
    return next(iter(found.values()))


def notebook_module() -> Any:
    """:mod:`nbmcp.notebook.serve`, or a :class:`TargetError` saying how to install IPython."""
    try:
        from nbmcp.notebook import serve
    except ImportError as exc:  # IPython missing
        raise TargetError(f"serving a notebook needs IPython ({exc}): pip install 'nbmcp[notebook]'") from exc
    return serve
