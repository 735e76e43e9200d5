"""Each functional kernel with its array arguments (in call order) and a valid set of other
keyword arguments: the table the boundary and fuzz tests both build their calls from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from saddlepoint import kernels

KERNELS: dict[str, tuple[Callable[..., None], list[str], dict[str, Any]]] = {
    "sgd": (
        kernels.sgd_step,
        ["param", "grad", "momentum_buffer"],
        dict(lr=0.1, momentum=0.9, step=2),
    ),
    "adagrad": (kernels.adagrad_step, ["param", "grad", "state_sum"], dict(step=2, lr=0.1)),
    "rmsprop": (
        kernels.rmsprop_step,
        ["param", "grad", "square_avg", "grad_avg", "momentum_buffer"],
        dict(lr=0.01, centered=True, momentum=0.5),
    ),
    "adam": (
        kernels.adam_step,
        ["param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
        dict(step=3, amsgrad=True, weight_decay=0.1),
    ),
}
