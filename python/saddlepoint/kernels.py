"""Fused, in-place optimizer steps (compiled).

Each function updates ``param`` and its state arrays in place in one pass over memory, with
``torch.optim``'s single-tensor semantics: the same hyper-parameter names and defaults, the
same placement of ``eps``, the same bias correction, coupled ``weight_decay`` for Adam and
decoupled for AdamW (``decoupled_weight_decay=True``).

Arrays are C-contiguous float32 or float64 NumPy arrays (state arrays of the parameter's
dtype and shape), or lists of them: a model's parameters are stepped in one call. Every
float hyper-parameter is a number, or a 1-D array with one value per row of a 2-D ``param``
whose rows are independent runs (a sweep of 10,000 learning rates is one call per step).

Nothing is ever copied: a float32 gradient for a float64 parameter, a strided view, a
read-only array or two arguments sharing memory raise ``TypeError``/``ValueError`` before
any array is touched. NaN and Inf in a gradient propagate exactly as in PyTorch.

The lecture's forms are the same methods written differently: momentum as
``m = mu*m - lr*g; p += m`` equals PyTorch's ``buf = mu*buf + g; p -= lr*buf`` while ``lr``
is constant (``m = -lr*buf``), and RMSProp's ``sigma_t = sqrt(alpha*sigma_{t-1}^2 +
(1-alpha)*g_t^2)`` is ``square_avg``'s recursion started at ``sigma_0 = |g_0|`` instead of 0
(``sigma_t**2 - square_avg = alpha**(t+1) * g_0**2``: it decays, but is not zero).
"""

from __future__ import annotations

from ._core import adagrad_step, adam_step, rmsprop_step, sgd_step

__all__ = ["adagrad_step", "adam_step", "rmsprop_step", "sgd_step"]
