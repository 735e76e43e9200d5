"""Warm-up schedules with optax's names: linear warm-up, then constant, cosine or
exponential decay; the inverse square root of Transformer training (Noam)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import (
    require_bool,
    require_int,
    require_nonnegative,
    require_positive,
    require_positive_int,
)
from ._base import Schedule, _apow, _pow
from ._compose import join


def _after_warmup(factory: str, warmup: Schedule, decay: Schedule, **params: Any) -> Schedule:
    """``warmup`` for its ``warmup_steps``, then ``decay``, shown as ``factory(**params)``."""
    out = join([warmup, decay], [params["warmup_steps"]])
    out._repr_name = factory
    out._params = params
    return out


@dataclass(repr=False, eq=False)
class _LinearWarmup(Schedule):
    __slots__ = ("init_value", "peak_value", "warmup_steps")
    _name = "linear_warmup"

    peak_value: float
    warmup_steps: int
    init_value: float

    def _at(self, t: int) -> float:
        if t >= self.warmup_steps:
            return self.peak_value
        frac = t / self.warmup_steps
        return self.init_value + (self.peak_value - self.init_value) * frac

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        if self.warmup_steps == 0:
            return np.full(t.shape, self.peak_value)
        frac = np.minimum(t, self.warmup_steps) / self.warmup_steps
        out = self.init_value + (self.peak_value - self.init_value) * frac
        out[t >= self.warmup_steps] = self.peak_value
        return out


def linear_warmup(peak_value: float, *, warmup_steps: int, init_value: float = 0.0) -> Schedule:
    r"""Linear warm-up from ``init_value`` to ``peak_value``, then constant.

    .. math:: \eta_t = v_0 + (v_{peak} - v_0)\,\min(t, W)/W

    optax's ``linear_schedule(init_value, peak_value, warmup_steps)``; ``warmup_steps=0``
    gives ``peak_value`` from the start. Goyal et al., *Accurate, Large Minibatch SGD*, 2017.
    """
    f = "linear_warmup"
    return _LinearWarmup(
        require_nonnegative(f, "peak_value", peak_value),
        require_int(f, "warmup_steps", warmup_steps, 0),
        require_nonnegative(f, "init_value", init_value),
    )


@dataclass(repr=False, eq=False)
class _CosineDecay(Schedule):
    """optax ``cosine_decay_schedule``: used after the warm-up of :func:`warmup_cosine`."""

    __slots__ = ("alpha", "decay_steps", "exponent", "init_value")
    _name = "cosine_decay"

    init_value: float
    decay_steps: int
    alpha: float
    exponent: float

    def _at(self, t: int) -> float:
        c = 0.5 * (1.0 + math.cos(math.pi * min(t, self.decay_steps) / self.decay_steps))
        if self.exponent != 1.0:
            c = c**self.exponent
        return self.init_value * ((1.0 - self.alpha) * c + self.alpha)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        c = 0.5 * (1.0 + np.cos(np.pi * np.minimum(t, self.decay_steps) / self.decay_steps))
        if self.exponent != 1.0:
            c = c**self.exponent
        return self.init_value * ((1.0 - self.alpha) * c + self.alpha)


def warmup_cosine(
    peak_value: float,
    *,
    warmup_steps: int,
    decay_steps: int,
    init_value: float = 0.0,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    r"""Linear warm-up then cosine decay (optax ``warmup_cosine_decay_schedule``).

    Linear from ``init_value`` to ``peak_value`` over ``warmup_steps``, then, with
    :math:`s = \min(t - W, D - W)`, :math:`c = \tfrac12(1 + \cos(\pi s / (D - W)))` and
    :math:`\alpha = v_{end} / v_{peak}`,

    .. math:: \eta_t = v_{peak}\left((1 - \alpha)\,c^{\text{exponent}} + \alpha\right)

    so it reaches ``end_value`` at ``decay_steps`` (counted from step 0, warm-up included)
    and stays there. Loshchilov & Hutter, *SGDR*, ICLR 2017.
    """
    f = "warmup_cosine"
    peak_value = require_nonnegative(f, "peak_value", peak_value)
    warmup_steps = require_int(f, "warmup_steps", warmup_steps, 0)
    decay_steps = require_positive_int(f, "decay_steps", decay_steps)
    if decay_steps <= warmup_steps:
        raise ValueError(
            f"{f} requires decay_steps > warmup_steps, got {decay_steps=}, {warmup_steps=}"
        )
    init_value = require_nonnegative(f, "init_value", init_value)
    end_value = require_nonnegative(f, "end_value", end_value)
    exponent = require_positive(f, "exponent", exponent)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    decay = _CosineDecay(peak_value, decay_steps - warmup_steps, alpha, exponent)
    return _after_warmup(
        f,
        _LinearWarmup(peak_value, warmup_steps, init_value),
        decay,
        peak_value=peak_value,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        init_value=init_value,
        end_value=end_value,
        exponent=exponent,
    )


@dataclass(repr=False, eq=False)
class _ExponentialDecay(Schedule):
    """optax ``exponential_decay``: used after the warm-up of :func:`warmup_exponential`."""

    __slots__ = (
        "decay_rate",
        "end_value",
        "init_value",
        "staircase",
        "transition_begin",
        "transition_steps",
    )
    _name = "exponential_decay"

    init_value: float
    transition_steps: int
    decay_rate: float
    transition_begin: int
    staircase: bool
    end_value: float | None

    def _at(self, t: int) -> float:
        count = t - self.transition_begin
        if count <= 0:
            return self.init_value
        p = count // self.transition_steps if self.staircase else count / self.transition_steps
        v = self.init_value * _pow(self.decay_rate, p)
        if self.end_value is not None:
            v = max(v, self.end_value) if self.decay_rate < 1 else min(v, self.end_value)
        return v

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        count = np.maximum(t - self.transition_begin, 0)
        if self.staircase:
            p = (count // self.transition_steps).astype(np.float64)
        else:
            p = count / self.transition_steps
        v = self.init_value * _apow(self.decay_rate, p)
        if self.end_value is not None:
            clip = np.maximum if self.decay_rate < 1 else np.minimum
            v = clip(v, self.end_value)
        return v


def warmup_exponential(
    peak_value: float,
    *,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    init_value: float = 0.0,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    r"""Linear warm-up then exponential decay (optax ``warmup_exponential_decay_schedule``).

    After ``warmup_steps`` the rate is, with :math:`c = t - W - \text{transition\_begin}`,

    .. math:: \eta_t = v_{peak}\,r^{\,c / \text{transition\_steps}}

    (the exponent floored when ``staircase``), and ``v_peak`` while :math:`c \le 0`; it is
    never crosses ``end_value`` when one is given (a floor when ``decay_rate < 1``, a
    ceiling otherwise).
    """
    f = "warmup_exponential"
    peak_value = require_nonnegative(f, "peak_value", peak_value)
    warmup_steps = require_int(f, "warmup_steps", warmup_steps, 0)
    transition_steps = require_positive_int(f, "transition_steps", transition_steps)
    decay_rate = require_positive(f, "decay_rate", decay_rate)
    init_value = require_nonnegative(f, "init_value", init_value)
    transition_begin = require_int(f, "transition_begin", transition_begin, 0)
    require_bool(f, "staircase", staircase)
    if end_value is not None:
        end_value = require_nonnegative(f, "end_value", end_value)
    decay = _ExponentialDecay(
        peak_value,
        transition_steps,
        decay_rate,
        transition_begin,
        bool(staircase),
        end_value,
    )
    return _after_warmup(
        f,
        _LinearWarmup(peak_value, warmup_steps, init_value),
        decay,
        peak_value=peak_value,
        warmup_steps=warmup_steps,
        transition_steps=transition_steps,
        decay_rate=decay_rate,
        init_value=init_value,
        transition_begin=transition_begin,
        staircase=bool(staircase),
        end_value=end_value,
    )


class _InverseSqrt(Schedule):
    __slots__ = ("lr", "warmup_steps")
    _name = "inverse_sqrt"

    def __init__(self, lr: float, warmup: int, params: dict[str, Any]) -> None:
        super().__init__(**params)
        self.lr, self.warmup_steps = lr, warmup

    def _at(self, t: int) -> float:
        n = t + 1
        w = self.warmup_steps
        return self.lr * (n / w if n < w else math.sqrt(w / n))

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        n = (t + 1).astype(np.float64)
        w = float(self.warmup_steps)
        return self.lr * np.minimum(n / w, np.sqrt(w / n))


def inverse_sqrt(lr: float, *, warmup_steps: int = 1) -> Schedule:
    r"""Linear warm-up to ``lr``, then decay as the inverse square root of the step.

    With :math:`n = t + 1` (the update's number counted from 1) and :math:`W` =
    ``warmup_steps``,

    .. math:: \eta_t = \eta_0 \min\left(\frac{n}{W}, \sqrt{\frac{W}{n}}\right),

    which peaks at ``lr`` on step ``t = W - 1``; ``warmup_steps=1`` is plain
    :math:`\eta_0 / \sqrt{t + 1}`. The fairseq ``inverse_sqrt`` schedule with a warm-up
    from 0, and :func:`noam` up to its constant.
    """
    lr = require_nonnegative("inverse_sqrt", "lr", lr)
    w = require_positive_int("inverse_sqrt", "warmup_steps", warmup_steps)
    return _InverseSqrt(lr, w, {"lr": lr, "warmup_steps": w})


def noam(d_model: int, warmup_steps: int, factor: float = 1.0) -> Schedule:
    r"""The Transformer schedule of Vaswani et al., *Attention Is All You Need*, 2017.

    .. math::
        \eta_t = \text{factor}\cdot d_{model}^{-1/2}
                 \min\left(n^{-1/2},\; n\,W^{-3/2}\right),\quad n = t + 1

    The paper counts steps from 1, so the first update (``t = 0``) uses ``n = 1`` and gets a
    non-zero rate; the peak :math:`\text{factor}\,(d_{model} W)^{-1/2}` is on ``t = W - 1``.
    Neither PyTorch nor optax ships it.
    """
    d = require_positive_int("noam", "d_model", d_model)
    w = require_positive_int("noam", "warmup_steps", warmup_steps)
    factor = require_nonnegative("noam", "factor", factor)
    # d^-1/2 min(n^-1/2, n W^-3/2) = (d W)^-1/2 min(sqrt(W/n), n/W): inverse_sqrt's shape.
    params = {"d_model": d, "warmup_steps": w, "factor": factor}
    out = _InverseSqrt(factor / math.sqrt(d * w), w, params)
    out._repr_name = "noam"
    return out
