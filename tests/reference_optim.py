"""An independent float64 NumPy reference of torch.optim's single-tensor optimizers.

Written from the published update rules and the algorithm boxes of PyTorch's documentation
(``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``; PyTorch 2.x), never by
calling ``saddlepoint``. Every operation runs in float64 whatever the input dtype, so the
float32 kernels are compared against the exact-arithmetic answer up to float64 rounding.

State follows PyTorch's conventions: a missing ``momentum_buffer`` (``None``) means "not
created yet", so SGD's first momentum step copies the gradient; Adagrad's ``sum`` starts at
``initial_accumulator_value``; the Adam family counts ``step`` from 1.

:func:`rule` takes one step of an update by name, with torch's hyper-parameter names and
defaults (:data:`DEFAULTS`), returns the new parameter and updates ``state`` (a dict of
float64 arrays) in place; :class:`Reference` wraps it into an optimizer over one array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

Array = np.ndarray


def _f64(a: Any) -> Array:
    return np.array(a, dtype=np.float64)


def lerp(start: Array, end: Array, weight: Any) -> Array:
    """torch.lerp as PyTorch's CPU kernel computes it: start + w (end - start) for |w| < 0.5,
    end - (end - start) (1 - w) otherwise (exact at w = 1).

    Both equal (1 - w) start + w end in exact arithmetic; the difference form matters once a
    value is Inf (inf + w (g - inf) is NaN, whereas (1 - w) inf + w g stays inf). ``weight``
    may be a number or an array (one weight per row); ``1 - w`` is formed in its dtype.
    """
    w = np.asarray(weight)
    one = w.dtype.type(1) if w.dtype.kind == "f" else 1.0
    if w.ndim == 0:
        if abs(float(w)) < 0.5:
            return start + weight * (end - start)
        return end - (end - start) * (one - weight)
    with np.errstate(invalid="ignore", over="ignore"):  # the branch a row does not take
        low, high = start + w * (end - start), end - (end - start) * (one - w)
    return np.where(np.abs(w) < 0.5, low, high)


def _pow(base: Any, exponent: int) -> Any:
    """base ** exponent by C's pow, element by element (as torch forms bias corrections)."""
    b = np.asarray(base, np.float64)
    if b.ndim == 0:
        return float(b) ** exponent
    return np.array([float(x) ** exponent for x in b.ravel()]).reshape(b.shape)


# torch.optim's hyper-parameters and their defaults (PyTorch 2.x), in torch's argument order:
# a rule reads them from one dict, as torch's optimizers read a param group.
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10, maximize=False),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, maximize=False),
    "adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, decoupled_weight_decay=False),
    "adamw": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                  maximize=False, decoupled_weight_decay=True),
}  # fmt: skip


def _signed_decayed(p: Array, g: Array, group: dict[str, Any]) -> Array:
    """The gradient a rule follows: negated to maximize, plus coupled weight decay wd p."""
    g = -g if group["maximize"] else g
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * p
    return g


def _sgd(p: Array, g: Array, state: dict[str, Any], group: dict[str, Any], step: int) -> Array:
    """torch.optim.SGD: g <- ±g + wd p; b <- g (first) or mu b + (1-tau) g; p <- p - lr d."""
    g = _signed_decayed(p, g, group)
    mu = group["momentum"]
    if mu != 0:
        buf = state.get("momentum_buffer")
        buf = g.copy() if buf is None else mu * buf + (1.0 - group["dampening"]) * g
        state["momentum_buffer"] = buf
        g = g + mu * buf if group["nesterov"] else buf
    return p - group["lr"] * g


def _adagrad(p: Array, g: Array, state: dict[str, Any], group: dict[str, Any], step: int) -> Array:
    """torch.optim.Adagrad (Duchi et al. 2011): eps is added outside the square root."""
    g = _signed_decayed(p, g, group)
    clr = group["lr"] / (1.0 + (step - 1) * group["lr_decay"])
    state["sum"] = state["sum"] + g * g
    return p - clr * g / (np.sqrt(state["sum"]) + group["eps"])


def _rmsprop(p: Array, g: Array, state: dict[str, Any], group: dict[str, Any], step: int) -> Array:
    """torch.optim.RMSprop (Hinton, lecture 6e; centered form of Graves 2013)."""
    g = _signed_decayed(p, g, group)
    alpha, eps, lr = group["alpha"], group["eps"], group["lr"]
    v = alpha * state["square_avg"] + (1.0 - alpha) * g * g
    state["square_avg"] = v
    if group["centered"]:
        a = lerp(state["grad_avg"], g, 1.0 - alpha)
        state["grad_avg"] = a
        denom = np.sqrt(v - a * a) + eps
    else:
        denom = np.sqrt(v) + eps
    if group["momentum"] > 0:
        buf = group["momentum"] * state["momentum_buffer"] + g / denom
        state["momentum_buffer"] = buf
        return p - lr * buf
    return p - lr * g / denom


