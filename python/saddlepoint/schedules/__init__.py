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

Layout (as optax's ``schedules/``): ``_base`` (the :class:`Schedule` interface),
``_torch`` (the PyTorch twins), ``_warmup`` (optax's warm-up schedules), ``_compose``
(piecewise, join, inject); argument checks in :mod:`saddlepoint._checks`.
"""

from .._lazy import lazy_attributes
from ._base import Schedule
from ._compose import inject, join, piecewise_constant
from ._torch import (
    constant,
    cosine,
    cosine_restarts,
    exponential,
    linear,
    multistep,
    one_cycle,
    polynomial,
    step_decay,
)
from ._warmup import inverse_sqrt, linear_warmup, noam, warmup_cosine, warmup_exponential

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


# plot depends on this package: plot is imported on first use, not at import time
__getattr__ = lazy_attributes(__name__, "saddlepoint.plot", {"plot": "plot_schedule"})
