"""Optimizers that hold their state and update NumPy arrays in place.

Constructed like :mod:`torch.optim`'s, with the same names and defaults::

    opt = saddlepoint.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999))
    for batch in data:
        opt.step(grads)          # grads: an array like params, or a list like the list

``params`` is one C-contiguous float32/float64 array or a list of arrays (a model's
tensors); they are registered once and updated in place by every :meth:`step`, which is one
call into the compiled core (``saddlepoint.kernels`` holds the same steps as functions).
``lr`` may be a number, one value per row of a 2-D parameter array (rows = independent
runs), or a schedule: any callable ``step -> lr``, called with the number of steps taken
so far (0 on the first step), such as those of :mod:`saddlepoint.schedules`.

State lives in flat buffers (one per kind of state, parameters in order), so
:meth:`state_dict` / :meth:`load_state_dict` round-trip exactly: a run resumed from a state
dict continues bit for bit. Thread safety: different optimizers may step in different
threads at once (the GIL is released while the kernels run); one optimizer must not be
stepped from two threads at once (its arrays would race, as with any in-place update); doing so
anyway neither crashes nor writes outside that optimizer's own arrays, and its step count
stays exact, but the values are unspecified (tests/test_threads.py, docs/guarantees.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Union

import numpy as np

from . import _core

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "available",
    "create",
    "flat_buffer",
]

Params = Union[np.ndarray, Sequence[np.ndarray]]
LR = Union[float, np.ndarray, Callable[[int], float]]

_STATE_DICT_VERSION = 1


def _layout(params: Any) -> tuple[int, np.dtype]:
    """Total size and dtype of ``params``, for allocating state; the engine validates them."""
    arrays = list(params) if isinstance(params, (list, tuple)) else [params]
    if not arrays or not all(isinstance(a, np.ndarray) for a in arrays):
        return 0, np.dtype(np.float64)  # the engine raises the precise error
    return sum(a.size for a in arrays), arrays[0].dtype


def _any_nonzero(value: Any) -> bool:
    if np.iscomplexobj(value):
        return True  # not a real number: let the engine name the problem
    try:
        return bool(np.any(np.asarray(value, dtype=float) != 0))
    except (TypeError, ValueError):
        return True  # not a number: let the engine name the problem


def flat_buffer(
    shapes: Sequence[tuple[int, ...]], dtype: Any = np.float64
) -> tuple[np.ndarray, list[np.ndarray]]:
    """One zeroed flat buffer and a C-contiguous view of it per shape.

    Parameters (or gradients) kept as views into one buffer can be handed to an optimizer as
    a list (or, faster, as the flat buffer itself), and a whole model is saved or copied as
    one array.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
    shapes = [tuple(int(d) for d in s) for s in shapes]
    if any(d < 0 for s in shapes for d in s):
        raise ValueError(f"shapes: expected non-negative sizes, got {shapes}")
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = np.zeros(sum(sizes), dtype=dtype)
    views, offset = [], 0
    for shape, size in zip(shapes, sizes):
        views.append(flat[offset : offset + size].reshape(shape))
        offset += size
    return flat, views


def _forwarded(name: str, settable: bool, doc: str | None = None) -> property:
    """A property that reads (and, if the engine allows it, sets) the engine's ``name``."""

    def get(self: Optimizer) -> Any:
        return getattr(self._engine, name)

    def set(self: Optimizer, value: Any) -> None:
        setattr(self._engine, name, value)

    return property(get, set if settable else None, doc=doc or f"The engine's {name}.")


