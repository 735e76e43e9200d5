"""How each torch optimizer maps onto its saddlepoint engine and functional kernel.

The group's own keys are passed straight through: saddlepoint's optimizers take torch's
hyper-parameter names, defaults and semantics (saddlepoint.optim, saddlepoint.kernels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import kernels
from .. import optim as sp_optim
from ._optim_plan import Spec, _scalar


def _settings(
    *, scalars: tuple[str, ...], values: tuple[str, ...], flags: tuple[str, ...]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The keyword arguments an engine and its functional kernel take from a group: those
    torch lets be tensors as numbers (lr, betas), the other settings as they are, and the
    switches as bools."""

    def settings(g: dict[str, Any]) -> dict[str, Any]:
        out = {k: _scalar(tuple(g[k]) if isinstance(g[k], list) else g[k]) for k in scalars}
        out.update({k: g[k] for k in values})
        out.update({k: bool(g[k]) for k in flags})
        return out

    return settings


_adam_settings = _settings(
    scalars=("lr", "betas"), values=("eps", "weight_decay"), flags=("amsgrad", "maximize")
)


def _adam_engine(arrays: list[np.ndarray], g: dict[str, Any]) -> sp_optim.Optimizer:
    cls = sp_optim.AdamW if g["decoupled_weight_decay"] else sp_optim.Adam
    return cls(arrays, **_adam_settings(g))


def _adam_kernel(params: Any, grads: Any, states: Any, step: int, g: dict[str, Any]) -> None:
    kernels.adam_step(
        params,
        grads,
        states["exp_avg"],
        states["exp_avg_sq"],
        states.get("max_exp_avg_sq"),
        step=step,
        decoupled_weight_decay=bool(g["decoupled_weight_decay"]),
        **_adam_settings(g),
    )


ADAM = Spec(
    engine=_adam_engine,
    kernel=_adam_kernel,
    hypers=("lr", "betas", "eps", "weight_decay"),
    flags=lambda g: (g["amsgrad"], g["maximize"], g["decoupled_weight_decay"]),
    flag_names=("amsgrad", "maximize", "decoupled_weight_decay"),
    state_keys=lambda g: (
        ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if g["amsgrad"] else ("exp_avg", "exp_avg_sq")
    ),
)


_sgd_settings = _settings(
    scalars=("lr", "weight_decay"),
    values=("momentum", "dampening"),
    flags=("nesterov", "maximize"),
)


def _sgd_engine(arrays: list[np.ndarray], g: dict[str, Any]) -> sp_optim.Optimizer:
    return sp_optim.SGD(arrays, **_sgd_settings(g))


def _sgd_kernel(params: Any, grads: Any, states: Any, step: int, g: dict[str, Any]) -> None:
    # step 1 (no buffer yet) starts the momentum buffer from the gradient, as torch does
    kernels.sgd_step(params, grads, states.get("momentum_buffer"), step=step, **_sgd_settings(g))


SGD = Spec(
    engine=_sgd_engine,
    kernel=_sgd_kernel,
    hypers=("lr", "momentum", "dampening", "weight_decay"),
    flags=lambda g: (g["nesterov"], g["maximize"], g["momentum"] != 0),
    flag_names=("nesterov", "maximize", "momentum != 0"),
    state_keys=lambda g: ("momentum_buffer",) if g["momentum"] != 0 else (),
    counts_steps=False,
)


_adagrad_settings = _settings(
    scalars=("lr",), values=("lr_decay", "weight_decay", "eps"), flags=("maximize",)
)


def _adagrad_engine(arrays: list[np.ndarray], g: dict[str, Any]) -> sp_optim.Optimizer:
    return sp_optim.Adagrad(
        arrays,
        initial_accumulator_value=float(g["initial_accumulator_value"]),
        **_adagrad_settings(g),
    )


def _adagrad_kernel(params: Any, grads: Any, states: Any, step: int, g: dict[str, Any]) -> None:
    kernels.adagrad_step(params, grads, states["sum"], step=step, **_adagrad_settings(g))


ADAGRAD = Spec(
    engine=_adagrad_engine,
    kernel=_adagrad_kernel,
    hypers=("lr", "lr_decay", "weight_decay", "eps"),
    flags=lambda g: (g["maximize"],),
    flag_names=("maximize",),
    state_keys=lambda g: ("sum",),
    eager=True,
    initial=lambda g, key: float(g["initial_accumulator_value"]),
)


_rmsprop_settings = _settings(
    scalars=("lr",),
    values=("alpha", "eps", "weight_decay", "momentum"),
    flags=("centered", "maximize"),
)


def _rmsprop_engine(arrays: list[np.ndarray], g: dict[str, Any]) -> sp_optim.Optimizer:
    return sp_optim.RMSprop(arrays, **_rmsprop_settings(g))


def _rmsprop_kernel(params: Any, grads: Any, states: Any, step: int, g: dict[str, Any]) -> None:
    kernels.rmsprop_step(
        params,
        grads,
        states["square_avg"],
        states.get("grad_avg"),
        states.get("momentum_buffer"),
        **_rmsprop_settings(g),
    )


def _rmsprop_keys(g: dict[str, Any]) -> tuple[str, ...]:
    keys: tuple[str, ...] = ("square_avg",)
    if g["momentum"] > 0:
        keys += ("momentum_buffer",)
    if g["centered"]:
        keys += ("grad_avg",)
    return keys


RMSPROP = Spec(
    engine=_rmsprop_engine,
    kernel=_rmsprop_kernel,
    hypers=("lr", "alpha", "eps", "weight_decay", "momentum"),
    flags=lambda g: (g["centered"], g["maximize"], g["momentum"] > 0),
    flag_names=("centered", "maximize", "momentum > 0"),
    state_keys=_rmsprop_keys,
)