def _adam(
    p: Array, g: Array, state: dict[str, Any], group: dict[str, Any], step: int, dtype: Any
) -> Array:
    """torch.optim.Adam (Kingma & Ba 2015) / AdamW (Loshchilov & Hutter 2019).

    p <- p - (lr / bc1) m / (sqrt(v_hat) / sqrt(bc2) + eps), bc_i = 1 - beta_i**step, with
    v_hat = v, or the running maximum of the raw v for AMSGrad (Reddi et al. 2018).

    Written in torch's single-tensor order of operations (lerp, v beta2 + ((1 - beta2) g) g,
    sqrt(v) / sqrt(bc2) + eps, p + (-(lr / bc1) m) / denom). Hyper-parameters are numbers or
    per-row columns (shape ``(rows, 1)``); the per-step constants are formed in float64 and
    cast to ``dtype``, as torch casts Python floats. With float64 (the default) this is the
    float64 reference; given float32 arrays and ``dtype=np.float32`` every elementwise
    operation rounds in float32 as a float32 torch step does, so it can be compared bit for bit.
    """

    def c(x: Any) -> Array:
        return np.asarray(x, np.float64).astype(dtype)

    lr, eps = group["lr"], group["eps"]
    beta1, beta2 = (np.asarray(b, np.float64) for b in group["betas"])
    wd = np.asarray(group["weight_decay"], np.float64)
    g = -g if group["maximize"] else g
    if np.any(wd != 0):
        if group["decoupled_weight_decay"]:
            p = np.where(wd != 0, p * c(1.0 - lr * wd), p)
        else:
            g = np.where(wd != 0, g + c(wd) * p, g)
    m = lerp(state["exp_avg"], g, c(1.0 - beta1))
    v = state["exp_avg_sq"] * c(beta2) + (c(1.0 - beta2) * g) * g
    state["exp_avg"], state["exp_avg_sq"] = m, v
    if group["amsgrad"]:
        # torch.maximum propagates NaN (np.maximum does too, unlike a plain comparison)
        state["max_exp_avg_sq"] = np.maximum(state["max_exp_avg_sq"], v)
        v = state["max_exp_avg_sq"]
    bc1 = 1.0 - _pow(beta1, step)
    bc2_sqrt = np.sqrt(1.0 - _pow(beta2, step))
    return p + (c(-(lr / bc1)) * m) / (np.sqrt(v) / c(bc2_sqrt) + c(eps))


def rule(
    name: str,
    p: Array,
    g: Array,
    state: dict[str, Any],
    *,
    step: int = 1,
    dtype: Any = np.float64,
    **hyper: Any,
) -> Array:
    """One step of torch's update ``name`` ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
    returns the new parameter and updates ``state`` in place.

    ``hyper`` holds torch's hyper-parameters by name (the others keep :data:`DEFAULTS`);
    ``step`` counts from 1 (Adagrad's decay and Adam's bias corrections read it); ``dtype``
    is the dtype Adam rounds in (see :func:`_adam`).
    """
    unknown = sorted(set(hyper) - set(DEFAULTS[name]))
    if unknown:
        raise TypeError(f"{name}: unknown hyper-parameters {unknown}")
    group = {**DEFAULTS[name], **hyper}
    if name in ("adam", "adamw"):
        return _adam(p, g, state, group, step, dtype)
    return {"sgd": _sgd, "adagrad": _adagrad, "rmsprop": _rmsprop}[name](p, g, state, group, step)


def initial_state(name: str, shape: tuple[int, ...], **hyper: Any) -> dict[str, Any]:
    """PyTorch's lazily created state for optimizer ``name``, in float64."""
    zeros = np.zeros(shape)
    if name == "sgd":
        return {"momentum_buffer": None} if hyper.get("momentum", 0) != 0 else {}
    if name == "adagrad":
        return {"sum": np.full(shape, float(hyper.get("initial_accumulator_value", 0.0)))}
    if name == "rmsprop":
        state = {"square_avg": zeros.copy()}
        if hyper.get("centered", False):
            state["grad_avg"] = zeros.copy()
        if hyper.get("momentum", 0) > 0:
            state["momentum_buffer"] = zeros.copy()
        return state
    if name in ("adam", "adamw"):
        state = {"exp_avg": zeros.copy(), "exp_avg_sq": zeros.copy()}
        if hyper.get("amsgrad", False):
            state["max_exp_avg_sq"] = zeros.copy()
        return state
    raise ValueError(name)


