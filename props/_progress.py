"""A dependency-free progress bar with a remaining-time estimate, written to stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts work done out of ``total`` and redraws one line at most every 0.2 s.

    ``enabled=False`` makes every call a no-op, so callers need no branches.
    """

    def __init__(self, total, label="", enabled=True, stream=None):
        self.total, self.label, self.enabled = max(int(total), 1), label, enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def advance(self, amount=1):
        self.done = min(self.total, self.done + amount)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_draw >= 0.2 or self.done == self.total:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now):
        elapsed = now - self.start
        fraction = self.done / self.total
        remaining = elapsed * (1 - fraction) / fraction if fraction else float("nan")
        width = 30
        bar = "#" * int(width * fraction) + "-" * (width - int(width * fraction))
        self.stream.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total} "
            f"{elapsed:6.1f}s elapsed, {remaining:6.1f}s left"
        )
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()
