"""How fast this machine runs Python today, printed by the benchmarks beside their figures.

The shared 2-core machine's speed changes from day to day (plain smtplib sent 786 digests a
second on one day and 380-507 on the next, with the same code), which moves every absolute
figure (milliseconds, messages per second) while the ratios within one run hold. Compare
absolute figures from different days by this.
"""

from __future__ import annotations

import time


def python_loop_seconds(iterations: int = 10_000_000) -> float:
    """Seconds for a plain Python loop adding up `iterations` integers (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(iterations):
            total += number
        best = min(best, time.perf_counter() - started)
    return best


def speed_line() -> str:
    return f"machine: a 10,000,000-step Python loop takes {python_loop_seconds():.2f} s (compare days by this)"
