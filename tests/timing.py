"""Timing the hot path in unit tests without flaking on a busy machine.

CPU time of this process (not wall time), best of several rounds: another process taking the
core delays a round without charging it, and one quiet round is enough.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def cpu_seconds_per_call(fn: Callable[[], object], calls: int, rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls)
    return best
