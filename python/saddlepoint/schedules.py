"""Learning-rate schedules: callables ``step -> lr``, with the step counted from 0.

Every schedule is a :class:`Schedule`. Called with a Python ``int`` (or a NumPy integer
scalar) it returns a Python ``float`` in a few microseconds, which is what the optimizers of
:mod:`saddlepoint.optim` do: they call ``lr(k)`` with ``k`` the number of steps already
taken (0 on the first step). Called with an integer array it returns a float64 array of the
same shape, so a whole schedule is evaluated, plotted or handed to a kernel at once::

    >>> import numpy as np
    >>> from saddlepoint import schedules
    >>> s = schedules.cosine(0.1, T_max=25, eta_min=1e-3)
    >>> s(0), s(25)
    (0.1, 0.001)
    >>> s(np.arange(4)).shape
    (4,)

Steps must be non-negative integers: a negative step raises ``ValueError``, a float or a
bool raises ``TypeError``.

Names follow the PyTorch scheduler each schedule mirrors (``torch.optim.lr_scheduler``),
with the base learning rate as the first argument, so ``step_decay(0.1, step_size=7,
gamma=0.5)`` is ``StepLR(opt, step_size=7, gamma=0.5)`` on an optimizer with ``lr=0.1``:
``schedule(k)`` is the learning rate PyTorch's optimizer uses on its step ``k`` (after ``k``
calls of ``scheduler.step()``). Schedules without a PyTorch twin take optax's argument
names (keyword-only, because their first argument is still the learning rate while
optax's is ``init_value``).

Differences from PyTorch (deliberate, and tested):

- :func:`cosine` stays at ``eta_min`` after ``T_max`` (as optax's ``cosine_decay_schedule``);
  PyTorch's ``CosineAnnealingLR`` is periodic and climbs back to ``lr`` by ``2 * T_max``.
- :func:`linear` accepts ``start_factor=0`` (a warm-up from exactly zero); PyTorch requires
  ``start_factor > 0`` because its recursive update divides by the previous rate.
- :func:`one_cycle` holds its final rate after ``total_steps - 1``; PyTorch raises once the
  scheduler is stepped past ``total_steps``.
- All schedules use the closed form; PyTorch's chainable (recursive) form of the same
  schedule agrees to rounding (a relative 1e-12 over thousands of steps).
"""

from __future__ import annotations

import abc
import bisect
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .plot import plot_schedule as plot

__all__ = [
    "Schedule",
    "constant",
    "cosine",
    "cosine_restarts",
    "exponential",
    "inject",
    "inverse_sqrt",
    "join",
    "linear",
    "linear_warmup",
    "multistep",
    "noam",
    "one_cycle",
    "piecewise_constant",
    "plot",
    "polynomial",
    "step_decay",
    "warmup_cosine",
    "warmup_exponential",
]

Steps = Union[int, np.integer, ArrayLike]


