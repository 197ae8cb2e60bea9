"""Fixtures for the notebook tests: real kernels, free ports, plain and SDK MCP clients."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core warns about its old paths otherwise

from tests.notebook.kernelkit import Kernel, kernel_fixture, started_kernel

__all__ = ["kernel_fixture"]


@pytest.fixture
def bare_kernel() -> Iterator[Kernel]:
    """A fresh ``python3`` kernel, nothing loaded."""
    with started_kernel() as k:
        yield k
