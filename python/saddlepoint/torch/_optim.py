"""torch.optim optimizers whose step is saddlepoint's fused kernel, in place on CPU tensors.

Each class is a subclass of its ``torch.optim`` namesake (same signature, defaults,
validation, ``param_groups``, hooks, ``state_dict`` format) whose :meth:`step` hands every
param group to a :mod:`saddlepoint.optim` engine in one call. The tensors in
``optimizer.state`` are views of the engine's flat buffers, so a checkpoint saved from one
loads into ``torch.optim`` and back, and schedulers drive ``group['lr']`` (and Adam's
``betas``) as they drive torch's.

Steps follow torch's single-tensor semantics: a tensor whose ``.grad`` is ``None`` is
skipped, state is created on a tensor's first step, each tensor counts its own steps. What
the kernels cannot step in place (a non-CPU, non-contiguous, sparse, complex or float16
tensor, mixed dtypes in a group, ``capturable=True``, ``differentiable=True``) is refused
with the tensor named, before anything is touched. ``foreach`` and ``fused`` choose among
torch's implementations; they are kept in the group (so a checkpoint round-trips) and have
no effect here: the step is always one fused pass. docs/torch.md has the measurements.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import torch
from torch.optim.optimizer import _global_optimizer_post_hooks, _global_optimizer_pre_hooks

from .. import optim as sp_optim
from . import _optim_specs as specs
from ._optim_plan import Plan, Spec, check_params

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "RMSprop"]


def _check_options(index: int, group: dict[str, Any], name: str) -> None:
    where = "" if index == 0 else f"param_groups[{index}]: "
    if group.get("capturable"):
        raise ValueError(
            f"{where}capturable=True is for graph capture on an accelerator; "
            f"saddlepoint.torch.{name} steps CPU tensors (use capturable=False)"
        )
    if group.get("differentiable"):
        raise ValueError(
            f"{where}differentiable=True (autograd through the step) is not supported: the "
            f"fused kernels update in place outside autograd; use torch.optim.{name}"
        )


class _Bridge(torch.optim.Optimizer):
    """What the five classes share: plans per group, the step, state (re)loading."""

    _spec: ClassVar[Spec]
    _plans: list[Plan] | None = None
    _state_seen: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The constructor is the torch.optim namesake's own (signature, defaults, checks),
        # followed by the engines' set-up: the two cannot drift apart across torch versions.
        torch_class = next(b for b in cls.__mro__[1:] if b.__module__.startswith("torch.optim"))
        torch_init = vars(torch_class)["__init__"]

        @functools.wraps(torch_init)
        def __init__(self: _Bridge, *args: Any, **kwargs: Any) -> None:
            torch_init(self, *args, **kwargs)
            self._ready()

        cls.__init__ = __init__  # type: ignore[method-assign,assignment]

    def _ready(self) -> None:
        # GradScaler hands an optimizer that supports AMP scaling its scale instead of
        # unscaling the grads itself (torch sets this for fused=True); ours does not.
        self._step_supports_amp_scaling = False
        self._build_plans()

    def _build_plans(self) -> None:
        """A plan per group from the current ``self.state``; on error nothing changes."""
        old = self._plans or []
        plans = []
        for i, group in enumerate(self.param_groups):
            _check_options(i, group, type(self).__name__)
            plans.append(Plan(self._spec, i, group, self.state))
        for before, after in zip(old, plans):
            _carry_instruments(before, after)
        self._plans = plans
        self._state_seen = self.state

    def _current_plans(self) -> list[Plan]:
        plans = self._plans
        if (
            plans is None
            or self.state is not self._state_seen
            or len(plans) != len(self.param_groups)
        ):
            self._build_plans()
            return self._plans  # type: ignore[return-value]
        for i, group in enumerate(self.param_groups):
            if not plans[i].current(group):  # a tensor or its storage replaced, a switch set
                _check_options(i, group, type(self).__name__)
                plan = Plan(self._spec, i, group, self.state)
                _carry_instruments(plans[i], plan)
                plans[i] = plan
        return plans

    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        """Take one step of every param group (each one call into the core).

        ``closure`` re-evaluates the model and returns the loss, as for ``torch.optim``.
        Every group is checked (tensors, grads, hyper-parameters) before any is stepped, so
        a refused step leaves every tensor and all state unchanged. Step hooks and the
        profiler's ``Optimizer.step#...`` range work as with torch.optim.
        """
        if (
            self._optimizer_step_pre_hooks
            or self._optimizer_step_post_hooks
            or _global_optimizer_pre_hooks
            or _global_optimizer_post_hooks
            or torch._C._autograd._profiler_enabled()
        ):
            return _hooked_step(self, closure)
        return self._step(closure)

    # torch.optim wraps every step in its hooks and a profiler range (Optimizer.__init__
    # patches the class's step unless it is marked `hooked`); the range alone costs more
    # than stepping a small model, so the wrapper runs only when there is something for it
    # to do (above).
    step.hooked = True  # type: ignore[attr-defined]

    def _step(self, closure: Any = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        plans = self._current_plans()
        groups = self.param_groups
        for plan, group in zip(plans, groups):
            plan.sync(group)
            plan.load_grads(group)
        state = self.state
        for plan, group in zip(plans, groups):
            plan.run(group, state)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """torch's ``zero_grad``; with ``set_to_none=True`` the optimizer also lets go of the
        grads it cached for the last step, so that they are freed as with torch.optim."""
        super().zero_grad(set_to_none)
        if set_to_none:
            for plan in self._plans or ():
                plan.forget_grads()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's ``add_param_group``, then the new group's tensors and options are checked
        (a refused group is not added)."""
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[index]
        try:
            _check_options(index, group, type(self).__name__)
            check_params(index, group["params"])
            if self._plans is not None:
                self._plans.append(Plan(self._spec, index, group, self.state))
        except Exception:
            self.param_groups.pop()
            raise

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """torch's ``load_state_dict`` (a dict from this class or from its ``torch.optim``
        namesake), then the loaded state is copied into the engines' buffers and
        ``self.state`` points at them again. A state dict that does not fit is refused and
        the optimizer left as it was."""
        old = (self.__dict__.get("state"), self.param_groups, self._plans, self._state_seen)
        super().load_state_dict(state_dict)
        try:
            self._build_plans()
        except Exception:
            self.state, self.param_groups, self._plans, self._state_seen = old  # type: ignore[assignment]
            raise

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._plans = None  # rebuilt from the new state on the next step (or by load)

    def _saddlepoint_optimizer(self, group_index: int = 0) -> sp_optim.Optimizer:
        """The :mod:`saddlepoint.optim` optimizer that steps param group ``group_index``.

        It holds NumPy views of the group's tensors and the flat state buffers that
        ``self.state`` shows, and its engine is what ``step()`` calls; this is how
        :func:`saddlepoint.torch.watch` reaches the Monitor's in-step instruments. Stepping
        it directly bypasses the torch bookkeeping (step counts, lazily created state);
        use this optimizer's ``step()``. It is replaced when the group's tensors, their
        storage or a switch such as ``amsgrad`` change, or a state dict is loaded (its
        instruments carry over): ask for it again afterwards rather than keeping it.
        """
        plans = self._current_plans()
        if not 0 <= group_index < len(plans):
            raise IndexError(
                f"group_index: expected 0 <= group_index < {len(plans)}, got {group_index}"
            )
        return plans[group_index].opt


