"""Fuzzing at the boundary: arbitrary arrays and hyper-parameters into every public function.

Each call either works and then agrees with an independent float64 reference (tests/
reference_optim.py, NumPy's eigh, a finite difference), or raises TypeError/ValueError whose
message names the argument that was changed; arrays the call was not meant to change are
byte-for-byte unchanged either way (and every array is unchanged after a refusal).

The distinct inputs tried are counted (see ``describe``); the totals are written at the end of
the module to ``$SADDLEPOINT_FUZZ_REPORT`` (default: ``<tmp>/saddlepoint_fuzz_report.json``).
Failures found while writing these tests are kept as explicit cases in test_regressions.py.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from typing import Any

import numpy as np
import pytest
import reference_optim as ref
from helpers import snapshot
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from kernel_calls import KERNELS
from saddlepoint import hessian, linalg, optim, schedules, surfaces
from strategies import arrays_anything, describe, hyper_values

SHAPE = (3, 4)
# CI replays the same examples every run (no flaky failures); HYPOTHESIS_PROFILE=dev searches
# new ones each run.
DERANDOMIZE = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci"
TRIED: dict[str, set] = {}  # distinct inputs per area
REFUSED: dict[str, set] = {}  # distinct bad inputs (refused with a named argument) per area
OUTCOMES: Counter = Counter()


def record(area: str, key: Any, outcome: str) -> None:
    TRIED.setdefault(area, set()).add(key)
    if outcome == "refused":
        REFUSED.setdefault(area, set()).add(key)
    OUTCOMES[f"{area}:{outcome}"] += 1
    event(f"{area}: {outcome}")


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    path = os.environ.get(
        "SADDLEPOINT_FUZZ_REPORT", os.path.join(tempfile.gettempdir(), "saddlepoint_fuzz.json")
    )
    report = {
        "distinct_inputs": {k: len(v) for k, v in TRIED.items()},
        "total_distinct": sum(len(v) for v in TRIED.values()),
        "distinct_bad_inputs": {k: len(v) for k, v in REFUSED.items()},
        "total_distinct_bad": sum(len(v) for v in REFUSED.values()),
        "outcomes": dict(OUTCOMES),
    }
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1)


def attempt(fn, names: list[str], *arrays: Any) -> tuple[bool, Any]:
    """Call ``fn``. Refused (TypeError/ValueError): the message names one of ``names`` and no
    array among ``arrays`` changed; returns (False, None). Accepted: (True, its result)."""
    before = snapshot(arrays)
    try:
        result = fn()
    except (TypeError, ValueError) as exc:
        pattern = "|".join(re.escape(n) for n in names)
        assert re.search(pattern, str(exc)), f"message does not name {names}: {exc}"
        assert snapshot(arrays) == before, "an array changed although the call was refused"
        return False, None
    return True, result


def refused_naming(fn, names: list[str], *arrays: Any) -> str | None:
    """:func:`attempt` as an outcome: "refused", or None (the call worked)."""
    accepted, _ = attempt(fn, names, *arrays)
    return None if accepted else "refused"


def verdict(accepted: bool) -> str:
    return "accepted" if accepted else "refused"


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------
REF_STATE = {  # kernel argument -> reference state key
    "momentum_buffer": "momentum_buffer",
    "state_sum": "sum",
    "square_avg": "square_avg",
    "grad_avg": "grad_avg",
    "exp_avg": "exp_avg",
    "exp_avg_sq": "exp_avg_sq",
    "max_exp_avg_sq": "max_exp_avg_sq",
}
FLOATS = [np.dtype("f4"), np.dtype("f8")]


def valid_arrays(kernel: str, dtype: Any, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {n: rng.uniform(0.5, 1.5, SHAPE).astype(dtype) for n in KERNELS[kernel][1]}
    arrays["grad_avg"] = (0.1 * arrays.get("grad_avg", np.zeros(SHAPE))).astype(dtype)
    if "grad_avg" not in KERNELS[kernel][1]:
        del arrays["grad_avg"]
    arrays["param"] = rng.standard_normal(SHAPE).astype(dtype)
    arrays["grad"] = rng.standard_normal(SHAPE).astype(dtype)
    return arrays


def reference_step(kernel: str, arrays: dict, hyper: dict) -> dict[str, np.ndarray]:
    """The float64 reference of one kernel call on copies of ``arrays``; per-row
    hyper-parameter arrays are applied row by row (each row is an independent run)."""

    def per_row(v: Any) -> bool:
        return isinstance(v, np.ndarray) and v.ndim == 1

    betas = hyper.get("betas")
    flat = [*hyper.values(), *(betas if isinstance(betas, (tuple, list)) else ())]
    if not any(per_row(v) for v in flat):
        return _reference_once(kernel, arrays, hyper)

    def row_of(v: Any, r: int) -> Any:
        if per_row(v):
            return float(v[r])
        if isinstance(v, (tuple, list)):
            return tuple(row_of(x, r) for x in v)
        return v

    rows = [
        _reference_once(kernel, {k: a[r] for k, a in arrays.items()},
                        {k: row_of(v, r) for k, v in hyper.items()})
        for r in range(SHAPE[0])
    ]  # fmt: skip
    return {k: np.stack([row[k] for row in rows]) for k in rows[0]}


def _reference_once(kernel: str, arrays: dict, hyper: dict) -> dict[str, np.ndarray]:
    state = {REF_STATE[k]: np.asarray(v, np.float64).copy() for k, v in arrays.items()
             if k in REF_STATE}  # fmt: skip
    kw = {}
    for k, v in hyper.items():
        if isinstance(v, np.ndarray) and v.ndim == 1:
            v = v.astype(np.float64)[:, None]  # one value per row
        elif isinstance(v, tuple):
            v = tuple(x.astype(np.float64)[:, None] if isinstance(x, np.ndarray) and x.ndim == 1
                      else x for x in v)  # fmt: skip
        kw[k] = v
    p, g = np.asarray(arrays["param"], np.float64), np.asarray(arrays["grad"], np.float64)
    with np.errstate(all="ignore"):
        return _reference_step(kernel, arrays, state, kw, p, g)


def _reference_step(kernel: str, arrays: dict, state: dict, kw: dict, p: Any, g: Any) -> dict:
    if kernel == "sgd":
        step = kw.pop("step", None)
        if step is not None and step > 1 and "momentum_buffer" in state:
            pass  # the buffer is continued
        elif "momentum_buffer" in state:
            state["momentum_buffer"] = None
    new_p = ref.rule(kernel, p, g, state, **kw)
    out = {"param": new_p}
    for k in arrays:
        if k in REF_STATE and state.get(REF_STATE[k]) is not None:
            out[k] = state[REF_STATE[k]]
    return out


def assert_agrees(arrays: dict, expected: dict, dtype: np.dtype) -> None:
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    for k, want in expected.items():
        got = np.asarray(arrays[k], np.float64)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True, err_msg=k)


def _kernel_call(kernel: str, arrays: dict, hyper: dict) -> Any:
    fn = KERNELS[kernel][0]
    return lambda: fn(**arrays, **hyper)


def _is_valid_state(a: Any, like: np.ndarray) -> bool:
    return (
        isinstance(a, np.ndarray)
        and a.dtype == like.dtype
        and a.shape == like.shape
        and a.flags.c_contiguous
        and a.flags.aligned
        and a.flags.writeable
    )


@settings(max_examples=300, derandomize=DERANDOMIZE)
@given(
    kernel=st.sampled_from(list(KERNELS)),
    dtype=st.sampled_from(FLOATS),
    data=st.data(),
)
def test_kernel_with_one_arbitrary_array(kernel: str, dtype: np.dtype, data: Any) -> None:
    names = KERNELS[kernel][1]
    arrays = valid_arrays(kernel, dtype, 0)
    which = data.draw(st.sampled_from(names), label="argument")
    bad = data.draw(
        st.one_of(arrays_anything(), arrays_anything(dtypes=FLOATS, shape=SHAPE)), label="array"
    )
    arrays[which] = bad
    hyper = dict(KERNELS[kernel][2])
    grad_before = snapshot(arrays["grad"])
    bad_before = snapshot(bad)
    outcome = refused_naming(_kernel_call(kernel, arrays, hyper), [which], arrays)
    record("kernels", (kernel, which, describe(bad)), outcome or "accepted")
    if outcome is None:
        # accepted: only an array it could use as is; then the result is the reference's
        if which == "grad":
            assert isinstance(bad, np.ndarray) and bad.dtype == dtype and bad.shape == SHAPE
            assert snapshot(bad) == bad_before
        else:
            assert _is_valid_state(bad, arrays["grad"])
        assert snapshot(arrays["grad"]) == grad_before, "grad changed"
        if not bad.flags.writeable:
            assert snapshot(bad) == bad_before, "a read-only array changed"
        fresh = valid_arrays(kernel, dtype, 0)
        fresh[which] = np.frombuffer(bad_before[0], dtype).reshape(SHAPE).copy()
        if not _moderate(fresh[which]):
            return  # float32 overflows (g * g = inf) as in PyTorch: not comparable to float64
        expected = reference_step(kernel, fresh, hyper)
        assert_agrees(arrays, expected, dtype)


HYPER_NAMES = {
    "sgd": ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "step"],
    "adagrad": ["lr", "lr_decay", "weight_decay", "eps", "maximize", "step"],
    "rmsprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
    "adam": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "step",
             "decoupled_weight_decay", "betas[0]", "betas[1]"],
}  # fmt: skip


@settings(max_examples=300, derandomize=DERANDOMIZE)
@given(kernel=st.sampled_from(list(KERNELS)), value=hyper_values(), data=st.data())
def test_kernel_with_one_arbitrary_hyper_parameter(kernel: str, value: Any, data: Any) -> None:
    dtype = data.draw(st.sampled_from(FLOATS), label="dtype")
    arrays = valid_arrays(kernel, dtype, 1)
    originals = {k: v.copy() for k, v in arrays.items()}
    name = data.draw(st.sampled_from(HYPER_NAMES[kernel]), label="name")
    hyper = dict(KERNELS[kernel][2])
    if name.startswith("betas["):
        betas = [0.9, 0.999]
        betas[int(name[6])] = value
        hyper["betas"] = tuple(betas)
    else:
        hyper[name] = value
    outcome = refused_naming(_kernel_call(kernel, arrays, hyper), [name.split("[")[0]], arrays)
    record("kernels", (kernel, name, describe(value)), outcome or "accepted")
    if outcome is None:
        assert np.array_equal(arrays["grad"], originals["grad"])
        if kernel == "sgd" and hyper.get("step") is None:
            hyper["step"] = 1  # no momentum buffer continued: the first step's semantics
        # With small alpha (lerp weight 1 - alpha near 1) the centered v - avg^2 cancels to a
        # few ulps of v: the float32 kernel and the float64 reference then differ by more
        # than rounding (e.g. alpha = 1e-7), and -1 ulp is NaN in one of them only.
        # Compared for alpha > 0.5 only.
        torch_lerp_differs = (
            kernel == "rmsprop"
            and name == "alpha"
            and _moderate(value)
            and (np.any(np.asarray(value, np.float64) <= 0.5))
        )
        if _moderate(value) and not torch_lerp_differs:  # extreme values overflow in float32
            expected = reference_step(kernel, originals, _plain(hyper))
            assert_agrees(arrays, expected, dtype)


def _moderate(value: Any) -> bool:
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return bool(np.all(np.isfinite(v)) and np.all(np.abs(v) <= 1e6))


def _plain(hyper: dict) -> dict:
    """NumPy scalars as Python numbers, so that the reference computes in float64 (NEP 50:
    ``1.0 - np.float16(0.1)`` would be float16 arithmetic)."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return tuple(plain(x) for x in v)
        if isinstance(v, (np.floating, np.integer)) or (isinstance(v, np.ndarray) and v.ndim == 0):
            return v.item()
        return v

    return {k: plain(v) for k, v in hyper.items()}


