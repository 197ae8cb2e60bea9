"""Servers under test keep any OAuth files in a temporary config directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def own_config_home(config_home: Path) -> Path:
    """Every test here gets ``config_home`` (tests/conftest.py)."""
    return config_home
