"""How fast this machine runs Python right now, printed beside a benchmark's figures.

A shared or virtual machine's speed changes from hour to hour: on the 2-core
development machine the same ledger import took 26 s of CPU one hour and 40 s the
next, with nothing else running.  A fixed loop timed before and after a run says
which kind of hour it was, so figures from different runs can be compared.
"""

from __future__ import annotations

import time

STEPS = 10_000_000


def loop_seconds() -> float:
    """CPU seconds for a fixed pure-Python loop (well under a second)."""
    started = time.process_time()
    total = 0
    for step in range(STEPS):
        total += step
    assert total == STEPS * (STEPS - 1) // 2
    return time.process_time() - started


def speed_line(when: str) -> str:
    return f"machine speed {when}: a {STEPS:,}-step Python loop took {loop_seconds():.2f} s of CPU"