@settings(max_examples=160, derandomize=DERANDOMIZE)
@given(
    kernel=st.sampled_from(list(KERNELS)),
    dtype=st.sampled_from(FLOATS),
    data=st.data(),
)
def test_kernel_with_overlapping_views_of_one_buffer(kernel: str, dtype: Any, data: Any) -> None:
    names = KERNELS[kernel][1]
    a, b = data.draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
    n = SHAPE[0] * SHAPE[1]
    offset = data.draw(st.integers(0, n - 1), label="offset")
    buffer = np.random.default_rng(2).uniform(0.5, 1.5, n + 15).astype(dtype)
    arrays = valid_arrays(kernel, dtype, 2)
    arrays[a] = buffer[:n].reshape(SHAPE)
    arrays[b] = buffer[offset : offset + n].reshape(SHAPE)
    before = buffer.copy()
    outcome = refused_naming(_kernel_call(kernel, arrays, dict(KERNELS[kernel][2])), [a, b],
                             arrays, buffer)  # fmt: skip
    record("kernels", (kernel, a, b, offset, str(dtype)), outcome or "accepted")
    # two views of one buffer always overlap here (offset < n): never accepted
    assert outcome == "refused"
    assert np.array_equal(buffer, before)


# --------------------------------------------------------------------------------------------
# optim
# --------------------------------------------------------------------------------------------
OPTIMIZERS = {
    "SGD": ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps",
                "maximize"],
    "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
    "Adam": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
    "AdamW": ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"],
}  # fmt: skip


