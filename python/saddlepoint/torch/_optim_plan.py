"""One parameter group of a bridged torch optimizer, bound to a saddlepoint engine.

A plan holds NumPy views of the group's tensors (``p.detach().numpy()`` shares the tensor's
memory: nothing is copied), one :mod:`saddlepoint.optim` optimizer over them (flat state
buffers, one call into the core per step), and torch views of those buffers: the tensors in
``optimizer.state[p]`` *are* slices of the engine's buffers, so torch's own ``state_dict``
machinery reads them unchanged. ``state[p]['step']`` is a 0-d view into one array of step
counts, advanced by one NumPy call per step.

A plan is rebuilt from ``optimizer.state`` whenever what it was built on changes (the
group's tensors or their storage, a switch such as ``amsgrad``, a loaded state dict); the
per-step check is a few C-level passes over the group's tensors (``map(id, ...)``,
``map(Tensor.data_ptr, ...)``), about 0.1-0.2 us a tensor.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import torch
from torch.autograd.graph import increment_version
from torch.optim.optimizer import _get_scalar_dtype

from .. import _core
from .. import optim as sp_optim

_GRAD = operator.attrgetter("grad")
_DTYPE = operator.attrgetter("dtype")
_PTR = torch.Tensor.data_ptr
_NUMEL = torch.Tensor.numel
_CONTIGUOUS = torch.Tensor.is_contiguous
_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


@dataclass(frozen=True)
class Spec:
    """What differs between the five optimizers.

    ``engine(arrays, group)`` builds the saddlepoint optimizer; ``kernel(arrays, grads,
    states, step, group)`` is the functional step for irregular steps (a subset of the
    group, or tensors at different step counts); ``hypers`` are the group's settable
    hyper-parameters, synced to the engine when they change (a scheduler writes them);
    ``flags(group)`` is what the engine is built with (a change rebuilds it), named by
    ``flag_names``;
    ``state_keys(group)`` names the per-tensor state; ``counts_steps``: the state has
    torch's ``'step'`` (all but SGD); ``eager``: torch creates the state at construction
    (Adagrad).
    """

    engine: Callable[[list[np.ndarray], dict[str, Any]], sp_optim.Optimizer]
    kernel: Callable[..., None]
    hypers: tuple[str, ...]
    flags: Callable[[dict[str, Any]], tuple[Any, ...]]
    flag_names: tuple[str, ...]
    state_keys: Callable[[dict[str, Any]], tuple[str, ...]]
    counts_steps: bool = True
    eager: bool = False
    initial: Callable[[dict[str, Any], str], float] = lambda group, key: 0.0


def param_name(group_index: int, i: int, p: torch.Tensor) -> str:
    """``params[3] (shape (64, 10))``, or with the group for a group after the first."""
    where = f"params[{i}]" if group_index == 0 else f"param_groups[{group_index}]['params'][{i}]"
    return f"{where} (shape {tuple(p.shape)}, {p.dtype}, {p.device.type})"


def check_params(group_index: int, params: Sequence[torch.Tensor]) -> None:
    """Refuse what the fused CPU kernels cannot step in place, naming the tensor."""
    first: torch.dtype | None = None
    for i, p in enumerate(params):
        name = param_name(group_index, i, p)
        if p.device.type != "cpu":
            raise ValueError(
                f"{name}: saddlepoint.torch steps CPU tensors in place; use torch.optim for "
                f"{p.device.type} tensors"
            )
        if p.layout != torch.strided:
            raise ValueError(f"{name}: expected a dense (strided) tensor, got {p.layout}")
        if p.dtype not in _DTYPES:
            raise TypeError(f"{name}: expected float32 or float64, got {p.dtype}")
        if first is None:
            first = p.dtype
        elif p.dtype != first:
            raise TypeError(
                f"{name}: every tensor of a group must have one dtype, params[0] is {first}; "
                "put tensors of another dtype in their own param group"
            )
        if not p.is_contiguous():
            raise ValueError(
                f"{name}: expected a contiguous tensor (strides {p.stride()}); stepping a "
                "copy would leave the parameter unchanged. Make it contiguous before building "
                "the optimizer (p.data = p.data.contiguous())"
            )


def _grad_array(group_index: int, i: int, p: torch.Tensor, g: torch.Tensor) -> np.ndarray:
    """A NumPy view of a new grad; the checks are cheap, the message is built only to raise."""
    if g.layout == torch.strided and g.dtype == p.dtype and g.is_contiguous():
        try:
            return g.detach().numpy() if g.requires_grad else g.numpy()
        except (RuntimeError, TypeError):
            pass  # not on the CPU, or another reason numpy() refuses: named below
    name = param_name(group_index, i, p)
    if g.layout != torch.strided:
        raise ValueError(f"{name}: sparse gradients are not supported ({g.layout})")
    if g.device.type != "cpu":
        raise ValueError(f"{name}: its grad is on {g.device.type}, expected cpu")
    if g.dtype != p.dtype:
        raise TypeError(f"{name}: its grad is {g.dtype}, expected {p.dtype} like the tensor")
    if not g.is_contiguous():
        raise ValueError(
            f"{name}: its grad is not contiguous (strides {g.stride()}); assign a contiguous "
            "grad (p.grad = p.grad.contiguous())"
        )
    return g.detach().numpy()  # raises torch's own error for anything else


class Plan:
    """A group's engine, views and per-tensor step counts (see the module docstring)."""

    def __init__(
        self,
        spec: Spec,
        group_index: int,
        group: dict[str, Any],
        state: dict[torch.Tensor, dict[str, Any]],
    ) -> None:
        params = list(group["params"])
        check_params(group_index, params)
        self.spec = spec
        self.group_index = group_index
        self.params = params
        self.ptrs = list(map(_PTR, params))
        self.flags = spec.flags(group)
        self.hyper_get = operator.itemgetter(*spec.hypers)
        self.arrays = [p.detach().numpy() for p in params]
        self.opt = spec.engine(self.arrays, group)
        self.keys = tuple(k for k in spec.state_keys(group) if k in self.opt._buffers())
        self.state_arrays: dict[str, list[np.ndarray]] = {}
        self.state_tensors: dict[str, list[torch.Tensor]] = {}
        for key in self.keys:
            flat = self.opt._buffers()[key]
            views, offset = [], 0
            for a in self.arrays:
                views.append(flat[offset : offset + a.size].reshape(a.shape))
                offset += a.size
            self.state_arrays[key] = views
            self.state_tensors[key] = [torch.from_numpy(v) for v in views]
        # per-tensor step counts: torch's 'step' (its scalar dtype), or for SGD whether the
        # momentum buffer exists (0 or 1)
        dtype = np.float64 if _get_scalar_dtype() == torch.float64 else np.float32
        self.counts: np.ndarray = np.zeros(len(params), dtype)
        self.count_tensors = [torch.from_numpy(self.counts[i : i + 1].reshape(())) for i in
                              range(len(params))]  # fmt: skip
        self.live = [False] * len(params)
        self._adopt(group, state)
        self.hyper_vals: Any = None
        self.tensor_hypers = False
        self.sync(group)
        self.dtype = params[0].dtype if params else None
        self.grads: list[torch.Tensor | None] = []
        self.grad_ptrs: list[int] = []
        self.grad_arrays: list[np.ndarray] = []
        self.grad_feed: Any = None  # what the engine's step reads: GradAddresses or arrays
        self.grads_full = False

    # -- state: torch's dict <-> the engine's buffers ------------------------------------
    def _adopt(self, group: dict[str, Any], state: dict[torch.Tensor, dict[str, Any]]) -> None:
        """Copy each tensor's existing torch state into the engine, then point it at views."""
        spec = self.spec
        for i, p in enumerate(self.params):
            st = state.get(p)
            if spec.counts_steps:
                live = bool(st)
            else:  # SGD: the state is the momentum buffer, created on a tensor's first step
                live = bool(self.keys) and st is not None and "momentum_buffer" in st
            if not live and spec.eager:
                live = True  # torch made this state at construction; a later group gets it now
                for key in self.keys:
                    self.state_arrays[key][i][...] = spec.initial(group, key)
            self.live[i] = live
            if not live or st is None:
                continue
            for key in self.keys:
                if key not in st:
                    raise ValueError(
                        f"{param_name(self.group_index, i, p)}: its state has no {key!r} "
                        f"(has {sorted(st)}), which {type(self.opt).__name__} with "
                        f"{dict(zip(spec.flag_names, self.flags))} needs"
                    )
                src = st[key]
                if not isinstance(src, torch.Tensor) or src.numel() != p.numel():
                    got = tuple(src.shape) if isinstance(src, torch.Tensor) else type(src)
                    raise ValueError(
                        f"{param_name(self.group_index, i, p)}: state[{key!r}] has shape "
                        f"{got}, expected {tuple(p.shape)}"
                    )
                dst = self.state_arrays[key][i]
                loaded = src.detach().to("cpu", _torch_dtype(dst)).reshape(dst.shape)
                np.copyto(dst, loaded.numpy())
            if spec.counts_steps:
                step = st.get("step", 0)
                self.counts[i] = float(step.item() if isinstance(step, torch.Tensor) else step)
            else:
                self.counts[i] = 1.0
        for i, p in enumerate(self.params):
            if self.live[i]:
                self._publish(i, state.setdefault(p, {}))
        self._settle()

    def _publish(self, i: int, st: dict[str, Any]) -> None:
        if self.spec.counts_steps:  # first, as torch's lazily created state has it
            st["step"] = self.count_tensors[i]
        for key in self.keys:
            st[key] = self.state_tensors[key][i]

    def _settle(self) -> None:
        """Set the engine's step count when every tensor is at the same one."""
        counts = self.counts
        self.uniform = bool(counts.size == 0 or counts.min() == counts.max())
        self.all_live = all(self.live)
        if self.uniform and counts.size:
            if self.spec.counts_steps:
                self.opt.steps = int(counts[0])
            elif self.keys:
                self.opt._engine._buffer_initialized = bool(counts[0])

    # -- one step -----------------------------------------------------------------------
    def current(self, group: dict[str, Any]) -> bool:
        """Whether this plan still describes ``group`` (its tensors, storage and switches)."""
        params = group["params"]
        # a tensor replaced in the list, or given new storage (p.data = ...), has another
        # data pointer: the memory the engine steps is checked, not the Python objects
        return (
            len(params) == len(self.ptrs)
            and list(map(_PTR, params)) == self.ptrs
            and self.spec.flags(group) == self.flags
        )

    def sync(self, group: dict[str, Any]) -> None:
        """Give the engine the group's hyper-parameters where they changed (a scheduler's)."""
        vals = self.hyper_get(group)
        # a tensor lr (or beta) may be changed in place: read it every step, as torch does
        if not self.tensor_hypers and vals == self.hyper_vals:
            return
        names = self.spec.hypers
        values = vals
        old = {name: getattr(self.opt, name) for name in names}
        try:
            for name, value in zip(names, values):
                setattr(self.opt, name, _scalar(value))
        except Exception:
            for name, value in old.items():
                setattr(self.opt, name, value)
            raise
        self.hyper_vals = vals
        self.tensor_hypers = any(
            isinstance(v, torch.Tensor)
            or (isinstance(v, tuple) and any(isinstance(x, torch.Tensor) for x in v))
            for v in values
        )

    def load_grads(self, group: dict[str, Any]) -> None:
        """What the step reads the group's grads through, cached while the grads are the same
        tensors with the same storage (a grad changed in place is read afresh anyway).

        When every tensor has a grad that is a contiguous tensor of the group's dtype (a real
        loop: new grads from every backward), the engine gets their addresses
        (:class:`saddlepoint._core.GradAddresses`, which checks count, sizes, alignment and
        overlap) instead of a NumPy view of each: ``Tensor.numpy()`` costs about 0.5 us a
        tensor, the passes here about 0.05 us each. Anything else (a missing, sparse,
        strided or other-dtype grad) takes the per-tensor path, which names the tensor."""
        grads = list(map(_GRAD, self.params))
        cached = self.grads
        if (
            self.grads_full
            and len(cached) == len(grads)
            and all(map(operator.is_, grads, cached))
            and list(map(_PTR, grads)) == self.grad_ptrs
        ):
            return
        # the cache holds the grads themselves, so their ids cannot be reused meanwhile
        self.grads = grads
        self.grads_full = False
        try:
            fast = all(map(operator.is_, map(_DTYPE, grads), repeat(self.dtype))) and all(
                map(_CONTIGUOUS, grads)
            )  # a None grad has no dtype: AttributeError, the per-tensor path
            if fast:
                ptrs = list(map(_PTR, grads))  # a sparse grad has no storage: RuntimeError
                self.grad_feed = _core.GradAddresses(ptrs, list(map(_NUMEL, grads)))
                self.grad_arrays = []
                self.grad_ptrs = ptrs
                self.grads_full = True
                return
        except (AttributeError, RuntimeError):
            pass
        arrays = []
        for i, (p, g) in enumerate(zip(self.params, grads)):
            arrays.append(None if g is None else _grad_array(self.group_index, i, p, g))
        self.grad_arrays = arrays  # type: ignore[assignment]
        self.grad_feed = arrays
        self.grads_full = all(g is not None for g in grads)
        self.grad_ptrs = list(map(_PTR, grads)) if self.grads_full else []

    def forget_grads(self) -> None:
        """Drop the cached grads (so that zero_grad(set_to_none=True) frees them, as torch)."""
        self.grads = []
        self.grad_arrays = []
        self.grad_feed = None
        self.grads_full = False

    def run(self, group: dict[str, Any], state: dict[torch.Tensor, dict[str, Any]]) -> None:
        """The step, after current()/sync()/load_grads() passed for every group."""
        if self.grads_full and self.uniform:
            self.opt.step(self.grad_feed)  # one call into the core for the whole group
            if self.spec.counts_steps:
                self.counts += 1
            else:
                self.counts[:] = 1.0 if self.keys else 0.0
            if not self.all_live:
                for i, p in enumerate(self.params):
                    if not self.live[i]:
                        self.live[i] = True
                        self._publish(i, state.setdefault(p, {}))
                self.all_live = True
        else:
            self._irregular(group, state)
        increment_version(self.params)  # as torch's in-place update: autograd sees the change

    def _irregular(self, group: dict[str, Any], state: dict[torch.Tensor, dict[str, Any]]) -> None:
        """Tensors without a grad are skipped (as torch does); the others are stepped by the
        functional kernels, one call per step count."""
        if not self.grad_arrays:  # the grads came as addresses: irregular steps need views
            self.grad_arrays = [
                _grad_array(self.group_index, i, p, g)
                for i, (p, g) in enumerate(zip(self.params, self.grads))
            ]
        with_grad = [i for i, a in enumerate(self.grad_arrays) if a is not None]
        by_count: dict[float, list[int]] = {}
        for i in with_grad:
            by_count.setdefault(float(self.counts[i]), []).append(i)
        for count, idx in by_count.items():
            states = {k: [self.state_arrays[k][i] for i in idx] for k in self.keys}
            self.spec.kernel(
                [self.arrays[i] for i in idx],
                [self.grad_arrays[i] for i in idx],
                states,
                int(count) + 1,
                group,
            )
        stepped = 1.0 if self.keys else 0.0  # SGD: the momentum buffer exists now
        for i in with_grad:
            self.counts[i] = self.counts[i] + 1 if self.spec.counts_steps else stepped
            if not self.live[i]:
                self.live[i] = True
                self._publish(i, state.setdefault(self.params[i], {}))
        self._settle()


def _torch_dtype(a: np.ndarray) -> torch.dtype:
    return torch.float64 if a.dtype == np.float64 else torch.float32


def _scalar(value: Any) -> Any:
    """A torch tensor hyper-parameter (lr may be one) as a Python number; tuples itemwise."""
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_scalar(v) for v in value)
    return value