class Schedule(abc.ABC):
    """A learning-rate schedule: ``schedule(step) -> lr`` for ``step = 0, 1, 2, ...``.

    Subclasses implement ``_at(t)`` (Python int ``t >= 0`` -> Python float) and
    ``_array(t)`` (int64 array, all ``>= 0`` -> float64 array). The two are written
    separately on purpose: the scalar path is what an optimizer calls on every step and must
    not pay NumPy's per-call overhead; the tests hold both paths equal.
    """

    __slots__ = ("_params", "_repr_name")
    _name = "schedule"

    def __init__(self, **params: Any) -> None:
        # Kept for the repr: the factory call that rebuilds this schedule.
        self._params = params
        self._repr_name = self._name

    @overload
    def __call__(self, step: int | np.integer) -> float: ...
    @overload
    def __call__(self, step: ArrayLike) -> NDArray[np.float64]: ...

    def __call__(self, step: Steps) -> float | NDArray[np.float64]:
        # The hot path: an optimizer passes a plain int on every step.
        if type(step) is int:
            if step < 0:
                raise ValueError(f"step: expected an integer >= 0, got {step}")
            return self._at(step)
        return self._call_slow(step)

    def _call_slow(self, step: Any) -> float | NDArray[np.float64]:
        if isinstance(step, (bool, np.bool_)):
            raise TypeError(f"step: expected an integer or integer array, got {step!r}")
        if isinstance(step, numbers.Integral):
            return self(int(step))
        steps = np.asarray(step)
        if steps.dtype.kind not in "iu":
            raise TypeError(
                f"step: expected an integer or integer array, got {steps.dtype} "
                f"{'array' if steps.ndim else 'scalar'}"
            )
        if steps.size and steps.min() < 0:
            raise ValueError(f"step: expected integers >= 0, got a minimum of {steps.min()}")
        # Implementations work on 1-D arrays (masked assignments need one); reshape back.
        flat = steps.astype(np.int64, copy=False).reshape(-1)
        return self._array(flat).astype(np.float64, copy=False).reshape(steps.shape)

    @abc.abstractmethod
    def _at(self, t: int) -> float:
        """The rate at step ``t`` (a Python int >= 0) as a Python float."""

    @abc.abstractmethod
    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        """The rates at the steps ``t`` (1-D int64, all >= 0)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{self._repr_name}({args})"


# ----------------------------------------------------------------------------------------
# Argument checks. Factories raise before building anything; messages name the factory,
# the argument and the expectation: "cosine requires T_max > 0, got T_max=0".


def _real(factory: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{factory} requires {name} to be a real number, got {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{factory} requires a finite {name}, got {name}={value!r}")
    return value


def _nonneg(factory: str, name: str, value: Any) -> float:
    v = _real(factory, name, value)
    if v < 0:
        raise ValueError(f"{factory} requires {name} >= 0, got {name}={value!r}")
    return v


def _positive(factory: str, name: str, value: Any) -> float:
    v = _real(factory, name, value)
    if v <= 0:
        raise ValueError(f"{factory} requires {name} > 0, got {name}={value!r}")
    return v


def _integer(factory: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{factory} requires {name} to be an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{factory} requires {name} >= {minimum}, got {name}={value}")
    if value >= 2**63:  # steps are int64 in the array form
        raise ValueError(f"{factory} requires {name} < 2**63, got {name}={value}")
    return value


def _positive_int(factory: str, name: str, value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        if int(value) <= 0:
            raise ValueError(f"{factory} requires {name} > 0, got {name}={int(value)}")
    return _integer(factory, name, value, 1)


def _int_list(factory: str, name: str, values: Any, minimum: int) -> list[int]:
    if (
        isinstance(values, (str, bytes))
        or not isinstance(values, Iterable)
        or (isinstance(values, np.ndarray) and values.ndim != 1)  # a 0-d array cannot iterate
    ):
        raise TypeError(
            f"{factory} requires {name} to be a sequence of ints, got {type(values).__name__}"
        )
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{factory} requires {name} to hold ints, got {v!r}")
        if int(v) < minimum:
            raise ValueError(f"{factory} requires every entry of {name} >= {minimum}, got {v}")
        out.append(int(v))
    return out


def _pow(base: float, exponent: float) -> float:
    # A growing schedule (gamma > 1) overflows to inf, as the array path does, rather than
    # raising OverflowError from float.__pow__.
    try:
        return base**exponent
    except OverflowError:
        return math.inf


def _apow(base: float, exponent: NDArray[Any]) -> NDArray[np.float64]:
    with np.errstate(over="ignore"):
        return base ** exponent.astype(np.float64)


# ----------------------------------------------------------------------------------------
# PyTorch twins


class _Constant(Schedule):
    __slots__ = ("lr",)
    _name = "constant"

    def __init__(self, lr: float) -> None:
        super().__init__(lr=lr)
        self.lr = lr

    def _at(self, t: int) -> float:
        return self.lr

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.full(t.shape, self.lr)


def constant(lr: float) -> Schedule:
    """A constant learning rate: ``lr`` at every step (optax ``constant_schedule``)."""
    return _Constant(_nonneg("constant", "lr", lr))


class _StepDecay(Schedule):
    __slots__ = ("gamma", "lr", "step_size")
    _name = "step_decay"

    def __init__(self, lr: float, step_size: int, gamma: float) -> None:
        super().__init__(lr=lr, step_size=step_size, gamma=gamma)
        self.lr, self.step_size, self.gamma = lr, step_size, gamma

    def _at(self, t: int) -> float:
        return self.lr * _pow(self.gamma, t // self.step_size)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * _apow(self.gamma, t // self.step_size)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch ``StepLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}
    """
    return _StepDecay(
        _nonneg("step_decay", "lr", lr),
        _positive_int("step_decay", "step_size", step_size),
        _nonneg("step_decay", "gamma", gamma),
    )


