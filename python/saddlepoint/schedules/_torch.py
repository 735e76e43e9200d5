"""Schedules with a PyTorch twin (``torch.optim.lr_scheduler``): same names and
semantics, the base learning rate first; differences are listed in the package docs."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import (
    require_bool,
    require_int,
    require_int_list,
    require_nonnegative,
    require_positive,
    require_positive_int,
    require_real,
)
from ._base import Schedule, _apow, _pow


@dataclass(repr=False, eq=False)
class _Constant(Schedule):
    __slots__ = ("lr",)
    _name = "constant"

    lr: float

    def _at(self, t: int) -> float:
        return self.lr

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.full(t.shape, self.lr)


def constant(lr: float) -> Schedule:
    """A constant learning rate: ``lr`` at every step (optax ``constant_schedule``)."""
    return _Constant(require_nonnegative("constant", "lr", lr))


@dataclass(repr=False, eq=False)
class _StepDecay(Schedule):
    __slots__ = ("gamma", "lr", "step_size")
    _name = "step_decay"

    lr: float
    step_size: int
    gamma: float

    def _at(self, t: int) -> float:
        return self.lr * _pow(self.gamma, t // self.step_size)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * _apow(self.gamma, t // self.step_size)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch ``StepLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}
    """
    return _StepDecay(
        require_nonnegative("step_decay", "lr", lr),
        require_positive_int("step_decay", "step_size", step_size),
        require_nonnegative("step_decay", "gamma", gamma),
    )


@dataclass(repr=False, eq=False)
class _MultiStep(Schedule):
    __slots__ = ("gamma", "lr", "milestones")
    _name = "multistep"

    lr: float
    milestones: list[int]
    gamma: float

    def _at(self, t: int) -> float:
        return self.lr * _pow(self.gamma, bisect.bisect_right(self.milestones, t))

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        passed = np.searchsorted(np.asarray(self.milestones, dtype=np.int64), t, side="right")
        return self.lr * _apow(self.gamma, passed)


