"""Schedules built from other schedules or functions: piecewise constant scaling, joining
schedules at step boundaries, and wrapping any ``step -> lr`` function."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import (
    require_bool,
    require_int_list,
    require_nonnegative,
)
from ._base import Schedule


class _PiecewiseConstant(Schedule):
    __slots__ = ("boundaries", "values")
    _name = "piecewise_constant"

    def __init__(self, init_value: float, boundaries_and_scales: dict[int, float]) -> None:
        super().__init__(init_value=init_value, boundaries_and_scales=boundaries_and_scales)
        self.boundaries = sorted(boundaries_and_scales)
        # values[i] holds from boundary i-1 (inclusive) to boundary i (exclusive).
        self.values = [init_value]
        for b in self.boundaries:
            self.values.append(self.values[-1] * boundaries_and_scales[b])

    def _at(self, t: int) -> float:
        return self.values[bisect.bisect_right(self.boundaries, t)]

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        idx = np.searchsorted(np.asarray(self.boundaries, dtype=np.int64), t, side="right")
        return np.asarray(self.values, dtype=np.float64)[idx]


def piecewise_constant(
    init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    r"""A constant rate scaled at given steps (optax ``piecewise_constant_schedule``).

    The rate is ``init_value`` times the product of the scales of every boundary ``b`` with
    ``b <= t``: a scale takes effect on its boundary step, as in optax (and as the
    milestones of :func:`multistep`).
    """
    f = "piecewise_constant"
    init_value = require_nonnegative(f, "init_value", init_value)
    items: dict[int, float] = {}
    if boundaries_and_scales is not None:
        if not isinstance(boundaries_and_scales, Mapping):
            raise TypeError(
                f"{f} requires boundaries_and_scales to be a mapping step -> scale, got "
                f"{type(boundaries_and_scales).__name__}"
            )
        for b, s in boundaries_and_scales.items():
            (b,) = require_int_list(f, "boundaries_and_scales (keys)", [b], 0)
            items[b] = require_nonnegative(f, f"boundaries_and_scales[{b}]", s)
    return _PiecewiseConstant(init_value, dict(sorted(items.items())))


class _Join(Schedule):
    __slots__ = ("_scalar", "boundaries", "schedules")
    _name = "join"

    def __init__(self, schedules: list[Callable[[int], float]], boundaries: list[int]) -> None:
        super().__init__(schedules=schedules, boundaries=boundaries)
        self.schedules, self.boundaries = schedules, boundaries
        # The steps handed on are ints >= 0 by construction: call our own schedules'
        # unchecked scalar path directly (the per-step cost of a warm-up + decay).
        self._scalar = [s._at if isinstance(s, Schedule) else s for s in schedules]

    def _at(self, t: int) -> float:
        i = bisect.bisect_right(self.boundaries, t)
        start = self.boundaries[i - 1] if i else 0
        return float(self._scalar[i](t - start))

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        idx = np.searchsorted(np.asarray(self.boundaries, dtype=np.int64), t, side="right")
        starts = np.asarray([0, *self.boundaries], dtype=np.int64)
        out = np.empty(t.shape, dtype=np.float64)
        for i, sched in enumerate(self.schedules):
            mask = idx == i
            if mask.any():
                # Each schedule only sees its own, non-negative, steps.
                out[mask] = _evaluate(sched, t[mask] - starts[i])
        return out


def _evaluate(sched: Callable[[Any], Any], t: NDArray[np.int64]) -> NDArray[np.float64]:
    if isinstance(sched, Schedule):
        return sched._array(t)
    return np.fromiter((float(sched(int(k))) for k in t.ravel()), np.float64, t.size).reshape(
        t.shape
    )


def join(schedules: Sequence[Callable[[int], float]], boundaries: Sequence[int]) -> Schedule:
    r"""Chain schedules at given steps (optax ``join_schedules``).

    ``schedules[i]`` is in force from ``boundaries[i-1]`` (inclusive) to ``boundaries[i]``
    (exclusive) and is called with the steps counted from its own boundary: at step
    ``t = boundaries[i-1] + k`` the rate is ``schedules[i](k)``. Any callable ``int -> float``
    may take part (it is called once per step when the join is evaluated on an array).
    """
    schedules = list(schedules)
    for i, s in enumerate(schedules):
        if not callable(s):
            raise TypeError(f"join requires callable schedules, got schedules[{i}]={s!r}")
    if not schedules:
        raise ValueError("join requires at least one schedule, got schedules=[]")
    bounds = require_int_list("join", "boundaries", boundaries, 0)
    if len(bounds) != len(schedules) - 1:
        raise ValueError(
            f"join requires len(boundaries) == len(schedules) - 1, got {len(bounds)} "
            f"boundaries for {len(schedules)} schedules"
        )
    if any(b < a for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"join requires non-decreasing boundaries, got boundaries={bounds}")
    return _Join(schedules, bounds)


class _Inject(Schedule):
    __slots__ = ("fn", "vectorized")
    _name = "inject"

    def __init__(self, fn: Callable[[Any], Any], vectorized: bool) -> None:
        super().__init__(fn=fn, vectorized=vectorized)
        self.fn, self.vectorized = fn, vectorized

    def _at(self, t: int) -> float:
        return float(self.fn(t))

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        if self.vectorized:
            out = np.asarray(self.fn(t), dtype=np.float64)
            return np.broadcast_to(out, t.shape).copy()
        return _evaluate(self.fn, t)


def inject(fn: Callable[[Any], Any], *, vectorized: bool = False) -> Schedule:
    """Turn any function ``step -> lr`` into a :class:`Schedule`.

    ``fn`` is called with a Python ``int``; on an array of steps it is called once per step,
    unless ``vectorized=True`` promises that ``fn`` maps an int64 array to an array of the
    same shape (``lambda t: 0.1 * 0.5 ** (t // 10)`` is).
    """
    if not callable(fn):
        raise TypeError(f"inject requires a callable fn, got {type(fn).__name__}")
    require_bool("inject", "vectorized", vectorized)
    return _Inject(fn, bool(vectorized))