class Optimizer:
    """What every optimizer adds to its compiled engine: state dicts and a readable repr.

    The optimizer holds its engine (``_engine``, from ``_core``), which is built in one call
    from checked arguments: a refused construction leaves no engine, so nothing half-built.
    The hyper-parameters are the engine's ``hyper_names``; each is a property forwarding to
    the engine, settable where the engine's is.
    """

    _engine_type: ClassVar[type]
    _hyper_names: ClassVar[tuple[str, ...]] = ()
    _engine: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        engine_type = cls.__dict__.get("_engine_type")
        if engine_type is None:
            return
        cls._hyper_names = tuple(engine_type.hyper_names)
        for name in cls._hyper_names:
            settable = getattr(engine_type, name).fset is not None
            setattr(cls, name, _forwarded(name, settable))

    def _start(self, engine: Any) -> None:
        self._engine = engine
        # The engine's bound method itself, not a Python method calling it: a step of a small
        # model costs about a microsecond, and a Python frame in between would add a quarter.
        self.step = engine.step  # type: ignore[method-assign]

    def step(self, grads: Any) -> None:
        """Take one step: update the parameters in place from ``grads`` (an array like the
        parameter, or a list like the list of parameters)."""
        self._engine.step(grads)

    params = _forwarded("params", False, "The registered parameter arrays (updated in place).")
    steps = _forwarded("steps", True, "Steps taken so far.")
    lr = _forwarded("lr", True, "Learning rate of the next step: number, per-row array, schedule.")
    schedule = _forwarded("schedule", False, "The learning-rate schedule (step -> lr), or None.")

    @property
    def _is_list(self) -> bool:
        return self._engine._is_list

    def _buffers(self) -> dict[str, np.ndarray]:
        return self._engine._buffers()

    def hyperparameters(self) -> dict[str, Any]:
        """The current hyper-parameters by name (``lr`` is the schedule when one is set)."""
        out: dict[str, Any] = {"lr": self.schedule if self.schedule is not None else self.lr}
        for name in self._hyper_names:
            out[name] = getattr(self, name)
        return out

    def state_dict(self) -> dict[str, Any]:
        """A deep copy of everything needed to continue this run bit for bit.

        Plain Python scalars, strings and NumPy arrays only, so it pickles and its arrays can
        be stored with :func:`numpy.savez`. A schedule is not stored (only its repr): the
        optimizer it is loaded into keeps its own.
        """
        hyper = self.hyperparameters()
        if self.schedule is not None:
            hyper["lr"] = None
        hyper = {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in hyper.items()}
        return {
            "version": _STATE_DICT_VERSION,
            "optimizer": type(self).__name__,
            "dtype": str(self.params[0].dtype),
            "param_shapes": [tuple(p.shape) for p in self.params],
            "steps": int(self.steps),
            "hyper": hyper,
            "schedule": None if self.schedule is None else repr(self.schedule),
            "state": {name: buf.copy() for name, buf in self._buffers().items()},
            "extra": self._extra_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; a mismatched or corrupt one is refused unchanged."""
        sd = _checked_state_dict(self, state_dict)
        # every check passed: now assign. The setters validate the values once more; if one
        # refuses, the ones already assigned are put back so that the optimizer is unchanged.
        settable = self._settable()
        old = {name: getattr(self, name) for name in settable if name != "lr"}
        old["lr"] = self.schedule if self.schedule is not None else self.lr
        try:
            for name, value in sd["hyper"].items():
                if name == "lr" and value is None:
                    continue
                if name in settable:
                    setattr(self, name, value)
        except Exception:
            for name, value in old.items():
                setattr(self, name, value)
            raise
        for name, buf in self._buffers().items():
            np.copyto(buf, sd["state"][name])
        self.steps = int(sd["steps"])
        self._load_extra_state(sd.get("extra", {}))

    def _settable(self) -> set[str]:
        cls = type(self)
        return {
            name
            for name in ("lr", *self._hyper_names)
            if getattr(getattr(cls, name, None), "fset", None) is not None
        }

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        pass

    def __repr__(self) -> str:
        if self._engine is None:  # its construction was refused
            return f"<{type(self).__name__}, not constructed>"
        hyper = ", ".join(f"{k}={_short(v)}" for k, v in self.hyperparameters().items())
        n = sum(p.size for p in self.params)
        what = f"{len(self.params)} arrays" if self._is_list else "1 array"
        return (
            f"{type(self).__name__}({hyper}; {what}, {n:,} elements, "
            f"{self.params[0].dtype}, steps={self.steps})"
        )


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array({value.size} values, {value.min():.3g}..{value.max():.3g})"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return repr(value)


def _checked_state_dict(opt: Optimizer, sd: Any) -> dict[str, Any]:
    name = type(opt).__name__
    if not isinstance(sd, dict):
        raise TypeError(
            f"state_dict: expected a dict from {name}.state_dict(), got {type(sd).__name__}"
        )
    missing = {"optimizer", "dtype", "param_shapes", "steps", "hyper", "state"} - set(sd)
    if missing:
        raise ValueError(
            f"state_dict: missing keys {sorted(missing)}; not a saddlepoint state dict"
        )
    if sd.get("version", _STATE_DICT_VERSION) != _STATE_DICT_VERSION:
        raise ValueError(f"state_dict: version {sd.get('version')!r} is not supported")
    if sd["optimizer"] != name:
        raise ValueError(f"state_dict: saved from {sd['optimizer']}, cannot load into {name}")
    dtype = str(opt.params[0].dtype)
    if str(sd["dtype"]) != dtype:
        raise ValueError(f"state_dict: saved for {sd['dtype']} parameters, these are {dtype}")
    shapes = [tuple(p.shape) for p in opt.params]
    saved = [tuple(int(d) for d in s) for s in sd["param_shapes"]]
    if saved != shapes:
        raise ValueError(f"state_dict: saved for parameter shapes {saved}, these are {shapes}")
    steps = sd["steps"]
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"state_dict: 'steps' must be an int >= 0, got {steps!r}")
    buffers = opt._buffers()
    state = sd["state"]
    if not isinstance(state, dict) or set(state) != set(buffers):
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"state_dict: expected state {sorted(buffers)}, got {got}")
    for key, buf in buffers.items():
        arr = state[key]
        if not isinstance(arr, np.ndarray) or arr.shape != buf.shape or arr.dtype != buf.dtype:
            got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
            raise ValueError(
                f"state_dict: state[{key!r}] must be {buf.dtype} of shape {buf.shape}, got {got}"
            )
    if not isinstance(sd["hyper"], dict):
        raise ValueError("state_dict: 'hyper' must be a dict")
    unknown = set(sd["hyper"]) - {"lr", *opt._hyper_names}
    if unknown:
        raise ValueError(f"state_dict: unknown hyper-parameters {sorted(unknown)} for {name}")
    for key, value in sd["hyper"].items():
        if key in ("lr", *opt._hyper_names) and key not in opt._settable() and value is not None:
            if not np.array_equal(np.asarray(value), np.asarray(getattr(opt, key))):
                raise ValueError(
                    f"state_dict: {key}={value!r} differs from this optimizer's "
                    f"{key}={getattr(opt, key)!r}, which is fixed at construction"
                )
    return sd


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, as :class:`torch.optim.SGD`.

    .. math::
        g_t &= \pm\nabla_t + \lambda\theta_{t-1} \\
        b_t &= g_1 \ (t = 1), \quad \mu b_{t-1} + (1-\tau) g_t \\
        \theta_t &= \theta_{t-1} - \eta\,(g_t + \mu b_t \ \text{(Nesterov)} \ \text{or}\ b_t)

    Momentum (Polyak 1964; Sutskever et al. 2013): the buffer starts as the first gradient.
    """

    _engine_type = _core.SGDEngine
    momentum: Any
    dampening: Any
    weight_decay: Any
    nesterov: bool
    maximize: bool

    def __init__(
        self,
        params: Params,
        lr: LR = 1e-3,
        momentum: Any = 0.0,
        dampening: Any = 0.0,
        weight_decay: Any = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        n, dtype = _layout(params)
        state = {"momentum_buffer": np.zeros(n, dtype)} if _any_nonzero(momentum) else {}
        self._start(
            _core.SGDEngine(
                params, state, lr, momentum, dampening, weight_decay, nesterov, maximize
            )
        )

    def _extra_state(self) -> dict[str, Any]:
        return {"buffer_initialized": bool(self._engine._buffer_initialized)}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        self._engine._buffer_initialized = bool(extra.get("buffer_initialized", self.steps > 0))


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer 2011), as :class:`torch.optim.Adagrad`.

    .. math::
        g_t = \pm\nabla_t + \lambda\theta_{t-1}, \quad
        s_t = s_{t-1} + g_t^2, \quad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\text{lr\_decay}}
                   \frac{g_t}{\sqrt{s_t} + \epsilon}

    ``eps`` is outside the square root; ``s_0 = initial_accumulator_value``. Every past
    gradient counts equally, so the effective step only shrinks.
    """

    _engine_type = _core.AdagradEngine
    lr_decay: Any
    weight_decay: Any
    eps: Any
    maximize: bool

    def __init__(
        self,
        params: Params,
        lr: LR = 1e-2,
        lr_decay: Any = 0.0,
        weight_decay: Any = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: Any = 1e-10,
        maximize: bool = False,
    ) -> None:
        value = initial_accumulator_value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(
                f"initial_accumulator_value: expected a real number, got {type(value).__name__}"
            )
        value = float(value)
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(
                f"initial_accumulator_value: expected a finite value >= 0, got {value}"
            )
        n, dtype = _layout(params)
        state = {"sum": np.full(n, value, dtype)}
        self._start(_core.AdagradEngine(params, state, lr, lr_decay, weight_decay, eps, maximize))
        self.initial_accumulator_value = value


class RMSprop(Optimizer):
    r"""RMSProp (Hinton, Coursera lecture 6e), as :class:`torch.optim.RMSprop`.

    .. math::
        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        d_t = \sqrt{v_t - \bar g_t^2 \ \text{(centered)}} + \epsilon \\
        \theta_t &= \theta_{t-1} - \eta\, g_t / d_t \quad\text{or, with momentum,}\quad
        b_t = \mu b_{t-1} + g_t/d_t,\ \theta_t = \theta_{t-1} - \eta b_t

    The lecture's :math:`\sigma_t = \sqrt{\alpha\sigma_{t-1}^2 + (1-\alpha)g_t^2}` is the
    recursion of :math:`v_t` under another start: the lecture's :math:`\sigma_0 = |g_0|`,
    PyTorch's :math:`v` starts at 0, so after the same gradients
    :math:`\sigma_t^2 - v_t = \alpha^{t+1} g_0^2`, a difference that decays (below 1% of
    :math:`g_0^2` after about 460 steps at :math:`\alpha = 0.99`) but is never exactly zero.
    Either way an exponential moving average forgets old gradients, unlike Adagrad.
    """

    _engine_type = _core.RMSpropEngine
    alpha: Any
    eps: Any
    weight_decay: Any
    momentum: Any
    centered: bool
    maximize: bool

    def __init__(
        self,
        params: Params,
        lr: LR = 1e-2,
        alpha: Any = 0.99,
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        momentum: Any = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        n, dtype = _layout(params)
        state = {"square_avg": np.zeros(n, dtype)}
        if centered is True:
            state["grad_avg"] = np.zeros(n, dtype)
        if _any_nonzero(momentum):
            state["momentum_buffer"] = np.zeros(n, dtype)
        self._start(
            _core.RMSpropEngine(
                params, state, lr, alpha, eps, weight_decay, momentum, centered, maximize
            )
        )


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015), as :class:`torch.optim.Adam`: RMSProp plus momentum.

    .. math::
        g_t &= \pm\nabla_t + \lambda\theta_{t-1}, \quad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``amsgrad=True`` (Reddi et al. 2018) the running maximum of :math:`v_t` is used.
    """

    _engine_type = _core.AdamEngine
    betas: tuple[Any, Any]
    eps: Any
    weight_decay: Any
    amsgrad: bool
    maximize: bool
    _decoupled = False

    def __init__(
        self,
        params: Params,
        lr: LR = 1e-3,
        betas: tuple[Any, Any] = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        n, dtype = _layout(params)
        state = {"exp_avg": np.zeros(n, dtype), "exp_avg_sq": np.zeros(n, dtype)}
        if amsgrad is True:
            state["max_exp_avg_sq"] = np.zeros(n, dtype)
        self._start(
            _core.AdamEngine(
                params, state, lr, betas, eps, weight_decay, amsgrad, maximize, self._decoupled
            )
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter 2019), as :class:`torch.optim.AdamW`.

    Adam with decoupled weight decay: :math:`\theta \leftarrow \theta(1 - \eta\lambda)` before
    the Adam update, instead of adding :math:`\lambda\theta` to the gradient.
    """

    _decoupled = True

    def __init__(
        self,
        params: Params,
        lr: LR = 1e-3,
        betas: tuple[Any, Any] = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


_REGISTRY: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}


def available() -> list[str]:
    """Names accepted by :func:`create`."""
    return list(_REGISTRY)


def create(name: str, params: Params, **hyper: Any) -> Optimizer:
    """Build an optimizer by name (``"sgd"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``,
    ``"adamw"``; case-insensitive) with its keyword arguments."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected an optimizer name, got {type(name).__name__}")
    cls = _REGISTRY.get(name.lower())
    if cls is None:
        raise ValueError(f"name: unknown optimizer {name!r}; expected one of {available()}")
    try:
        return cls(params, **hyper)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            import inspect

            allowed = [
                p
                for p in inspect.signature(cls.__init__).parameters
                if p not in ("self", "params")
            ]
            bad = sorted(set(hyper) - set(allowed))
            raise TypeError(
                f"{cls.__name__}: unknown hyper-parameters {bad}; expected {allowed}"
            ) from None
        raise
