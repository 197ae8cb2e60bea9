"""Fixtures for the notebook tests: real kernels, free ports, plain and SDK MCP clients."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core warns about its old paths otherwise

from tests.notebook.kernelkit import Kernel


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    """A fresh ``python3`` kernel with ``%load_ext nbmcp`` done."""
    k = Kernel()
    try:
        k.run("%load_ext nbmcp").ok()
        yield k
    finally:
        k.shutdown()


@pytest.fixture
def bare_kernel() -> Iterator[Kernel]:
    """A fresh ``python3`` kernel, nothing loaded."""
    k = Kernel()
    try:
        yield k
    finally:
        k.shutdown()