@settings(max_examples=200, derandomize=DERANDOMIZE)
@given(name=st.sampled_from(list(OPTIMIZERS)), params=arrays_anything(), data=st.data())
def test_optimizer_with_arbitrary_params_and_grads(name: str, params: Any, data: Any) -> None:
    cls = getattr(optim, name)
    accepted, opt = attempt(lambda: cls(params, lr=0.1), ["param"], params)
    record("optim", (name, "params", describe(params)), verdict(accepted))
    if not accepted:
        return
    assert params.dtype in FLOATS and params.flags.c_contiguous and params.flags.writeable
    grad = data.draw(
        st.one_of(arrays_anything(), arrays_anything(dtypes=[params.dtype], shape=params.shape))
    )
    p0, g0 = params.copy(), snapshot(grad)
    outcome = refused_naming(lambda: opt.step(grad), ["grad"], params, grad)
    record("optim", (name, "grads", describe(grad)), outcome or "accepted")
    assert snapshot(grad) == g0
    if outcome is None:
        g = np.frombuffer(g0[0], params.dtype).reshape(params.shape)
        if not _moderate(g):
            # Inf/overflow: propagation is held to PyTorch itself in test_kernels.py; the
            # float64 reference rounds and overflows elsewhere than a float32 kernel
            return
        r = ref.Reference(name.lower(), p0, lr=0.1)
        want = r.step(g)
        assert_agrees({"param": params}, {"param": want}, params.dtype)
    else:
        assert np.array_equal(params, p0, equal_nan=True) and opt.steps == 0


