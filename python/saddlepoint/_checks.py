"""Argument checks shared by the whole package, in two message styles.

Functions and methods name the argument: ``steps: expected an int >= 0, got -1``
(:func:`int_at_least`, :func:`finite_number`, and :func:`checked_int` / :func:`real_number`
where a wrong type is a ``TypeError``). Factories (schedules, surfaces) name themselves, as
the house style asks: ``cosine requires T_max > 0, got T_max=0`` (the ``require_*``
functions). A bool is never accepted as a number: ``True`` is an ``int`` to Python, but a
flag passed where a count belongs is a mistake.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # typing.TypeGuard is Python >= 3.10; annotations are not evaluated
    from typing import TypeGuard


def is_int(value: Any) -> TypeGuard[int | np.integer[Any]]:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """A real number (Python or NumPy, ints included), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# ----------------------------------------------------------------------------------------
# "name: expected ..." (functions and methods)


def int_at_least(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum``; anything else is a ``ValueError``."""
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def checked_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int ``>= minimum``: a ``TypeError`` for a non-int, a ``ValueError``
    for one below ``minimum``."""
    if not is_int(value):
        raise TypeError(f"{name}: expected an int >= {minimum}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return int(value)


def finite_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = False) -> float:
    """``value`` as a finite float ``>= minimum`` (``> minimum`` when ``strict``); anything
    else is a ``ValueError``."""
    ok = (
        is_real(value)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    )
    if not ok:
        relation = ">" if strict else ">="
        raise ValueError(f"{name}: expected a finite value {relation} {minimum:g}, got {value!r}")
    return float(value)


def real_number(name: str, value: Any, *, minimum: float = 0.0) -> float:
    """``value`` as a finite float ``>= minimum``: a ``TypeError`` for a non-number, a
    ``ValueError`` for NaN, Inf or a value below ``minimum``."""
    if not is_real(value):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    value = float(value)
    if not (math.isfinite(value) and value >= minimum):
        raise ValueError(f"{name}: expected a finite value >= {minimum:g}, got {value}")
    return value


# ----------------------------------------------------------------------------------------
# "factory requires ..." (schedule and surface factories)


def require_real(factory: str, name: str, value: Any) -> float:
    """A finite real number."""
    if not is_real(value):
        raise TypeError(
            f"{factory} requires {name} to be a real number, got {type(value).__name__}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{factory} requires a finite {name}, got {name}={value!r}")
    return value


def require_nonnegative(factory: str, name: str, value: Any) -> float:
    v = require_real(factory, name, value)
    if v < 0:
        raise ValueError(f"{factory} requires {name} >= 0, got {name}={value!r}")
    return v


def require_positive(factory: str, name: str, value: Any) -> float:
    v = require_real(factory, name, value)
    if v <= 0:
        raise ValueError(f"{factory} requires {name} > 0, got {name}={value!r}")
    return v


def require_int(factory: str, name: str, value: Any, minimum: int) -> int:
    """An int in ``[minimum, 2**63)`` (steps are int64 in the array form of a schedule)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{factory} requires {name} to be an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{factory} requires {name} >= {minimum}, got {name}={value}")
    if value >= 2**63:
        raise ValueError(f"{factory} requires {name} < 2**63, got {name}={value}")
    return value


def require_positive_int(factory: str, name: str, value: Any) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        if int(value) <= 0:
            raise ValueError(f"{factory} requires {name} > 0, got {name}={int(value)}")
    return require_int(factory, name, value, 1)


def require_int_list(factory: str, name: str, values: Any, minimum: int) -> list[int]:
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


def require_bool(factory: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{factory} requires {name} to be a bool, got {value!r}")
    return bool(value)
