"""Timing shared by the bench scripts: contenders interleaved in one process, medians."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def interleaved_medians(
    fns: dict[str, Callable[[], object]],
    budget: float,
    min_rounds: int = 5,
    max_rounds: int = 2000,
) -> dict[str, float]:
    """Median seconds per call of each contender. Each round calls every contender once (so a
    noisy moment of the shared host hits them all), after one warm-up call each; rounds go on
    until ``budget`` seconds have passed, at least ``min_rounds`` times."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    start, rounds = time.perf_counter(), 0
    while rounds < min_rounds or (time.perf_counter() - start < budget and rounds < max_rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {k: float(np.median(v)) for k, v in times.items()}