@settings(max_examples=240, derandomize=DERANDOMIZE)
@given(name=st.sampled_from(list(OPTIMIZERS)), value=hyper_values(), data=st.data())
def test_optimizer_with_arbitrary_hyper_parameter(name: str, value: Any, data: Any) -> None:
    which = data.draw(st.sampled_from(OPTIMIZERS[name]), label="which")
    params = np.random.default_rng(3).standard_normal(SHAPE)
    p0 = params.copy()
    outcome = refused_naming(lambda: getattr(optim, name)(params, **{which: value}), [which],
                             params, value)  # fmt: skip
    record("optim", (name, which, describe(value)), outcome or "accepted")
    assert np.array_equal(params, p0)


# --------------------------------------------------------------------------------------------
# linalg and hessian
# --------------------------------------------------------------------------------------------
@settings(max_examples=300, derandomize=DERANDOMIZE)
@given(a=arrays_anything(), fn=st.sampled_from(["eigh", "eigvalsh", "classify"]))
def test_linalg_with_arbitrary_arrays(a: np.ndarray, fn: str) -> None:
    before = snapshot(a)
    name = "H" if fn == "classify" else "a"
    call = {
        "eigh": lambda: linalg.eigh(a),
        "eigvalsh": lambda: linalg.eigvalsh(a),
        "classify": lambda: hessian.classify(a),
    }[fn]
    accepted, out = attempt(call, [name], a)
    record("linalg", (fn, describe(a)), verdict(accepted))
    if not accepted:
        return
    assert snapshot(a) == before
    # accepted: a finite symmetric real stack; the eigenvalues are NumPy's
    w = out[0] if fn == "eigh" else (out.eigenvalues if fn == "classify" else out)
    wide = np.asarray(a, np.float64)
    want = np.linalg.eigvalsh(wide) if wide.size else np.zeros(wide.shape[:-1])
    tol = (1e-4 if w.dtype == np.float32 else 1e-10) * max(
        1.0, float(np.max(np.abs(wide), initial=0))
    )
    # an eigenvalue beyond the dtype's range (2 * 3.4e38 in float32) is Inf there, as IEEE says
    with np.errstate(over="ignore"):
        want = want.astype(w.dtype).astype(np.float64)
    np.testing.assert_allclose(np.asarray(w, np.float64), want, rtol=0, atol=tol * 10)


