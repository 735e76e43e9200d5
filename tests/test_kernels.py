"""saddlepoint.kernels against the float64 reference, torch.optim, and themselves.

Tolerances. Each kernel call applies ~10-40 roundings per element; over 100 steps the error
of a trajectory is at most about (steps x roundings x unit roundoff) times the magnitudes
involved: |p0| + sum_t |p_t - p_{t-1}| for the parameter, max_t |x_t| for a state array
(see reference_optim.Reference.scale). Hence elementwise
    |actual - reference| <= tol * scale
with tol = 1e-12 for float64 (unit roundoff 1.1e-16: 100 x 40 x 1.1e-16 = 4.4e-13) and
tol = 1e-4 for float32 (unit roundoff 6e-8, the same count gives 2.4e-4 as a worst case; the
errors are random-walk-like in practice: over 600 random hypothesis cases the largest
measured ratio was 6e-6, for AdamW; float64's was 4.4e-16). 1e-4 keeps a wide margin without
hiding a wrong formula, which shows up as O(1) relative differences, and the float64 runs of
the same cases check the formulas to 1e-12. Against torch in the same dtype the two
programs do the same operations in nearly the same order, so the float32 tolerance is
tighter there (see test_kernel_matches_torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import saddlepoint
from hypothesis import given
from hypothesis import strategies as st
from reference_optim import (
    STEPS,
    Reference,
    assert_within,
    hyper_for,
    initial_state,
    problem,
    rule,
)
from saddlepoint import _core, kernels

TOL = {np.float64: 1e-12, np.float32: 1e-4}
NAMES = ["sgd", "adagrad", "rmsprop", "adam", "adamw"]


# --------------------------------------------------------------------------------------------
# Calling the kernels with the reference's hyper-parameter names
# --------------------------------------------------------------------------------------------
def kernel_state(name: str, param: np.ndarray, hyper: dict[str, Any]) -> dict[str, np.ndarray]:
    """State arrays a kernel needs, zero-filled like PyTorch's (keys: the kernel's names)."""

    def z() -> np.ndarray:
        return np.zeros_like(param)

    if name == "sgd":
        return {"momentum_buffer": z()} if hyper.get("momentum", 0) != 0 else {}
    if name == "adagrad":
        return {"sum": np.full_like(param, hyper.get("initial_accumulator_value", 0.0))}
    if name == "rmsprop":
        state = {"square_avg": z()}
        if hyper.get("centered"):
            state["grad_avg"] = z()
        if hyper.get("momentum", 0) > 0:
            state["momentum_buffer"] = z()
        return state
    state = {"exp_avg": z(), "exp_avg_sq": z()}
    if hyper.get("amsgrad"):
        state["max_exp_avg_sq"] = z()
    return state


def kernel_step(
    name: str, param: Any, grad: Any, state: dict[str, Any], step: int, hyper: dict[str, Any]
) -> None:
    """One in-place kernel step; ``step`` is 1-based."""
    kw = {k: v for k, v in hyper.items() if k != "initial_accumulator_value"}
    if name == "sgd":
        kernels.sgd_step(param, grad, state.get("momentum_buffer"), step=step, **kw)
    elif name == "adagrad":
        kernels.adagrad_step(param, grad, state["sum"], step=step, **kw)
    elif name == "rmsprop":
        kernels.rmsprop_step(
            param,
            grad,
            state["square_avg"],
            state.get("grad_avg"),
            state.get("momentum_buffer"),
            **kw,
        )
    else:
        if name == "adamw":
            kw["decoupled_weight_decay"] = True
        kernels.adam_step(
            param,
            grad,
            state["exp_avg"],
            state["exp_avg_sq"],
            state.get("max_exp_avg_sq"),
            step=step,
            **kw,
        )


SHAPE = (5, 13)  # 65 elements: SIMD bodies and scalar tails both run


def run_against_reference(name: str, hyper: dict[str, Any], seed: int, dtype: Any) -> None:
    p0, grads = problem(seed, SHAPE, dtype)
    param = p0.copy()
    state = kernel_state(name, param, hyper)
    ref = Reference(name, p0, **hyper)
    for t in range(STEPS):
        kernel_step(name, param, grads[t], state, t + 1, hyper)
        ref.step(grads[t])
    tol = TOL[dtype]
    assert_within(param, ref.param, ref.scale["param"], tol, f"{name} param")
    for key, arr in state.items():
        assert arr.dtype == dtype
        assert_within(arr, ref.state[key], ref.scale[key], tol, f"{name} {key}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_kernel_matches_reference(name: str, dtype: Any, data: st.DataObject, seed: int) -> None:
    run_against_reference(name, data.draw(hyper_for(name)), seed, dtype)


# --------------------------------------------------------------------------------------------
# torch.optim (foreach=False: the single-tensor path the kernels reproduce)
# --------------------------------------------------------------------------------------------
TORCH_CASES = [
    ("sgd", dict(lr=0.05)),
    ("sgd", dict(lr=0.05, maximize=True, weight_decay=0.01)),
    ("sgd", dict(lr=0.02, momentum=0.9)),
    ("sgd", dict(lr=0.02, momentum=0.9, dampening=0.3, weight_decay=0.02)),
    ("sgd", dict(lr=0.02, momentum=0.8, nesterov=True, maximize=True)),
    ("sgd", dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.01)),
    ("adagrad", dict(lr=0.1)),
    ("adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.01, maximize=True)),
    ("adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("rmsprop", dict(lr=0.01)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, centered=True, maximize=True)),
    ("rmsprop", dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ("rmsprop", dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True, eps=1e-4)),
    ("rmsprop", dict(lr=0.01, alpha=0.3, centered=True)),  # lerp weight > 0.5 branch
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.05, maximize=True)),
    ("adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("adam", dict(lr=0.01, betas=(0.3, 0.9))),  # lerp weight > 0.5 branch
    ("adamw", dict(lr=0.01, weight_decay=0.1)),
    ("adamw", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True, eps=1e-6)),
]

TORCH_CLASSES = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}


class TorchRun:
    """One torch.optim optimizer over one tensor, stepped from NumPy gradients."""

    def __init__(self, name: str, p0: np.ndarray, hyper: dict[str, Any]) -> None:
        self.torch = pytest.importorskip("torch")
        self.param = self.torch.tensor(p0.copy(), requires_grad=True)
        cls = getattr(self.torch.optim, TORCH_CLASSES[name])
        self.opt = cls([self.param], foreach=False, **hyper)

    def step(self, grad: np.ndarray) -> None:
        self.param.grad = self.torch.from_numpy(grad.copy())
        self.opt.step()

    def numpy(self) -> np.ndarray:
        return self.param.detach().numpy()

    def state(self, key: str) -> np.ndarray:
        return self.opt.state[self.param][key].detach().numpy()


def torch_tolerance(dtype: Any) -> float:
    # Same operations in the same dtype; only the rounding of scalar-tensor divisions may
    # differ (torch may divide by a scalar as a multiplication by its reciprocal): a few
    # ulps per step, accumulated over STEPS steps.
    return 1e-13 if dtype == np.float64 else 2e-5


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    ("name", "hyper"), TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)]
)
def test_kernel_matches_torch(name: str, hyper: dict[str, Any], dtype: Any) -> None:
    p0, grads = problem(17, (7, 9), dtype)
    torch_run = TorchRun(name, p0, hyper)
    param = p0.copy()
    state = kernel_state(name, param, hyper)
    ref = Reference(name, p0, **hyper)  # only for the error scales
    for t in range(STEPS):
        kernel_step(name, param, grads[t], state, t + 1, hyper)
        torch_run.step(grads[t])
        ref.step(grads[t])
    tol = torch_tolerance(dtype)
    assert_within(param, torch_run.numpy(), ref.scale["param"], tol, f"{name} param vs torch")
    for key, arr in state.items():
        assert_within(arr, torch_run.state(key), ref.scale[key], tol, f"{name} {key} vs torch")


# --------------------------------------------------------------------------------------------
# Specific semantics
# --------------------------------------------------------------------------------------------
def test_sgd_first_step_sets_buffer_to_gradient() -> None:
    """PyTorch clones the first gradient into the buffer: no momentum*0 and no dampening."""
    rng = np.random.default_rng(0)
    p = rng.standard_normal(20)
    g = rng.standard_normal(20)
    buf = np.full(20, 123.0)  # garbage: step 1 must overwrite, not blend
    p_before = p.copy()
    kernels.sgd_step(p, g, buf, lr=0.1, momentum=0.9, dampening=0.5, step=1)
    np.testing.assert_array_equal(buf, g)
    np.testing.assert_array_equal(p, p_before - 0.1 * g)
    # the second step blends: buf = 0.9 buf + 0.5 g2
    g2 = rng.standard_normal(20)
    kernels.sgd_step(p, g2, buf, lr=0.1, momentum=0.9, dampening=0.5, step=2)
    np.testing.assert_allclose(buf, 0.9 * g + 0.5 * g2, rtol=1e-15)


def test_adamw_decays_decoupled_and_adam_coupled() -> None:
    """One step by hand: AdamW shrinks p by (1 - lr wd) first; Adam adds wd p to g."""
    p0 = np.array([1.0, -2.0, 3.0, 0.5])
    g = np.array([0.1, 0.2, -0.3, 0.0])
    lr, wd = 0.1, 0.5

    def adam_update(p: np.ndarray, g: np.ndarray) -> np.ndarray:  # step 1, no decay
        return rule("adam", p, g, initial_state("adam", p.shape), step=1, lr=lr)

    results = {}
    for decoupled in (False, True):
        p = p0.copy()
        m, v = np.zeros(4), np.zeros(4)
        kernels.adam_step(
            p, g, m, v, step=1, lr=lr, weight_decay=wd, decoupled_weight_decay=decoupled
        )
        results[decoupled] = p
    np.testing.assert_allclose(results[False], adam_update(p0, g + wd * p0), rtol=1e-14)
    np.testing.assert_allclose(results[True], adam_update(p0 * (1 - lr * wd), g), rtol=1e-14)
    # the two differ: with g = 0 AdamW only decays, Adam moves by a full normalized step
    assert results[True][3] == pytest.approx(0.5 * (1 - lr * wd), rel=1e-14)
    assert abs(results[False][3] - 0.5) > 0.09


def test_tiny_float32_gradients_keep_eps() -> None:
    """float32 g**2 underflows to 0: eps keeps the denominator non-zero (no NaN, no Inf)."""
    g = np.full(33, 1e-30, np.float32)
    for name, hyper in [
        ("adagrad", dict(lr=0.1, eps=1e-10)),
        ("adam", dict(lr=0.1)),
        ("rmsprop", dict(lr=0.1, centered=True)),
        ("adam", dict(lr=0.1, amsgrad=True)),
    ]:
        p = np.ones(33, np.float32)
        state = kernel_state(name, p, hyper)
        ref = Reference(name, p, **hyper)
        for t in range(3):
            kernel_step(name, p, g, state, t + 1, hyper)
            ref.step(g)
        assert np.isfinite(p).all(), name
        np.testing.assert_allclose(p, ref.param, rtol=1e-6, err_msg=name)


# --------------------------------------------------------------------------------------------
# Per-row hyper-parameters, lists, threads: bit for bit
# --------------------------------------------------------------------------------------------
def row_hyper(name: str, rows: int, rng: np.random.Generator) -> tuple[dict, list[dict]]:
    """Per-row arrays of every float hyper-parameter, and the matching scalars row by row."""
    u = lambda lo, hi: rng.uniform(lo, hi, rows)  # noqa: E731
    if name == "sgd":
        arrays = dict(
            lr=u(0.01, 0.2), momentum=u(0.1, 0.9), dampening=u(0, 0.5), weight_decay=u(0, 0.02)
        )
        arrays["momentum"][1] = 0.0  # a row without momentum next to rows with it
        flags = dict(maximize=True)
    elif name == "adagrad":
        arrays = dict(
            lr=u(0.01, 0.2), lr_decay=u(0, 0.1), weight_decay=u(0, 0.02), eps=u(1e-10, 1e-4)
        )
        flags = dict(maximize=False)
    elif name == "rmsprop":
        arrays = dict(
            lr=u(0.001, 0.02),
            alpha=u(0.8, 0.99),
            eps=u(1e-8, 1e-4),
            weight_decay=u(0, 0.02),
            momentum=u(0.1, 0.9),
        )
        arrays["momentum"][2] = 0.0
        flags = dict(centered=True)
    else:
        arrays = dict(lr=u(0.001, 0.05), eps=u(1e-8, 1e-4), weight_decay=u(0, 0.05))
        arrays["betas"] = (u(0.5, 0.95), u(0.9, 0.999))
        arrays["weight_decay"][0] = 0.0
        flags = dict(amsgrad=True)
    per_row = {**arrays, **flags}
    scalars = []
    for r in range(rows):
        row = {
            k: (tuple(float(b[r]) for b in v) if k == "betas" else float(v[r]))
            for k, v in arrays.items()
        }
        scalars.append({**row, **flags})
    return per_row, scalars


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
def test_per_row_hyper_equals_separate_runs(name: str, dtype: Any) -> None:
    rng = np.random.default_rng(3)
    rows, cols, steps = 4, 37, 20
    per_row, scalars = row_hyper(name, rows, rng)
    p0, grads = problem(5, (rows, cols), dtype, steps=steps)
    param = p0.copy()
    state = kernel_state(name, param, {**per_row, "momentum": 1.0})
    if name == "adagrad":
        state["sum"][...] = 0.25
    separate = [p0[r].copy() for r in range(rows)]
    sep_state = [{k: v[r].copy() for k, v in state.items()} for r in range(rows)]
    for t in range(steps):
        kernel_step(name, param, grads[t], state, t + 1, per_row)
        for r in range(rows):
            kernel_step(name, separate[r], grads[t, r].copy(), sep_state[r], t + 1, scalars[r])
    for r in range(rows):
        assert param[r].tobytes() == separate[r].tobytes(), f"row {r} of param"
        for key in state:
            assert state[key][r].tobytes() == sep_state[r][key].tobytes(), f"row {r} of {key}"


LIST_SHAPES = [(3, 4), (17,), (2, 2, 5), (1,), (0,), (40,)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
def test_list_equals_each_array_alone(name: str, dtype: Any) -> None:
    hyper = dict(
        sgd=dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        adagrad=dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
        rmsprop=dict(lr=0.01, centered=True, momentum=0.5),
        adam=dict(lr=0.01, amsgrad=True, weight_decay=0.1),
        adamw=dict(lr=0.01, weight_decay=0.1),
    )[name]
    rng = np.random.default_rng(11)
    params = [rng.standard_normal(s).astype(dtype) for s in LIST_SHAPES]
    alone = [p.copy() for p in params]
    states = [kernel_state(name, p, hyper) for p in params]
    as_lists = {k: [s[k] for s in states] for k in states[0]}
    alone_states = [{k: v.copy() for k, v in s.items()} for s in states]
    for t in range(10):
        grads = [rng.standard_normal(s).astype(dtype) for s in LIST_SHAPES]
        kernel_step(name, params, grads, as_lists, t + 1, hyper)
        for i in range(len(params)):
            kernel_step(name, alone[i], grads[i], alone_states[i], t + 1, hyper)
    for i in range(len(params)):
        assert params[i].tobytes() == alone[i].tobytes(), f"params[{i}]"
        for key in as_lists:
            assert as_lists[key][i].tobytes() == alone_states[i][key].tobytes(), f"{key}[{i}]"


def parallel_threshold() -> int:
    return int(_core.build_config()["parallel_threshold"])


@pytest.fixture
def restore_threads():
    before = saddlepoint.get_num_threads()
    yield
    saddlepoint.set_num_threads(before)


def require_openmp() -> None:
    if not _core.build_config().get("openmp", False):
        pytest.skip("built without OpenMP: every kernel runs on one thread")


@pytest.mark.parametrize("per_row", [False, True], ids=["scalar", "per-row"])
@pytest.mark.parametrize("name", NAMES)
def test_one_and_two_threads_agree(name: str, per_row: bool, restore_threads: None) -> None:
    require_openmp()
    n = 3 * parallel_threshold() + 7  # above the threshold, not a multiple of the cut size
    rows = 3
    cols = n // rows
    rng = np.random.default_rng(2)
    if per_row:
        hyper, _ = row_hyper(name, rows, rng)
    else:
        hyper = dict(
            sgd=dict(lr=0.1, momentum=0.9),
            adagrad=dict(lr=0.1),
            rmsprop=dict(lr=0.01, centered=True, momentum=0.5),
            adam=dict(lr=0.01, amsgrad=True),
            adamw=dict(lr=0.01, weight_decay=0.1),
        )[name]
    results = []
    for threads in (1, 2):
        saddlepoint.set_num_threads(threads)
        assert saddlepoint.get_num_threads() == threads
        p0, grads = problem(9, (rows, cols), np.float32, steps=3)
        param = p0.copy()
        state = kernel_state(name, param, {**hyper, "momentum": 1.0})
        for t in range(3):
            kernel_step(name, param, grads[t], state, t + 1, hyper)
        results.append([param.tobytes(), *(v.tobytes() for v in state.values())])
    assert results[0] == results[1]


# --------------------------------------------------------------------------------------------
# NaN and Inf in gradients propagate as in PyTorch and never crash
# --------------------------------------------------------------------------------------------
NAN_CASES = [
    ("sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("adagrad", dict(lr=0.1, weight_decay=0.01)),
    ("rmsprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("rmsprop", dict(lr=0.01)),
    ("adam", dict(lr=0.01, weight_decay=0.01)),
    ("adam", dict(lr=0.01, amsgrad=True)),
    ("adamw", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
]


def bad_gradients(dtype: Any) -> np.ndarray:
    """Six steps of 8 gradients with NaN, +Inf and -Inf at different steps and places."""
    rng = np.random.default_rng(4)
    grads = rng.standard_normal((6, 8)).astype(dtype)
    grads[0, 0] = np.nan
    grads[1, 1] = np.inf
    grads[2, 2] = -np.inf
    grads[3, 3] = np.nan
    grads[3, 4] = np.inf
    return grads


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    ("name", "hyper"), NAN_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(NAN_CASES)]
)
def test_nan_and_inf_propagate_like_torch(name: str, hyper: dict[str, Any], dtype: Any) -> None:
    grads = bad_gradients(dtype)
    p0 = np.linspace(-1, 1, 8).astype(dtype)
    param = p0.copy()
    state = kernel_state(name, param, hyper)
    try:
        import torch  # noqa: F401

        other: Any = TorchRun(name, p0, hyper)
    except ImportError:
        other = Reference(name, p0, **hyper)
    with np.errstate(all="ignore"):
        for t in range(len(grads)):
            kernel_step(name, param, grads[t], state, t + 1, hyper)
            other.step(grads[t])
    expected = other.numpy() if isinstance(other, TorchRun) else other.param
    # same non-finite pattern, finite entries equal to float32/float64 rounding
    np.testing.assert_array_equal(np.isnan(param), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(param), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(param), np.isneginf(expected))
    assert not np.isfinite(param).all()  # the bad values did reach the parameter
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(param, expected, rtol=rtol, atol=rtol)
    for key, arr in state.items():
        want = other.state(key) if isinstance(other, TorchRun) else other.state[key]
        np.testing.assert_array_equal(np.isnan(arr), np.isnan(want), err_msg=key)
        np.testing.assert_allclose(arr, want, rtol=rtol, atol=rtol, err_msg=key)


@pytest.mark.parametrize(
    ("name", "hyper"), TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)]
)
def test_reference_itself_matches_torch(name: str, hyper: dict[str, Any]) -> None:
    """The reference is only as good as its reading of PyTorch: check it directly."""
    p0, grads = problem(31, (6, 5), np.float64)
    torch_run = TorchRun(name, p0, hyper)
    ref = Reference(name, p0, **hyper)
    for t in range(STEPS):
        torch_run.step(grads[t])
        ref.step(grads[t])
    assert_within(torch_run.numpy(), ref.param, ref.scale["param"], 1e-13, f"{name} reference")
    for key, value in ref.state.items():
        assert_within(torch_run.state(key), value, ref.scale[key], 1e-13, f"{name} {key}")
