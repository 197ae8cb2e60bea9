"""From a ``%%mcp_tool`` cell to a tool: which function it serves, and how it is called.

The cell's last top-level ``def`` or ``async def`` is the tool; the other functions in the
cell stay ordinary helpers. A ``--main-thread`` tool gets a :class:`MainThreadExecutor`
(sync functions and generators) or an async wrapper that runs the coroutine on the home
loop (async functions).
"""

from __future__ import annotations

import ast
import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

from nbmcp.notebook.mainthread import MainThreadExecutor

__all__ = ["MAIN_THREAD_ATTR", "last_function_name", "on_main_thread", "signature_line"]

MAIN_THREAD_ATTR = "__nbmcp_main_thread__"
"""Set on an async wrapper that runs its coroutine on the home loop."""


def last_function_name(source: str) -> str | None:
    """The name of the last top-level ``def``/``async def`` in ``source`` (Python, not IPython).

    Raises:
        SyntaxError: ``source`` is not valid Python.
    """
    tree = ast.parse(source)
    for node in reversed(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name
    return None


def on_main_thread(fn: Callable[..., Any], executor: MainThreadExecutor) -> tuple[Callable[..., Any], Any]:
    """``(function, executor)`` to register so that calls run on the home thread.

    Raises:
        ValueError: ``fn`` is an async generator (it cannot be stepped from the server).
    """
    from nbmcp.tools.calling import Kind, kind_of  # the tools layer (pydantic) loads with the first tool

    kind = kind_of(fn)
    if kind is Kind.ASYNC_GENERATOR:
        raise ValueError("--main-thread does not take async generators; use a plain generator or function")
    if kind is not Kind.ASYNC:
        return fn, executor

    @functools.wraps(fn)
    async def on_home_loop(**kwargs: Any) -> Any:
        return await asyncio.wrap_future(executor.run_coroutine(fn(**kwargs)))

    setattr(on_home_loop, MAIN_THREAD_ATTR, True)
    return on_home_loop, None


def signature_line(name: str, fn: Callable[..., Any]) -> str:
    """``name(a: int, b: str = 'x') -> int`` for messages (``name(...)`` when unreadable)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params = [str(p) for p in sig.parameters.values() if "Context" not in str(p.annotation)]
    shown = f"{name}({', '.join(params)})"
    if sig.return_annotation is not inspect.Signature.empty:
        ret = sig.return_annotation
        shown += f" -> {ret if isinstance(ret, str) else getattr(ret, '__name__', repr(ret))}"
    return shown