_hooked_step = torch.optim.Optimizer.profile_hook_step(_Bridge._step)


def _carry_instruments(before: Plan, after: Plan) -> None:
    """A rebuilt plan keeps the Monitor's in-step instruments switched on."""
    engine = before.opt._engine
    if engine._instrumented and after.spec is before.spec:
        after.opt._engine._set_instrumented(True)


class SGD(_Bridge, torch.optim.SGD):
    """:class:`torch.optim.SGD` stepped by saddlepoint's fused kernel (momentum, dampening,
    Nesterov, weight decay, maximize), in place on CPU float32/float64 tensors.

    >>> import torch
    >>> from saddlepoint.torch import SGD
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> w.grad = torch.tensor([1.0, 1.0])
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.9000, -2.1000])
    >>> opt.state[w]["momentum_buffer"]
    tensor([1., 1.])
    """

    _spec = specs.SGD


class Adagrad(_Bridge, torch.optim.Adagrad):
    """:class:`torch.optim.Adagrad` stepped by saddlepoint's fused kernel (lr_decay,
    weight_decay, initial_accumulator_value, eps, maximize).

    >>> import torch
    >>> from saddlepoint.torch import Adagrad
    >>> w = torch.nn.Parameter(torch.zeros(3))
    >>> opt = Adagrad([w], lr=0.5)
    >>> w.grad = torch.tensor([1.0, -2.0, 4.0])
    >>> opt.step()
    >>> w.detach()
    tensor([-0.5000,  0.5000, -0.5000])
    """

    _spec = specs.ADAGRAD


class RMSprop(_Bridge, torch.optim.RMSprop):
    """:class:`torch.optim.RMSprop` stepped by saddlepoint's fused kernel (alpha, eps,
    weight_decay, momentum, centered, maximize).

    >>> import torch
    >>> from saddlepoint.torch import RMSprop
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.grad = torch.tensor([3.0, -3.0])
    >>> opt.step()
    >>> w.detach()      # the first step is lr * g / sqrt((1 - alpha) g^2) = lr / 0.5
    tensor([-0.0200,  0.0200])
    """

    _spec = specs.RMSPROP


class Adam(_Bridge, torch.optim.Adam):
    """:class:`torch.optim.Adam` stepped by saddlepoint's fused kernel (betas, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay).

    A training loop is torch's own:

    >>> import torch
    >>> from saddlepoint.torch import Adam
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = torch.nn.Linear(4, 1)
    >>> opt = Adam(model.parameters(), lr=0.05)
    >>> x, y = torch.randn(32, 4), torch.randn(32, 1)
    >>> for _ in range(100):
    ...     opt.zero_grad()
    ...     loss = torch.nn.functional.mse_loss(model(x), y)
    ...     loss.backward()
    ...     opt.step()
    >>> int(opt.state[model.weight]["step"])
    100
    >>> ref = torch.optim.Adam(model.parameters())
    >>> ref.load_state_dict(opt.state_dict())   # torch's own format
    """

    _spec = specs.ADAM


class AdamW(_Bridge, torch.optim.AdamW):
    """:class:`torch.optim.AdamW` (Adam with decoupled weight decay, default 1e-2) stepped
    by saddlepoint's fused kernel.

    >>> import torch
    >>> from saddlepoint.torch import AdamW
    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = torch.tensor([1.0, -1.0])
    >>> opt.step()
    >>> w.detach()      # decay 1 * (1 - 0.1 * 0.5), then Adam's first step of size lr
    tensor([0.8500, 1.0500])
    """

    _spec = specs.ADAM
