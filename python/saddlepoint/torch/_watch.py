"""The Monitor on a plain torch loop: ``loss.backward(); optimizer.step(); monitor.observe(loss)``.

:func:`watch` returns a :class:`TorchMonitor`, a :class:`saddlepoint.Monitor` that knows the
model and the optimizer, so that ``observe`` needs nothing but the loss:

- with a :mod:`saddlepoint.torch` SGD, Adam or AdamW stepping one param group over the
  model's parameters, the per-step reductions come from the fused step itself (the
  Monitor's in-step instruments, the same pass over memory as the update);
- with any other supported optimizer (``torch.optim``'s SGD, Adam, AdamW, RMSprop,
  Adagrad, or a bridged one with several groups), from one fused pass over the ``.grad``\\ s
  and the parameters, whose NumPy views share the tensors' memory (nothing is copied).

The optimizer's learning rate, momentum or betas are read from ``param_groups`` at every
step (schedulers change them), and for adaptive methods the preconditioner from its state,
so that the stability ratio is the one the step actually has.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..monitor import Monitor
from ..monitor._instep import INSTRUMENTED
from ._hvp import HessianVectorProduct, parameters_of

#: the rule-relevant options per optimizer kind: every group must agree on them, since the
#: Monitor's stability ratio and preconditioner assume one step rule for all parameters
_RULE_KEYS = {
    "SGD": ("lr", "momentum", "dampening", "nesterov", "weight_decay"),
    "Adam": ("lr", "betas", "eps"),
    "AdamW": ("lr", "betas", "eps"),
    "RMSprop": ("lr", "momentum", "eps", "centered"),
    "Adagrad": ("lr", "lr_decay", "eps"),
}
_STATE_KEYS = {
    "Adam": ("exp_avg_sq", "max_exp_avg_sq"),
    "AdamW": ("exp_avg_sq", "max_exp_avg_sq"),
    "RMSprop": ("square_avg", "grad_avg"),
    "Adagrad": ("sum",),
    "SGD": (),
}


def _kind(optimizer: Any) -> str:
    # AdamW before Adam: torch's AdamW is a subclass of Adam
    for cls in (torch.optim.AdamW, torch.optim.Adam, torch.optim.SGD, torch.optim.RMSprop,
                torch.optim.Adagrad):  # fmt: skip
        if isinstance(optimizer, cls):
            return cls.__name__
    raise TypeError(
        f"optimizer: expected a torch.optim (or saddlepoint.torch) SGD, Adam, AdamW, RMSprop "
        f"or Adagrad, got {type(optimizer).__name__}: the Monitor needs the step rule to judge "
        "the step (for another optimizer, use saddlepoint.Monitor(params=...) with lr= given "
        "to observe)"
    )


def _number(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return float(value.detach())
    if isinstance(value, tuple):
        return tuple(_number(v) for v in value)
    return value


class _TorchRule:
    """A torch optimizer as the Monitor reads a :mod:`saddlepoint.optim` one: its kind (the
    class name), ``lr``, ``steps``, ``hyperparameters()`` and the second-moment state of
    ``_buffers()``, all read live from ``param_groups`` and ``state`` whenever the Monitor
    asks; ``params`` are NumPy views of the watched tensors."""

    schedule = None  # the lr is read from param_groups[0] at every step, a scheduler's included
    _engine = None  # no engine: the Monitor measures from the gradients it is given

    def __init__(self, optimizer: Any, tensors: list[torch.Tensor], arrays: list[np.ndarray]):
        self.torch_optimizer = optimizer
        self.tensors = tensors
        self.params = arrays
        self._keys = _RULE_KEYS[type(self).__name__]

    @property
    def lr(self) -> float:
        return float(_number(self.hyperparameters()["lr"]))

    @property
    def steps(self) -> int:
        """torch's own step count (the most any watched tensor has taken)."""
        state = self.torch_optimizer.state
        counts = [_number(state[p]["step"]) for p in self.tensors if "step" in state.get(p, {})]
        return int(max(counts)) if counts else 0

    def hyperparameters(self) -> dict[str, Any]:
        groups = self.torch_optimizer.param_groups
        first = {k: _number(groups[0][k]) for k in self._keys if k in groups[0]}
        for i, group in enumerate(groups[1:], 1):
            for k, v in first.items():
                if _number(group.get(k)) != v:
                    raise ValueError(
                        f"optimizer: param_groups[{i}][{k!r}] = {_number(group.get(k))!r} "
                        f"differs from param_groups[0]'s {v!r}; the Monitor judges one step "
                        "rule (watch a single group, or give the groups the same value)"
                    )
        first.setdefault("momentum", 0.0)
        first.setdefault("dampening", 0.0)
        first.setdefault("nesterov", False)
        first.setdefault("weight_decay", 0.0)
        first.setdefault("lr_decay", 0.0)
        return first

    def _buffers(self) -> dict[str, np.ndarray]:
        state = self.torch_optimizer.state
        out = {}
        for key in _STATE_KEYS[type(self).__name__]:
            if not any(key in state.get(p, {}) for p in self.tensors):
                continue
            out[key] = np.concatenate([
                state[p][key].detach().reshape(-1).cpu().double().numpy()
                if key in state.get(p, {}) else np.zeros(p.numel())
                for p in self.tensors
            ])  # fmt: skip
        return out