class _MultiStep(Schedule):
    __slots__ = ("gamma", "lr", "milestones")
    _name = "multistep"

    def __init__(self, lr: float, milestones: list[int], gamma: float) -> None:
        super().__init__(lr=lr, milestones=milestones, gamma=gamma)
        self.lr, self.milestones, self.gamma = lr, milestones, gamma

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
    ms = sorted(_int_list("multistep", "milestones", milestones, 1))
    return _MultiStep(_nonneg("multistep", "lr", lr), ms, _nonneg("multistep", "gamma", gamma))


class _Exponential(Schedule):
    __slots__ = ("gamma", "lr")
    _name = "exponential"

    def __init__(self, lr: float, gamma: float) -> None:
        super().__init__(lr=lr, gamma=gamma)
        self.lr, self.gamma = lr, gamma

    def _at(self, t: int) -> float:
        return self.lr * _pow(self.gamma, t)

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * _apow(self.gamma, t)


def exponential(lr: float, gamma: float) -> Schedule:
    r"""Multiply the rate by ``gamma`` every step (PyTorch ``ExponentialLR``).

    .. math:: \eta_t = \eta_0 \, \gamma^t
    """
    return _Exponential(_nonneg("exponential", "lr", lr), _positive("exponential", "gamma", gamma))


class _Linear(Schedule):
    __slots__ = ("end_factor", "lr", "start_factor", "total_iters")
    _name = "linear"

    def __init__(self, lr: float, start_factor: float, end_factor: float, total_iters: int):
        super().__init__(
            lr=lr, start_factor=start_factor, end_factor=end_factor, total_iters=total_iters
        )
        self.lr, self.start_factor, self.end_factor = lr, start_factor, end_factor
        self.total_iters = total_iters

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
        _nonneg("linear", "lr", lr),
        _nonneg("linear", "start_factor", start_factor),
        _nonneg("linear", "end_factor", end_factor),
        _positive_int("linear", "total_iters", total_iters),
    )


class _Polynomial(Schedule):
    __slots__ = ("lr", "power", "total_iters")
    _name = "polynomial"

    def __init__(self, lr: float, total_iters: int, power: float) -> None:
        super().__init__(lr=lr, total_iters=total_iters, power=power)
        self.lr, self.total_iters, self.power = lr, total_iters, power

    def _at(self, t: int) -> float:
        return self.lr * (1.0 - min(t, self.total_iters) / self.total_iters) ** self.power

    def _array(self, t: NDArray[np.int64]) -> NDArray[np.float64]:
        return self.lr * (1.0 - np.minimum(t, self.total_iters) / self.total_iters) ** self.power


def polynomial(lr: float, total_iters: int = 5, power: float = 1.0) -> Schedule:
    r"""Polynomial decay to zero over ``total_iters`` steps (PyTorch ``PolynomialLR``).

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}
    """
    return _Polynomial(
        _nonneg("polynomial", "lr", lr),
        _positive_int("polynomial", "total_iters", total_iters),
        _nonneg("polynomial", "power", power),
    )


