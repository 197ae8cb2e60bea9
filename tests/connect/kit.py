"""Helpers for the connect tests: run ``nbmcp connect``, split shell snippets, read MCP answers."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from typing import Any

AUTHS = ("none", "key", "oauth", "oauth+key")
KEY_AUTHS = ("key", "oauth+key")


def connect(
    url: str, *args: str, key: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``nbmcp connect URL ARGS...``, the real command line, in a subprocess (``NBMCP_API_KEY=key``)."""
    env = {k: v for k, v in os.environ.items() if k != "NBMCP_API_KEY"}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    if key is not None:
        env["NBMCP_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "nbmcp.cli", "connect", url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def simple_commands(snippet: str) -> list[list[str]]:
    """Every simple command in a shell snippet, as argv lists (``$(``, ``|``, ``)`` split them).

    Backslash-newline is a line continuation (as in sh); each line is one command line, and
    the ``NAME=$`` before a command substitution is left out.
    """
    found: list[list[str]] = []
    for line in snippet.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] = []
        for token in lexer:
            if token and all(c in "();<>|&" for c in token):
                if current:
                    found.append(current)
                current = []
            else:
                current.append(token)
        if current:
            found.append(current)
    return [argv for argv in found if not (len(argv) == 1 and argv[0].endswith("=$"))]  # SID=$( ... )


def options(argv: list[str], flag: str) -> list[str]:
    """The values that follow each ``flag`` in ``argv``."""
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]


def mcp_messages(body: str) -> list[Any]:
    """The JSON-RPC messages of an answer: a JSON body, or an SSE stream's ``data:`` lines."""
    text = body.strip()
    if text.startswith("{"):
        return [json.loads(text)]
    return [json.loads(line[5:].strip()) for line in text.splitlines() if line.startswith("data:")]
