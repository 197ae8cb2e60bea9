"""Debian's chromium for the tests that look at pages the way a person does (Playwright drives it).

``scripts/test.sh`` installs it (apt-get); Playwright's own browser download is never used. A
machine without it fails those tests with one line saying how to install it: they never skip.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "require_chromium"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_chromium() -> None:
    """Fail (never skip) where chromium is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail("no chromium: apt-get install chromium (scripts/test.sh does)", pytrace=False)