class _Cosine(Schedule):
    __slots__ = ("T_max", "eta_min", "lr")
    _name = "cosine"

    def __init__(self, lr: float, T_max: int, eta_min: float) -> None:
        super().__init__(lr=lr, T_max=T_max, eta_min=eta_min)
        self.lr, self.T_max, self.eta_min = lr, T_max, eta_min

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
    lr = _nonneg("cosine", "lr", lr)
    return _Cosine(
        lr, _positive_int("cosine", "T_max", T_max), _nonneg("cosine", "eta_min", eta_min)
    )


class _CosineRestarts(Schedule):
    __slots__ = ("T_0", "T_mult", "eta_min", "lr")
    _name = "cosine_restarts"

    def __init__(self, lr: float, T_0: int, T_mult: int, eta_min: float) -> None:
        super().__init__(lr=lr, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
        self.lr, self.T_0, self.T_mult, self.eta_min = lr, T_0, T_mult, eta_min

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
        _nonneg("cosine_restarts", "lr", lr),
        _positive_int("cosine_restarts", "T_0", T_0),
        _integer("cosine_restarts", "T_mult", T_mult, 1),
        _nonneg("cosine_restarts", "eta_min", eta_min),
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
    max_lr = _nonneg(f, "max_lr", max_lr)
    if total_steps is None:
        if epochs is None or steps_per_epoch is None:
            raise ValueError(
                f"{f} requires total_steps, or both epochs and steps_per_epoch, got "
                f"{total_steps=}, {epochs=}, {steps_per_epoch=}"
            )
        total_steps = _positive_int(f, "epochs", epochs) * _positive_int(
            f, "steps_per_epoch", steps_per_epoch
        )
    total_steps = _positive_int(f, "total_steps", total_steps)
    pct_start = _real(f, "pct_start", pct_start)
    if not 0.0 < pct_start < 1.0:
        raise ValueError(f"{f} requires 0 < pct_start < 1, got pct_start={pct_start!r}")
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"{f} requires anneal_strategy 'cos' or 'linear', got {anneal_strategy=}")
    div_factor = _positive(f, "div_factor", div_factor)
    final_div_factor = _positive(f, "final_div_factor", final_div_factor)
    if not isinstance(three_phase, (bool, np.bool_)):
        raise TypeError(f"{f} requires three_phase to be a bool, got {three_phase!r}")
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


# ----------------------------------------------------------------------------------------
# Warm-up schedules (optax names)


class _LinearWarmup(Schedule):
    __slots__ = ("init_value", "peak_value", "warmup_steps")
    _name = "linear_warmup"

    def __init__(self, peak_value: float, warmup_steps: int, init_value: float) -> None:
        super().__init__(peak_value=peak_value, warmup_steps=warmup_steps, init_value=init_value)
        self.peak_value, self.warmup_steps, self.init_value = peak_value, warmup_steps, init_value

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
        _nonneg(f, "peak_value", peak_value),
        _integer(f, "warmup_steps", warmup_steps, 0),
        _nonneg(f, "init_value", init_value),
    )


