"""A one-line progress bar on stderr: done/total, rate and time left."""

from __future__ import annotations

import sys
import time


def _human(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    if n != int(n) and abs(n) < 10:  # slow units (rounds, iterations): keep a fraction, not "0"
        return f"{n:.2f}"
    return f"{n:.0f}"


class Progress:
    """Redraws in place on a terminal; prints a line every 10% otherwise (logs, CI)."""

    def __init__(self, total: float, unit: str = "steps", label: str = "", enabled: bool = True, stream=None):
        self.total, self.unit, self.label, self.enabled = total, unit, label, enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.base_time, self.base_done = self.start, 0.0
        self.last_decile = -1

    def mark(self, done: float) -> None:
        """Measure the rate from here on (e.g. once compilation is over)."""
        self.base_time, self.base_done = time.perf_counter(), done

    def update(self, done: float) -> None:
        if not self.enabled:
            return
        span = time.perf_counter() - self.base_time
        rate = (done - self.base_done) / span if span > 0 and done > self.base_done else 0.0
        left = (self.total - done) / rate if rate > 0 else float("nan")
        frac = min(1.0, done / self.total) if self.total else 1.0
        bar = "#" * int(24 * frac) + "." * (24 - int(24 * frac))
        eta = "--:--" if left != left else f"{int(left) // 60}:{int(left) % 60:02d}"
        line = (f"{self.label} [{bar}] {100 * frac:5.1f}%  {_human(done)}/{_human(self.total)} {self.unit}  "
                f"{_human(rate)} {self.unit}/s  ETA {eta}")
        if self.tty:
            self.stream.write("\r" + line)
        elif int(10 * frac) > self.last_decile:
            self.last_decile = int(10 * frac)
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