class Reference:
    """One float64 parameter array stepped by the reference update ``name``.

    ``lr`` may be a callable of the number of steps already taken (a schedule).
    """

    def __init__(self, name: str, param: Array, **hyper: Any) -> None:
        self.name = name
        self.hyper = {**DEFAULTS[name], **hyper}
        self.param = _f64(param)
        self.state = initial_state(name, self.param.shape, **self.hyper)
        self.steps = 0
        # Error scales for comparisons: |p0| plus the path length sum |p_t - p_{t-1}| for the
        # parameter, the running elementwise maximum of |x_t| for each state array.
        self.scale: dict[str, Array] = {"param": np.abs(self.param)}
        self._track_state()

    def step(self, grad: Array) -> Array:
        hyper = dict(self.hyper)
        if callable(hyper["lr"]):
            hyper["lr"] = float(hyper["lr"](self.steps))
        before = self.param
        self.param = rule(
            self.name, self.param, _f64(grad), self.state, step=self.steps + 1, **hyper
        )
        self.scale["param"] = self.scale["param"] + np.abs(self.param - before)
        self._track_state()
        self.steps += 1
        return self.param

    def _track_state(self) -> None:
        for key, value in self.state.items():
            if value is not None:
                self.scale[key] = np.maximum(self.scale.get(key, 0.0), np.abs(value))


# --------------------------------------------------------------------------------------------
# Test support shared by the test modules (independent of saddlepoint as well)
# --------------------------------------------------------------------------------------------
STEPS = 100


def assert_within(
    actual: np.ndarray, expected: np.ndarray, scale: np.ndarray, tol: float, what: str
) -> None:
    """Elementwise |actual - expected| <= tol * scale (scale: the error's natural size)."""
    err = np.abs(actual.astype(np.float64) - expected)
    bound = tol * np.maximum(scale, np.finfo(np.float64).tiny)
    bad = ~(err <= bound)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} elements off; first at {i}: actual "
            f"{actual.ravel()[i]!r}, expected {expected.ravel()[i]!r}, error {err.ravel()[i]:.3g} "
            f"> bound {bound.ravel()[i]:.3g} (tol {tol:g} x scale {scale.ravel()[i]:.3g})"
        )


# --------------------------------------------------------------------------------------------
# Random hyper-parameters (PyTorch's names), within ranges where the trajectory stays tame
# (lr * weight_decay * steps <= ~1, so rounding errors are not amplified by e^(lr wd t)).
# --------------------------------------------------------------------------------------------
def maybe_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.floats(lo, hi))


@st.composite
def hyper_for(draw: st.DrawFn, name: str) -> dict[str, Any]:
    maximize = draw(st.booleans())
    if name == "sgd":
        lr = draw(st.floats(1e-4, 0.3))
        momentum = draw(maybe_zero(0.01, 0.95))
        nesterov = momentum > 0 and draw(st.booleans())
        dampening = 0.0 if nesterov else draw(maybe_zero(0.0, 1.0))
        return dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=draw(maybe_zero(1e-4, 0.03)),
            maximize=maximize,
        )
    if name == "adagrad":
        return dict(
            lr=draw(st.floats(1e-4, 0.5)),
            lr_decay=draw(maybe_zero(1e-4, 0.1)),
            weight_decay=draw(maybe_zero(1e-4, 0.02)),
            eps=draw(st.floats(1e-10, 1e-3)),
            initial_accumulator_value=draw(maybe_zero(1e-3, 1.0)),
            maximize=maximize,
        )
    if name == "rmsprop":
        return dict(
            lr=draw(st.floats(1e-4, 0.05)),
            alpha=draw(st.floats(0.5, 0.999)),
            eps=draw(st.floats(1e-8, 1e-3)),
            weight_decay=draw(maybe_zero(1e-4, 0.05)),
            momentum=draw(maybe_zero(0.01, 0.9)),
            centered=draw(st.booleans()),
            maximize=maximize,
        )
    return dict(
        lr=draw(st.floats(1e-4, 0.1)),
        betas=(draw(st.floats(0.0, 0.99)), draw(st.floats(0.9, 0.9999))),
        eps=draw(st.floats(1e-8, 1e-3)),
        weight_decay=draw(maybe_zero(1e-4, 0.1)),
        amsgrad=draw(st.booleans()),
        maximize=maximize,
    )


def problem(
    seed: int, shape: tuple[int, ...], dtype: Any, steps: int = STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """A starting point and ``steps`` gradients, exactly representable in ``dtype``."""
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = rng.standard_normal((steps, *shape)).astype(dtype)
    return p0, grads