@settings(max_examples=160, derandomize=DERANDOMIZE)
@given(x=arrays_anything(), step=hyper_values())
def test_finite_difference_hessian_with_arbitrary_point_and_step(x: Any, step: Any) -> None:
    def grad_fn(z: np.ndarray) -> np.ndarray:  # gradient of sum(c_i z_i^2 / 2), c = 1, -2, ...
        return _curvatures(z.size) * z

    before = snapshot(x, step)
    call = lambda: hessian.hessian(grad_fn, x, step=step)  # noqa: E731
    accepted, H = attempt(call, ["x", "step", "grad_fn"], x, step)
    record("hessian", ("hessian", describe(x), describe(step)), verdict(accepted))
    if not accepted:
        return
    assert snapshot(x, step) == before
    A = np.diag(_curvatures(np.asarray(x).size))
    scale = 1e-6 if np.asarray(x).dtype == np.float64 else 1e-2
    np.testing.assert_allclose(H, A, rtol=scale, atol=scale * max(1.0, float(np.max(np.abs(x)))))


def _curvatures(n: int) -> np.ndarray:
    return np.array([(-2.0) ** i for i in range(n)])


@settings(max_examples=160, derandomize=DERANDOMIZE)
@given(
    which=st.sampled_from(["dim", "k", "tol", "maxiter", "method", "dense_below"]),
    value=hyper_values(),
)
def test_lowest_eigenpairs_with_arbitrary_options(which: str, value: Any) -> None:
    # a valid dim of billions allocates billions: a memory limit, not a boundary bug
    assume(not (which == "dim" and isinstance(value, (int, np.integer)) and value > 3))
    A = np.diag([-2.0, 1.0, 3.0])
    kwargs: dict[str, Any] = {"dim": 3, "k": 1, which: value}
    hvp = lambda v: A @ v  # noqa: E731
    accepted, pairs = attempt(lambda: hessian.lowest_eigenpairs(hvp, **kwargs), [which], value)
    record("hessian", ("lowest_eigenpairs", which, describe(value)), verdict(accepted))
    if not accepted:
        return
    np.testing.assert_allclose(pairs.eigenvalues[0], -2.0, atol=1e-6)


# --------------------------------------------------------------------------------------------
# schedules and surfaces
# --------------------------------------------------------------------------------------------
SCHEDULES = {
    "constant": dict(lr=0.1),
    "step_decay": dict(lr=0.1, step_size=3),
    "multistep": dict(lr=0.1, milestones=[2, 5]),
    "exponential": dict(lr=0.1, gamma=0.9),
    "polynomial": dict(lr=0.1, total_iters=5),
    "cosine": dict(lr=0.1, T_max=10),
    "cosine_restarts": dict(lr=0.1, T_0=3),
    "linear_warmup": dict(peak_value=0.1, warmup_steps=3),
    "inverse_sqrt": dict(lr=0.1, warmup_steps=2),
    "noam": dict(d_model=16, warmup_steps=4),
}


