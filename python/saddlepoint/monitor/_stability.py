"""The edge-of-stability ratio of each optimizer, and what the monitor reads from one.

On a quadratic with top Hessian eigenvalue ``lambda`` gradient descent is stable for
``lr < 2 / lambda``; ``stability_ratio`` is the share of that limit the step uses (1.0: at the
limit, above: the top direction grows):

- SGD: ``lr * lambda / 2``; heavy-ball momentum ``mu`` (torch's buffer form) raises the limit
  to ``2 (1 + mu) / lr``: ``lr * lambda / (2 (1 + mu))``; Nesterov's to
  ``2 (1 + mu) / (lr (1 + 2 mu))``; dampening ``tau`` scales the step by ``1 - tau``; coupled
  weight decay adds ``weight_decay`` to ``lambda``.
- Adam/AdamW: the same on the *preconditioned* Hessian ``D H`` with
  ``D = diag(1 / (sqrt(v / bc2) + eps))`` from the optimizer's second-moment state, and the
  EMA momentum limit ``2 (1 + beta1) / (1 - beta1)`` (Cohen et al. 2022, "Adaptive Gradient
  Methods at the Edge of Stability": 38 / lr for beta1 = 0.9):
  ``lr / bc1 * lambda(D H) * (1 - beta1) / (2 (1 + beta1))``.
- RMSprop: ``D = diag(1 / (sqrt(square_avg) + eps))`` (centred: ``square_avg - grad_avg^2``),
  momentum as heavy-ball; Adagrad: ``D = diag(1 / (sqrt(sum) + eps))`` and the decayed
  ``lr / (1 + (t - 1) lr_decay)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ADAPTIVE = ("Adam", "AdamW", "RMSprop", "Adagrad")


@dataclass(frozen=True)
class StepRule:
    """What the monitor knows of the optimizer at one step."""

    kind: str  # "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"
    lr: float  # the step's effective learning rate (Adam: lr / bc1; Adagrad: decayed)
    momentum: float = 0.0
    nesterov: bool = False
    dampening: float = 0.0
    weight_decay: float = 0.0
    beta1: float = 0.0
    base_lr: float = math.nan  # the optimizer's own lr (nan: same as lr)

    def __post_init__(self) -> None:
        if math.isnan(self.base_lr):
            object.__setattr__(self, "base_lr", self.lr)

    @property
    def adaptive(self) -> bool:
        return self.kind in ADAPTIVE

    def ratio(self, lam: float) -> float:
        """``stability_ratio`` from the top eigenvalue of the (preconditioned) Hessian."""
        if not math.isfinite(lam) or not math.isfinite(self.lr):
            return math.nan
        if self.kind in ("Adam", "AdamW"):
            b = self.beta1
            return self.lr * lam * (1.0 - b) / (2.0 * (1.0 + b))
        mu = self.momentum
        lam = lam + (self.weight_decay if self.kind == "SGD" else 0.0)
        scale = (1.0 - self.dampening) if mu > 0 else 1.0
        if self.nesterov and mu > 0:
            return self.lr * scale * lam * (1.0 + 2.0 * mu) / (2.0 * (1.0 + mu))
        return self.lr * scale * lam / (2.0 * (1.0 + mu))


def _scalar(name: str, value: Any) -> float:
    if type(value) is float:  # the usual case, read at every check: no array round trip
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 0:
        raise ValueError(
            f"optimizer: {name} varies by row (a sweep's optimizer); the monitor watches one run"
        )
    return float(arr)


def current_lr(opt: Any) -> float:
    """The learning rate the optimizer's last step used (its schedule's value, if it has one)."""
    if getattr(opt, "schedule", None) is not None:
        return float(opt.schedule(max(int(opt.steps), 1)))
    lr = opt.lr
    return lr if type(lr) is float else _scalar("lr", lr)


class _Hyper:
    """``opt.hyperparameters()[name]`` without building the whole dict, where the optimizer
    has its hyper-parameters as attributes (saddlepoint.optim's do); the rules read the
    rule at every check."""

    def __init__(self, opt: Any) -> None:
        self.opt = opt
        self.table: dict[str, Any] | None = None if getattr(opt, "_engine", None) else {}

    def __getitem__(self, name: str) -> Any:
        if self.table is None:
            return getattr(self.opt, name)
        if not self.table:
            self.table = self.opt.hyperparameters()
        return self.table[name]


# The same rule at every check of a run with a constant learning rate: made once.
_rule = functools.lru_cache(maxsize=32)(StepRule)


def rule_of(opt: Any) -> StepRule:
    kind = type(opt).__name__
    lr = current_lr(opt)
    h = _Hyper(opt)
    if kind == "SGD":
        return _rule(
            kind,
            lr,
            momentum=_scalar("momentum", h["momentum"]),
            nesterov=bool(h["nesterov"]),
            dampening=_scalar("dampening", h["dampening"]),
            weight_decay=_scalar("weight_decay", h["weight_decay"]),
        )
    if kind in ("Adam", "AdamW"):
        beta1, _ = h["betas"]
        bc1 = 1.0 - _scalar("betas[0]", beta1) ** max(int(opt.steps), 1)
        return _rule(kind, lr / bc1, beta1=_scalar("betas[0]", beta1), base_lr=lr)
    if kind == "RMSprop":
        return _rule(kind, lr, momentum=_scalar("momentum", h["momentum"]))
    if kind == "Adagrad":
        decay = _scalar("lr_decay", h["lr_decay"])
        return _rule(kind, lr / (1.0 + (max(int(opt.steps), 1) - 1) * decay), base_lr=lr)
    raise TypeError(f"optimizer: expected a saddlepoint.optim optimizer, got {kind}")


def preconditioner(opt: Any) -> np.ndarray | None:
    """``D``'s diagonal for an adaptive optimizer (from its live state), else None."""
    kind = type(opt).__name__
    if kind not in ADAPTIVE:
        return None
    state = opt._buffers()
    eps = _scalar("eps", opt.hyperparameters()["eps"])
    if kind in ("Adam", "AdamW"):
        _, beta2 = opt.hyperparameters()["betas"]
        bc2 = 1.0 - _scalar("betas[1]", beta2) ** max(int(opt.steps), 1)
        second = state.get("max_exp_avg_sq", state["exp_avg_sq"])
        root = np.sqrt(np.asarray(second, dtype=np.float64) / bc2)
    elif kind == "RMSprop":
        second = np.asarray(state["square_avg"], dtype=np.float64)
        if "grad_avg" in state:
            second = second - np.asarray(state["grad_avg"], dtype=np.float64) ** 2
        root = np.sqrt(np.maximum(second, 0.0))
    else:
        root = np.sqrt(np.asarray(state["sum"], dtype=np.float64))
    return 1.0 / (root + eps)