def multistep(lr: float, milestones: Iterable[int], gamma: float = 0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` at each milestone (PyTorch ``MultiStepLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^{\#\{m \in \text{milestones} : m \le t\}}

    A milestone listed twice applies ``gamma`` twice, as in PyTorch; the order of
    ``milestones`` does not matter.
    """
    ms = sorted(require_int_list("multistep", "milestones", milestones, 1))
    return _MultiStep(
        require_nonnegative("multistep", "lr", lr),
        ms,
        require_nonnegative("multistep", "gamma", gamma),
    )


@dataclass(repr=False, eq=False)
class _Exponential(Schedule):
    __slots__ = ("gamma", "lr")
    _name = "exponential"

    lr: float
    gamma: float

    def _at(self, t: int) -> float:
        return self.lr * _pow(self.gamma, t)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * _apow(self.gamma, t)


def exponential(lr: float, gamma: float) -> Schedule:
    r"""Multiply the rate by ``gamma`` every step (PyTorch ``ExponentialLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^t
    """
    return _Exponential(
        require_nonnegative("exponential", "lr", lr),
        require_positive("exponential", "gamma", gamma),
    )


@dataclass(repr=False, eq=False)
class _Linear(Schedule):
    __slots__ = ("end_factor", "lr", "start_factor", "total_iters")
    _name = "linear"

    lr: float
    start_factor: float
    end_factor: float
    total_iters: int

    def _at(self, t: int) -> float:
        frac = min(t, self.total_iters) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        frac = np.minimum(t, self.total_iters) / self.total_iters
        return self.lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


def linear(
    lr: float, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5
) -> Schedule:
    r"""Scale the rate linearly from ``start_factor`` to ``end_factor`` (PyTorch ``LinearLR``).

    .. math::
        \eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    with :math:`s, e` the start and end factors and :math:`T` = ``total_iters``.

    Unlike PyTorch, ``start_factor`` may be exactly 0 (a warm-up from zero), and both
    factors may exceed 1.
    """
    return _Linear(
        require_nonnegative("linear", "lr", lr),
        require_nonnegative("linear", "start_factor", start_factor),
        require_nonnegative("linear", "end_factor", end_factor),
        require_positive_int("linear", "total_iters", total_iters),
    )


@dataclass(repr=False, eq=False)
class _Polynomial(Schedule):
    __slots__ = ("lr", "power", "total_iters")
    _name = "polynomial"

    lr: float
    total_iters: int
    power: float

    def _at(self, t: int) -> float:
        return self.lr * (1.0 - min(t, self.total_iters) / self.total_iters) ** self.power

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * (1.0 - np.minimum(t, self.total_iters) / self.total_iters) ** self.power


def polynomial(lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""Polynomial decay to zero over ``total_iters`` steps (PyTorch ``PolynomialLR``).

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}
    """
    return _Polynomial(
        require_nonnegative("polynomial", "lr", lr),
        require_positive_int("polynomial", "total_iters", total_iters),
        require_nonnegative("polynomial", "power", power),
    )


@dataclass(repr=False, eq=False)
class _Cosine(Schedule):
    __slots__ = ("T_max", "eta_min", "lr")
    _name = "cosine"

    lr: float
    T_max: int
    eta_min: float

    def _at(self, t: int) -> float:
        if t >= self.T_max:
            return self.eta_min
        c = 0.5 * (1.0 + math.cos(math.pi * t / self.T_max))
        return self.eta_min + (self.lr - self.eta_min) * c

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        c = 0.5 * (1.0 + np.cos(np.pi * np.minimum(t, self.T_max) / self.T_max))
        out = self.eta_min + (self.lr - self.eta_min) * c
        # cos(pi) is -1 exactly, but keep the end exact whatever the rounding of the sum.
        out[t >= self.T_max] = self.eta_min
        return out


def cosine(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing from ``lr`` to ``eta_min`` over ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi \min(t, T_{\max})}{T_{\max}}\right)

    Equal to PyTorch's ``CosineAnnealingLR`` for ``t <= T_max``. After ``T_max`` it stays at
    ``eta_min``, as optax's ``cosine_decay_schedule`` does; PyTorch's closed form is periodic
    and climbs back up to ``lr`` at ``2 * T_max``. Loshchilov & Hutter, *SGDR: Stochastic
    Gradient Descent with Warm Restarts*, ICLR 2017.
    """
    lr = require_nonnegative("cosine", "lr", lr)
    return _Cosine(
        lr,
        require_positive_int("cosine", "T_max", T_max),
        require_nonnegative("cosine", "eta_min", eta_min),
    )


@dataclass(repr=False, eq=False)
class _CosineRestarts(Schedule):
    __slots__ = ("T_0", "T_mult", "eta_min", "lr")
    _name = "cosine_restarts"

    lr: float
    T_0: int
    T_mult: int
    eta_min: float

    def _at(self, t: int) -> float:
        # Integer bookkeeping, exactly as PyTorch's step() does it; cycles grow
        # geometrically, so the loop runs O(log t) times when T_mult > 1.
        if self.T_mult == 1:
            t_cur, t_i = t % self.T_0, self.T_0
        else:
            t_cur, t_i = t, self.T_0
            while t_cur >= t_i:
                t_cur -= t_i
                t_i *= self.T_mult
        c = 0.5 * (1.0 + math.cos(math.pi * t_cur / t_i))
        return self.eta_min + (self.lr - self.eta_min) * c

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        t_cur = t.copy()
        t_i = np.full(t.shape, self.T_0, dtype=np.int64)
        if self.T_mult == 1:
            t_cur %= self.T_0
        else:
            while True:
                past = t_cur >= t_i
                if not past.any():
                    break
                t_cur[past] -= t_i[past]
                t_i[past] *= self.T_mult
        c = 0.5 * (1.0 + np.cos(np.pi * t_cur / t_i))
        return self.eta_min + (self.lr - self.eta_min) * c


def cosine_restarts(lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> Schedule:
    r"""Cosine annealing with warm restarts (SGDR; PyTorch ``CosineAnnealingWarmRestarts``).

    The first cycle lasts ``T_0`` steps, each next one ``T_mult`` times longer. With
    :math:`T_{cur}` the steps since the last restart and :math:`T_i` the current cycle length,

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})(1 + \cos(\pi T_{cur}/T_i)).

    Loshchilov & Hutter, *SGDR*, ICLR 2017.
    """
    return _CosineRestarts(
        require_nonnegative("cosine_restarts", "lr", lr),
        require_positive_int("cosine_restarts", "T_0", T_0),
        require_int("cosine_restarts", "T_mult", T_mult, 1),
        require_nonnegative("cosine_restarts", "eta_min", eta_min),
    )


class _OneCycle(Schedule):
    __slots__ = ("cos", "ends", "values")
    _name = "one_cycle"

    def __init__(self, ends: list[float], values: list[float], cos: bool, **params: Any):
        super().__init__(**params)
        # Phase i runs from ends[i-1] (0 for the first) to ends[i], from values[i] to
        # values[i+1]; ends are PyTorch's float end steps.
        self.ends, self.values, self.cos = ends, values, cos

    def _at(self, t: int) -> float:
        start = 0.0
        last = len(self.ends) - 1
        for i, end in enumerate(self.ends):
            if t <= end or i == last:
                pct = min((t - start) / (end - start), 1.0)
                a, b = self.values[i], self.values[i + 1]
                if self.cos:
                    return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1.0)
                return (b - a) * pct + a
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        ends = np.asarray(self.ends)
        # The phase of t: the first whose end is >= t, else the last.
        phase = np.minimum(np.searchsorted(ends, t, side="left"), len(ends) - 1)
        starts = np.concatenate(([0.0], ends[:-1]))
        pct = np.minimum((t - starts[phase]) / (ends[phase] - starts[phase]), 1.0)
        a = np.asarray(self.values[:-1])[phase]
        b = np.asarray(self.values[1:])[phase]
        if self.cos:
            return b + (a - b) / 2.0 * (np.cos(np.pi * pct) + 1.0)
        return (b - a) * pct + a


def one_cycle(
    max_lr: float,
    total_steps: int | None = None,
    *,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    r"""The 1cycle policy (PyTorch ``OneCycleLR``, learning rate only).

    From ``max_lr / div_factor`` up to ``max_lr`` over the first ``pct_start * total_steps
    - 1`` steps, then down to ``max_lr / (div_factor * final_div_factor)`` at step
    ``total_steps - 1``, annealing by cosine (``anneal_strategy="cos"``:
    :math:`b + \tfrac12(a - b)(1 + \cos\pi p)`) or linearly (``"linear"``). With
    ``three_phase=True`` the rate first comes back down to the initial rate at ``2 *
    pct_start * total_steps - 2`` and then anneals to the minimum, as in PyTorch. The phase
    boundaries are PyTorch's (fractional) step numbers, so the values agree step by step.

    Unlike PyTorch, which raises once stepped past ``total_steps``, the rate stays at its
    final value from step ``total_steps - 1`` on. Momentum cycling is not part of a learning
    rate schedule. As in PyTorch, ``total_steps`` may instead be given as ``epochs *
    steps_per_epoch``; the arguments after it are keyword-only. Smith & Topin,
    *Super-Convergence*, 2018.
    """
    f = "one_cycle"
    max_lr = require_nonnegative(f, "max_lr", max_lr)
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(
                f"{f} requires total_steps, or both epochs and steps_per_epoch, got "
                f"{total_steps=}, {epochs=}, {steps_per_epoch=}"
            )
        total_steps = require_positive_int(f, "epochs", epochs) * require_positive_int(
            f, "steps_per_epoch", steps_per_epoch
        )
    total_steps = require_positive_int(f, "total_steps", total_steps)
    pct_start = require_real(f, "pct_start", pct_start)
    if not 0.0 < pct_start < 1.0:
        raise ValueError(f"{f} requires 0 < pct_start < 1, got pct_start={pct_start!r}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"{f} requires anneal_strategy 'cos' or 'linear', got {anneal_strategy=}")
    div_factor = require_positive(f, "div_factor", div_factor)
    final_div_factor = require_positive(f, "final_div_factor", final_div_factor)
    require_bool(f, "three_phase", three_phase)
    initial = max_lr / div_factor
    minimum = initial / final_div_factor
    warm_end = pct_start * total_steps - 1
    if warm_end <= 0:
        raise ValueError(
            f"{f} requires pct_start * total_steps > 1 (a warm-up of at least one step), "
            f"got pct_start * total_steps={pct_start * total_steps!r}"
        )
    if three_phase:
        ends = [warm_end, 2 * pct_start * total_steps - 2, total_steps - 1.0]
        values = [initial, max_lr, initial, minimum]
    else:
        ends = [warm_end, total_steps - 1.0]
        values = [initial, max_lr, minimum]
    if any(b <= a for a, b in zip(ends, ends[1:])):
        raise ValueError(
            f"{f} requires every phase to last more than 0 steps, got phase ends {ends} "
            f"for {total_steps=}, {pct_start=}, {three_phase=}"
        )
    return _OneCycle(
        ends,
        values,
        anneal_strategy == "cos",
        max_lr=max_lr,
        total_steps=total_steps,
        pct_start=pct_start,
        anneal_strategy=anneal_strategy,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        three_phase=bool(three_phase),
    )