@settings(max_examples=300, derandomize=DERANDOMIZE)
@given(factory=st.sampled_from(list(SCHEDULES)), value=hyper_values(), data=st.data())
def test_schedule_factories_with_arbitrary_arguments(factory: str, value: Any, data: Any) -> None:
    kwargs = dict(SCHEDULES[factory])
    which = data.draw(st.sampled_from(list(kwargs)), label="which")
    kwargs[which] = value
    accepted, sched = attempt(lambda: getattr(schedules, factory)(**kwargs), [which], value)
    record("schedules", (factory, which, describe(value)), verdict(accepted))
    if not accepted:
        return
    # accepted: no NaN (a growing schedule may reach Inf, as documented), and the array form
    # equals the scalar form at every step
    steps = np.arange(0, 12)
    scalar = np.array([float(sched(int(t))) for t in steps])
    assert not np.any(np.isnan(scalar)), scalar
    # NumPy's vectorized pow is not always correctly rounded (0.1 ** 2.0 gives 0.01 in an
    # array, 0.010000000000000002 as a Python float): the forms agree to an ulp, not bitwise
    np.testing.assert_allclose(np.asarray(sched(steps), np.float64), scalar, rtol=4e-16, atol=0)


NO_ARGUMENT_SURFACES = [n for n in surfaces.available() if n != "quadratic"]  # quadratic needs A


@settings(max_examples=300, derandomize=DERANDOMIZE)
@given(name=st.sampled_from(NO_ARGUMENT_SURFACES), X=arrays_anything(), data=st.data())
def test_surfaces_with_arbitrary_points(name: str, X: np.ndarray, data: Any) -> None:
    surface = surfaces.get(name)
    what = data.draw(st.sampled_from(["value", "grad", "hessian"]), label="what")
    before = snapshot(X)
    with np.errstate(all="ignore"):
        accepted, out = attempt(lambda: getattr(surface, what)(X), ["X"], X)
    record("surfaces", (name, what, describe(X)), verdict(accepted))
    if not accepted:
        return
    assert snapshot(X) == before
    wide = np.asarray(X, np.float64)
    tail = {"value": (), "grad": (surface.dim,), "hessian": (surface.dim, surface.dim)}[what]
    assert out.shape == wide.shape[:-1] + tail
    # pointwise reference: the same function on each point alone (vectorization is exact)
    for idx in np.ndindex(*wide.shape[:-1]):
        with np.errstate(all="ignore"):
            one = getattr(surface, what)(np.asarray(X)[idx].copy())
        np.testing.assert_array_equal(out[idx], one)


@settings(max_examples=160, derandomize=DERANDOMIZE)
@given(name=st.sampled_from(["rosenbrock", "quadratic", "ill_conditioned", "rastrigin"]),
       value=hyper_values())  # fmt: skip
def test_surface_factories_with_arbitrary_arguments(name: str, value: Any) -> None:
    which = {"rosenbrock": "n", "quadratic": "A", "ill_conditioned": "condition",
             "rastrigin": "n"}[name]  # fmt: skip
    # a valid n of billions builds billions of bounds: a memory limit, not a boundary bug
    assume(not (which == "n" and isinstance(value, (int, np.integer)) and value > 10**4))
    accepted, surface = attempt(lambda: surfaces.get(name, **{which: value}), [which], value)
    record("surfaces", (name, which, describe(value)), verdict(accepted))
    if not accepted:
        return
    if surface.dim > 8:
        return  # a valid, large n: the finite-difference reference would be slow
    x = np.full(surface.dim, 0.3)
    if name in ("quadratic", "ill_conditioned"):  # exact: A x (FD loses x0 next to 1e38 x1)
        A = np.asarray(value, np.float64) if name == "quadratic" else np.diag([1.0, float(value)])
        # an accepted A is symmetric to 1e-12 x max(1, |A|) and then symmetrized exactly (the
        # documented contract): with tiny entries it may be far from symmetric, relatively
        A = A / 2 + A.T / 2  # (A + A.T) / 2 without overflow near the float64 limit
        np.testing.assert_allclose(surface.grad(x), A @ x, rtol=1e-12)
        return
    h = 1e-6
    fd = np.array([(surface.value(x + h * e) - surface.value(x - h * e)) / (2 * h)
                   for e in np.eye(surface.dim)])  # fmt: skip
    np.testing.assert_allclose(surface.grad(x), fd, rtol=1e-4, atol=1e-4)