# one class per kind: the Monitor reads the kind from the class name, as for saddlepoint.optim
_RULES = {name: type(name, (_TorchRule,), {"__doc__": _TorchRule.__doc__}) for name in _RULE_KEYS}


class TorchMonitor(Monitor):
    """A :class:`saddlepoint.Monitor` watching a torch model and its optimizer.

    Built by :func:`watch`; everything a Monitor has (``events``, ``history``,
    ``explain()``, ``plot()``, ``report()``, ``check_curvature()``, ``jumped()``, state) works
    the same. :meth:`observe` takes the loss alone (a tensor or a number), after
    ``optimizer.step()``, and reads what it needs from the model and the optimizer.

    Attributes
    ----------
    model, torch_optimizer
        What is watched.
    parameter_names : tuple of str
        The watched parameters' names (``model.named_parameters()``), in the order of the
        flat vectors (the same as :func:`hvp`'s layout).
    instruments : str
        ``"step"`` (the fused step takes them) or ``"grads"`` (one pass over the grads).
    """

    def __init__(
        self, model: Any = None, optimizer: Any = None, hvp: Any = None,
        curvature_every: int = 50, window: int = 50, *, instruments: str = "auto",
        **options: Any,
    ) -> None:  # fmt: skip
        if "torch_optimizer" in options:  # Monitor.load passes optimizer= through
            optimizer = options.pop("torch_optimizer")
        if isinstance(optimizer, _sp_optimizers()):
            raise TypeError(
                "optimizer: expected a torch.optim.Optimizer, got saddlepoint.optim "
                f"{type(optimizer).__name__} (watch it with saddlepoint.Monitor(optimizer=...))"
            )
        if instruments not in ("auto", "step", "grads"):
            raise ValueError(
                f"instruments: expected 'auto', 'step' or 'grads', got {instruments!r}"
            )
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"optimizer: expected a torch.optim.Optimizer, got {type(optimizer).__name__}"
            )
        kind = _kind(optimizer)
        names, tensors = self._watched(model, optimizer)
        if isinstance(hvp, HessianVectorProduct) and hvp.layout.names != names:
            raise ValueError(
                f"hvp: its parameters {list(hvp.layout.names)} are not the watched ones "
                f"{list(names)} (the optimizer's, in the model's order); build it on the same "
                "trainable parameters"
            )
        self.model, self.torch_optimizer = model, optimizer
        self.parameter_names = names
        self._tensors = tensors
        bridged = self._bridged(optimizer, tensors)
        if instruments == "step" and (bridged is None or kind not in INSTRUMENTED):
            raise ValueError(
                "instruments: 'step' needs a saddlepoint.torch SGD, Adam or AdamW with one "
                "param group holding the model's trainable parameters in order; got "
                f"{type(optimizer).__module__}.{type(optimizer).__name__} with "
                f"{len(optimizer.param_groups)} group(s)"
            )
        if bridged is not None and instruments != "grads":
            super().__init__(bridged, hvp, curvature_every, window, **options)
            self.instruments = "step" if self.instrumented else "grads"
            self._arrays = list(bridged.params)
        else:
            arrays = [self._array(n, p) for n, p in zip(names, tensors)]
            rule = _RULES[kind](optimizer, tensors, arrays)
            super().__init__(rule, hvp, curvature_every, window, **options)
            if self.instrumented:  # pragma: no cover - a bridged engine refused "grads"
                raise AssertionError("grads mode with an instrumented engine")
            self.instruments = "grads"
            self._arrays = arrays

    # ----------------------------------------------------------------------------------
    # what is watched

    @staticmethod
    def _watched(model: Any, optimizer: Any) -> tuple[tuple[str, ...], list[torch.Tensor]]:
        pairs = parameters_of(model)
        in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
        in_model = {id(p) for _, p in pairs}
        for gi, group in enumerate(optimizer.param_groups):
            for i, p in enumerate(group["params"]):
                if id(p) not in in_model:
                    where = f"param_groups[{gi}]['params'][{i}]"
                    raise ValueError(
                        f"optimizer: {where} (shape {tuple(p.shape)}) is not a trainable "
                        "parameter of model"
                    )
        watched = [(n, p) for n, p in pairs if id(p) in in_optimizer]
        return tuple(n for n, _ in watched), [p for _, p in watched]

    @staticmethod
    def _array(name: str, p: torch.Tensor) -> np.ndarray:
        """A NumPy view of a parameter (the Monitor measures the true update from it)."""
        if p.device.type != "cpu":
            raise ValueError(
                f"model: parameter {name!r} is on {p.device.type}; the Monitor reads CPU "
                "tensors in place (watch a CPU model)"
            )
        if p.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"model: parameter {name!r} is {p.dtype}; expected float32/float64")
        if not p.is_contiguous():
            raise ValueError(
                f"model: parameter {name!r} is not contiguous (strides {p.stride()}): a view "
                "of it would not be the memory the optimizer updates"
            )
        return p.detach().numpy()

    @staticmethod
    def _bridged(optimizer: Any, tensors: list[torch.Tensor]) -> Any:
        """The saddlepoint.optim optimizer stepping the watched tensors, where one does: a
        saddlepoint.torch optimizer with one group, in the model's order."""
        get = getattr(optimizer, "_saddlepoint_optimizer", None)
        groups = optimizer.param_groups
        if get is None or len(groups) != 1:
            return None
        if [id(p) for p in groups[0]["params"]] != [id(p) for p in tensors]:
            return None
        return get(0)

    def _grads(self) -> list[np.ndarray]:
        out = []
        for name, p, a in zip(self.parameter_names, self._tensors, self._arrays):
            g = p.grad
            if g is None:  # torch skipped it: no gradient, no update
                out.append(np.zeros_like(a))
                continue
            if g.device.type != "cpu" or g.dtype != p.dtype or g.layout != torch.strided:
                raise ValueError(
                    f"grad: {name}.grad is {g.dtype} {g.layout} on {g.device.type}; expected a "
                    f"dense CPU {p.dtype} tensor like the parameter"
                )
            out.append(np.ascontiguousarray(g.detach().numpy()))
        return out

    # ----------------------------------------------------------------------------------
    # the loop

    def observe(self, loss: Any, grad: Any = None, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        """Record the step just taken: call after ``optimizer.step()`` with the loss that
        step's gradient came from (a scalar tensor or a number).

        The gradient is read from the parameters' ``.grad`` (don't zero them between
        ``step()`` and ``observe()``), or, with the fused step's own instruments, not needed
        at all. ``batch_grads``, ``batch_losses``, ``batch_size`` are the Monitor's (tensors
        are accepted). Events naming a parameter array also name the module's parameter.
        """
        value = _loss_value(loss)
        for key in ("batch_grads", "batch_losses"):
            if isinstance(kwargs.get(key), torch.Tensor):
                kwargs[key] = kwargs[key].detach().cpu().double().numpy()
        if grad is None and self.instruments == "grads":
            grad = self._grads()
        elif grad is None:
            self._check_fused_step()
        events = super().observe(value, grad, **kwargs)
        return [self._named(e) for e in events]

    def check_point(self, loss: Any, grad: Any = None, **kwargs: Any) -> list[Any]:  # type: ignore[override]
        """:meth:`saddlepoint.Monitor.check_point` at the current parameters, from their
        ``.grad`` (after ``loss.backward()``, before the step)."""
        events = super().check_point(
            _loss_value(loss), self._grads() if grad is None else grad, **kwargs
        )
        return [self._named(e) for e in events]

    def _check_fused_step(self) -> None:
        opt = self.torch_optimizer
        if opt._saddlepoint_optimizer(0) is not self.optimizer:  # type: ignore[attr-defined]
            raise ValueError(
                "optimizer: its engine was rebuilt (a parameter replaced, a switch such as "
                "amsgrad changed, or a state dict loaded) since watch(); watch it again"
            )
        engine = self.optimizer._engine
        if int(engine._sums_step) != int(self.optimizer.steps):
            raise ValueError(
                "observe: the last optimizer.step() was not one fused step of every watched "
                "parameter (a parameter without a .grad is stepped on its own, outside the "
                "instruments); give every parameter a gradient, or watch with "
                "instruments='grads'"
            )

    def _named(self, event: Any) -> Any:
        index = event.details.get("first_nonfinite_array")
        if index is None or "first_nonfinite_parameter" in event.details:
            return event
        name = self.parameter_names[index]
        return self.annotate(
            event, f"params[{index}] is {name!r}.", first_nonfinite_parameter=name
        )

    def layers(self) -> Any:
        """One row per watched parameter, by name, at this moment: shape, size, the norms
        of the parameter and its ``.grad`` and their non-finite entries (a pandas
        DataFrame; one pass over each tensor, taken only when asked for)."""
        import pandas as pd

        rows = []
        for name, p in zip(self.parameter_names, self._tensors):
            w = p.detach()
            g = p.grad
            rows.append({
                "name": name,
                "shape": tuple(p.shape),
                "size": p.numel(),
                "param_norm": float(torch.linalg.vector_norm(w.double())),
                "grad_norm": float("nan") if g is None
                else float(torch.linalg.vector_norm(g.detach().double())),
                "nonfinite": int((~torch.isfinite(w)).sum())
                + (0 if g is None else int((~torch.isfinite(g)).sum())),
            })  # fmt: skip
        return pd.DataFrame(rows)

    @classmethod
    def load(cls, path: Any, optimizer: Any = None, hvp: Any = None, **kwargs: Any) -> Any:
        """A monitor resumed from :meth:`save`: ``TorchMonitor.load(path, model=model,
        optimizer=torch_optimizer, hvp=...)`` (``watch(..., resume=path)`` is the same)."""
        return super().load(path, hvp=hvp, torch_optimizer=optimizer, **kwargs)

    def __repr__(self) -> str:
        return super().__repr__().replace("Monitor(", f"TorchMonitor({self.instruments}: ", 1)


def _sp_optimizers() -> tuple[type, ...]:
    from .. import optim

    return (optim.Optimizer,)


def _loss_value(loss: Any) -> Any:
    if isinstance(loss, torch.Tensor):
        if loss.numel() != 1:
            raise ValueError(
                f"loss: expected a scalar (the batch's mean loss), got shape {tuple(loss.shape)}"
            )
        return float(loss.detach())
    return loss


def watch(
    model: Any, optimizer: Any, hvp: Any = None, *, curvature_every: int = 50,
    window: int = 50, instruments: str = "auto", resume: Any = None, **options: Any,
) -> TorchMonitor:  # fmt: skip
    """A :class:`saddlepoint.Monitor` for a plain torch training loop.

    .. code-block:: python

        monitor = saddlepoint.torch.watch(model, optimizer, hvp=saddlepoint.torch.hvp(
            model, loss_fn, (X_probe, y_probe)))
        for X, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            monitor.observe(loss)
        print(monitor.explain())

    Every Monitor instrument is taken, once per step: the gradient and update norms, the
    cosine between successive updates, the step-size quality ``alpha``, the distance
    travelled, non-finite entries, and every ``curvature_every`` steps (and at stalls) the
    extreme Hessian eigenvalues from ``hvp`` and the stability ratio for the optimizer's
    rule. Create the monitor before the first step, so that it sees the starting point.

    Parameters
    ----------
    model : torch.nn.Module
        The model; the watched parameters are its trainable ones that the optimizer holds,
        in ``model.named_parameters()`` order (names in events and :meth:`layers`). CPU,
        float32 or float64, one dtype.
    optimizer : torch.optim.Optimizer
        ``torch.optim``'s or :mod:`saddlepoint.torch`'s SGD, Adam, AdamW, RMSprop or
        Adagrad. Its groups must agree on the step rule (lr, momentum, betas, ...), which is
        read from ``param_groups`` at every step.
    hvp : callable, optional
        ``v -> H v`` at the current parameters, on the flat watched parameters:
        :func:`saddlepoint.torch.hvp` on a fixed probe batch is the usual choice (it follows
        the parameters as they change). Without it the curvature instruments are off.
    curvature_every, window
        The Monitor's.
    instruments : {"auto", "step", "grads"}
        Where the per-step reductions come from: ``"step"``, the fused step itself (a
        saddlepoint.torch SGD, Adam or AdamW with one param group over the model's
        parameters in order; no pass of the Monitor's own); ``"grads"``, one fused pass over
        the ``.grad``\\ s and the parameters; ``"auto"``, the first where it is possible.
    resume : path, optional
        A file written by :meth:`~saddlepoint.Monitor.save`: the run goes on from its history,
        windows and verdicts (give the resumed model and optimizer; ``window`` and
        ``curvature_every`` are the file's).
    **options
        The Monitor's ``thresholds`` and ``curvature_tol``.

    Returns
    -------
    TorchMonitor
        A :class:`saddlepoint.Monitor`; its ``observe(loss)`` needs only the loss.

    Examples
    --------
    >>> import torch, saddlepoint.torch as st
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = torch.nn.Linear(4, 1)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.05)
    >>> X, y = torch.randn(32, 4), torch.randn(32, 1)
    >>> monitor = st.watch(model, opt, st.hvp(model, torch.nn.MSELoss(), (X, y)))
    >>> for _ in range(100):
    ...     opt.zero_grad()
    ...     loss = torch.nn.functional.mse_loss(model(X), y)
    ...     loss.backward()
    ...     opt.step()
    ...     _ = monitor.observe(loss)
    >>> monitor.instruments, monitor.parameter_names
    ('grads', ('weight', 'bias'))
    >>> bool(monitor.history["stability_ratio"].dropna().iloc[-1] < 1)
    True
    """
    if resume is not None:
        return TorchMonitor.load(
            resume, model=model, optimizer=optimizer, hvp=hvp, instruments=instruments, **options
        )
    return TorchMonitor(
        model, optimizer, hvp, curvature_every, window, instruments=instruments, **options
    )
