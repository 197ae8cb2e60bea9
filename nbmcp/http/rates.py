"""Counting hits in windows: rates like ``"100/15min"``, and the store that counts them.

:class:`LimitStore` is the small interface the limit layers count through (so a shared backend
can come later); :class:`LimitsStore` implements it with the `limits` library: fixed windows
that start at a key's first hit, in memory by default, or in any storage that library reaches
by URI (``redis://``, ``memcached://``...). ``limits`` is imported the first time something is
counted, so ``import nbmcp`` stays cheap.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from nbmcp.errors import NbmcpError

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.strategies import FixedWindowRateLimiter

__all__ = ["LimitError", "LimitStore", "LimitsStore", "Rate", "parse_rate"]

_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$", re.IGNORECASE)


class LimitError(NbmcpError, ValueError):
    """A limit setting that cannot be read (``rate_limit="100/15min"`` is the form)."""


@dataclass(frozen=True, slots=True)
class Rate:
    """``amount`` requests per ``seconds``."""

    amount: int
    seconds: int

    def __str__(self) -> str:
        for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
            if self.seconds % size == 0:
                count = self.seconds // size
                return f"{self.amount} per {unit}" if count == 1 else f"{self.amount} per {count} {unit}s"
        return f"{self.amount} per {self.seconds} seconds"  # pragma: no cover - size 1 always divides


@lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """``"100/15min"`` -> ``Rate(100, 900)``; windows in ``s``, ``min``, ``h`` or ``d`` (``"5/min"``).

    Raises:
        LimitError: not of that form, or a count or window of zero.
    """
    match = _RATE.match(text)
    unit = _UNITS.get(match.group(3).lower()) if match else None
    if match is None or unit is None:
        raise LimitError(f"{text!r} is not a rate like '100/15min' (COUNT/[N]UNIT, UNIT one of s, min, h, d)")
    amount, count = int(match.group(1)), int(match.group(2) or 1)
    if amount < 1 or count < 1:
        raise LimitError(f"{text!r}: the count and the window must be at least 1")
    return Rate(amount, count * unit)


class LimitStore(Protocol):
    """Counters of hits per key in fixed windows; what a shared backend would implement."""

    def hit(self, key: str, rate: Rate) -> float:
        """Count one hit; ``0`` when within ``rate``, else the seconds until the window ends."""
        ...

    def peek(self, key: str, rate: Rate) -> tuple[int, float]:
        """The hits counted in the key's window, and the seconds until it ends (no hit counted)."""
        ...

    def clear(self) -> None:
        """Forget every counter."""
        ...


class LimitsStore:
    """A :class:`LimitStore` on the `limits` library: ``memory://`` by default.

    Any storage URI of that library works (``redis://host:6379``, ``memcached://...``) for
    counters shared by several processes; the library is imported on the first hit.
    """

    def __init__(self, uri: str = "memory://") -> None:
        self.uri = uri
        self._limiter: FixedWindowRateLimiter | None = None
        self._items: dict[Rate, RateLimitItem] = {}

    def _strategy(self) -> FixedWindowRateLimiter:
        if self._limiter is None:
            from limits.storage import storage_from_string
            from limits.strategies import FixedWindowRateLimiter

            self._limiter = FixedWindowRateLimiter(storage_from_string(self.uri))
        return self._limiter

    def _item(self, rate: Rate) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            from limits import RateLimitItemPerSecond

            item = self._items[rate] = RateLimitItemPerSecond(rate.amount, rate.seconds)
        return item

    def hit(self, key: str, rate: Rate) -> float:
        limiter, item = self._strategy(), self._item(rate)
        if limiter.hit(item, key):
            return 0.0
        return max(0.001, limiter.get_window_stats(item, key).reset_time - time.time())

    def peek(self, key: str, rate: Rate) -> tuple[int, float]:
        if self._limiter is None:  # nothing counted yet: no need to load the library
            return 0, 0.0
        stats = self._limiter.get_window_stats(self._item(rate), key)
        return rate.amount - stats.remaining, max(0.0, stats.reset_time - time.time())

    def clear(self) -> None:
        if self._limiter is not None:
            self._limiter.storage.reset()
