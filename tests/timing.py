"""Timing the hot path in unit tests without flaking on a busy machine.

CPU time of this process (not wall time), best of several rounds: another process taking the
core delays a round without charging it, and one quiet round is enough. A VM's host can also
slow the whole VM for seconds at a time (seen here: the same loop 14 to 25 µs within a minute),
which charges every round alike; so when no round is under the limit yet, rounds go on, for a
few seconds at most, until one is. Code that is really too slow stays over it in every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def cpu_seconds_per_call(fn: Callable[[], object], calls: int, under: float, budget_s: float = 5.0) -> float:
    """The best per-call CPU time of rounds of `calls` calls: at least 7 rounds, then more until
    one is `under` seconds per call or `budget_s` seconds have passed."""
    best = float("inf")
    rounds = 0
    deadline = time.monotonic() + budget_s
    while rounds < 7 or (best >= under and time.monotonic() < deadline):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls)
        rounds += 1
    return best
