"""The :class:`Schedule` interface: a callable ``step -> lr`` with a scalar path (what an
optimizer calls on every step) and an array path (a whole schedule at once)."""

from __future__ import annotations

import abc
import dataclasses
import math
import numbers
from typing import Any, Union, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

Steps = Union[int, np.integer, ArrayLike]


class Schedule(abc.ABC):
    """A learning-rate schedule: ``schedule(step) -> lr`` for ``step = 0, 1, 2, ...``.

    Subclasses implement ``_at(t)`` (Python int ``t >= 0`` -> Python float) and
    ``_array(t)`` (int64 array, all ``>= 0`` -> float64 array). The two are written
    separately on purpose: the scalar path is what an optimizer calls on every step and must
    not pay NumPy's per-call overhead; the tests hold both paths equal.

    A schedule whose attributes are its factory's arguments is declared as a dataclass
    (``repr=False, eq=False``) of those fields, which its repr then shows; the others call
    ``__init__`` with the arguments to show.
    """

    __slots__ = ("_params", "_repr_name")
    _name = "schedule"

    def __init__(self, **params: Any) -> None:
        # Kept for the repr: the factory call that rebuilds this schedule.
        self._params = params
        self._repr_name = self._name

    def __post_init__(self) -> None:
        # Called on the schedules declared as dataclasses: their fields are the factory's
        # arguments, in order, so they are also what the repr shows.
        fields = dataclasses.fields(self)  # type: ignore[arg-type]
        Schedule.__init__(self, **{f.name: getattr(self, f.name) for f in fields})

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
