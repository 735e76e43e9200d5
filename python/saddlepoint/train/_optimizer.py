"""The optimizer of a run: built from a name and hyper-parameters, or an instance checked
against the run's parameter array (shared by :func:`minimize` and :func:`train`)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _make_optimizer(
    optimizer: Any, x: np.ndarray, lr: Any, schedule: Any, hyper: dict[str, Any]
) -> Any:
    from .. import optim

    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a callable step -> lr, got {type(schedule).__name__}")
    if schedule is not None and lr is not None:
        raise ValueError("lr, schedule: pass a learning rate or a schedule, not both")
    if isinstance(optimizer, str):
        if schedule is not None:
            hyper = {**hyper, "lr": schedule}
        elif lr is not None:
            hyper = {**hyper, "lr": lr}
        return optim.create(optimizer, x, **hyper)
    if not callable(getattr(optimizer, "step", None)) or not hasattr(optimizer, "params"):
        raise TypeError(
            f"optimizer: expected a name from {optim.available()} or a saddlepoint.optim "
            f"optimizer, got {type(optimizer).__name__}"
        )
    if lr is not None or hyper:
        raise ValueError(
            "lr, hyper-parameters: set them on the optimizer instance, not in this call "
            f"(got {sorted(['lr'] * (lr is not None) + list(hyper))})"
        )
    params = optimizer.params
    if len(params) != 1 or params[0].shape != x.shape:
        raise ValueError(
            f"optimizer: expected an optimizer of one parameter array of shape {x.shape}, "
            f"got shapes {[p.shape for p in params]}"
        )
    if schedule is not None:
        optimizer.lr = schedule
    return optimizer


def _current_lr(opt: Any) -> float:
    lr = opt.lr
    try:
        return float(lr)
    except (TypeError, ValueError):
        return float("nan")