class _CosineDecay(Schedule):
    """optax ``cosine_decay_schedule``: used after the warm-up of :func:`warmup_cosine`."""

    __slots__ = ("alpha", "decay_steps", "exponent", "init_value")
    _name = "cosine_decay"

    def __init__(self, init_value: float, decay_steps: int, alpha: float, exponent: float):
        super().__init__(
            init_value=init_value, decay_steps=decay_steps, alpha=alpha, exponent=exponent
        )
        self.init_value, self.decay_steps = init_value, decay_steps
        self.alpha, self.exponent = alpha, exponent

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
    peak_value = _nonneg(f, "peak_value", peak_value)
    warmup_steps = _integer(f, "warmup_steps", warmup_steps, 0)
    decay_steps = _positive_int(f, "decay_steps", decay_steps)
    if decay_steps <= warmup_steps:
        raise ValueError(
            f"{f} requires decay_steps > warmup_steps, got {decay_steps=}, {warmup_steps=}"
        )
    init_value = _nonneg(f, "init_value", init_value)
    end_value = _nonneg(f, "end_value", end_value)
    exponent = _positive(f, "exponent", exponent)
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    out = join(
        [
            _LinearWarmup(peak_value, warmup_steps, init_value),
            _CosineDecay(peak_value, decay_steps - warmup_steps, alpha, exponent),
        ],
        [warmup_steps],
    )
    out._repr_name = f
    out._params = {
        "peak_value": peak_value,
        "warmup_steps": warmup_steps,
        "decay_steps": decay_steps,
        "init_value": init_value,
        "end_value": end_value,
        "exponent": exponent,
    }
    return out


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

    def __init__(
        self,
        init_value: float,
        transition_steps: int,
        decay_rate: float,
        transition_begin: int,
        staircase: bool,
        end_value: float | None,
    ) -> None:
        super().__init__(
            init_value=init_value,
            transition_steps=transition_steps,
            decay_rate=decay_rate,
            transition_begin=transition_begin,
            staircase=staircase,
            end_value=end_value,
        )
        self.init_value, self.transition_steps = init_value, transition_steps
        self.decay_rate, self.transition_begin = decay_rate, transition_begin
        self.staircase, self.end_value = staircase, end_value

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
    peak_value = _nonneg(f, "peak_value", peak_value)
    warmup_steps = _integer(f, "warmup_steps", warmup_steps, 0)
    transition_steps = _positive_int(f, "transition_steps", transition_steps)
    decay_rate = _positive(f, "decay_rate", decay_rate)
    init_value = _nonneg(f, "init_value", init_value)
    transition_begin = _integer(f, "transition_begin", transition_begin, 0)
    if not isinstance(staircase, (bool, np.bool_)):
        raise TypeError(f"{f} requires staircase to be a bool, got {staircase!r}")
    if end_value is not None:
        end_value = _nonneg(f, "end_value", end_value)
    out = join(
        [
            _LinearWarmup(peak_value, warmup_steps, init_value),
            _ExponentialDecay(
                peak_value,
                transition_steps,
                decay_rate,
                transition_begin,
                bool(staircase),
                end_value,
            ),
        ],
        [warmup_steps],
    )
    out._repr_name = f
    out._params = {
        "peak_value": peak_value,
        "warmup_steps": warmup_steps,
        "transition_steps": transition_steps,
        "decay_rate": decay_rate,
        "init_value": init_value,
        "transition_begin": transition_begin,
        "staircase": bool(staircase),
        "end_value": end_value,
    }
    return out


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
    lr = _nonneg("inverse_sqrt", "lr", lr)
    w = _positive_int("inverse_sqrt", "warmup_steps", warmup_steps)
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
    d = _positive_int("noam", "d_model", d_model)
    w = _positive_int("noam", "warmup_steps", warmup_steps)
    factor = _nonneg("noam", "factor", factor)
    # d^-1/2 min(n^-1/2, n W^-3/2) = (d W)^-1/2 min(sqrt(W/n), n/W): inverse_sqrt's shape.
    params = {"d_model": d, "warmup_steps": w, "factor": factor}
    out = _InverseSqrt(factor / math.sqrt(d * w), w, params)
    out._repr_name = "noam"
    return out


# ----------------------------------------------------------------------------------------
# Composition


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
    init_value = _nonneg(f, "init_value", init_value)
    items: dict[int, float] = {}
    if boundaries_and_scales is not None:
        if not isinstance(boundaries_and_scales, Mapping):
            raise TypeError(
                f"{f} requires boundaries_and_scales to be a mapping step -> scale, got "
                f"{type(boundaries_and_scales).__name__}"
            )
        for b, s in boundaries_and_scales.items():
            (b,) = _int_list(f, "boundaries_and_scales (keys)", [b], 0)
            items[b] = _nonneg(f, f"boundaries_and_scales[{b}]", s)
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
    bounds = _int_list("join", "boundaries", boundaries, 0)
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
    if not isinstance(vectorized, (bool, np.bool_)):
        raise TypeError(f"inject requires vectorized to be a bool, got {vectorized!r}")
    return _Inject(fn, bool(vectorized))
