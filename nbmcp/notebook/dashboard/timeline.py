"""Calls answered per few seconds over the last two minutes: the dashboard's live chart.

``server.stats()["per_minute"]`` covers the hour a minute a bar; a call made now moves a
minute bar by one, which a watcher hardly sees. This counts each finished call (once: the
updater feeds it finish events only) into a bucket of :data:`BUCKET_SECONDS` by its end time.
"""

from __future__ import annotations

import math
import time

__all__ = ["BUCKETS", "BUCKET_SECONDS", "Timeline"]

BUCKET_SECONDS = 5
BUCKETS = 24
"""Two minutes of 5-second buckets."""


class Timeline:
    """Counts of finished calls and errors by time bucket (the last :data:`BUCKETS` only)."""

    def __init__(self, bucket_seconds: int = BUCKET_SECONDS, buckets: int = BUCKETS) -> None:
        self.bucket_seconds = bucket_seconds
        self.buckets = buckets
        self._counts: dict[int, list[int]] = {}

    def count(self, ended_at: float, ok: bool) -> None:
        """One call finished at ``ended_at`` (epoch seconds)."""
        bucket = math.floor(ended_at / self.bucket_seconds)
        counts = self._counts.get(bucket)
        if counts is None:
            counts = self._counts[bucket] = [0, 0]
            oldest = bucket - self.buckets
            for stale in [b for b in self._counts if b <= oldest]:
                del self._counts[stale]
        counts[0] += 1
        counts[1] += not ok

    def view(self, now: float | None = None) -> dict[str, object]:
        """``{"bucket_s", "end", "calls": [...], "errors": [...]}``, oldest bucket first.

        ``end`` is the epoch second where the newest bucket ends; the lists change only when
        a call finishes or a bucket rolls over.
        """
        newest = math.floor((time.time() if now is None else now) / self.bucket_seconds)
        span = range(newest - self.buckets + 1, newest + 1)
        return {
            "bucket_s": self.bucket_seconds,
            "end": (newest + 1) * self.bucket_seconds,
            "calls": [self._counts.get(b, (0, 0))[0] for b in span],
            "errors": [self._counts.get(b, (0, 0))[1] for b in span],
        }
