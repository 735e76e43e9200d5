"""The kernels on many short rows with per-row hyper-parameters (a sweep's runs), bit for bit.

With per-row hyper-parameters and short rows the kernels take a blocked path: per-row
constants formed for a block of rows at once and the element update vectorized across rows
(cpp/saddlepoint/optimizers.hpp, ``*_step_short_rows``). Every element must still round
exactly as when its row is stepped alone with scalar hyper-parameters (the flat path, itself
held to the float64 reference and to PyTorch in test_kernels.py), whatever the row count
(blocks of 128 rows, a partial last block), the column count (1..4 vectorized across rows,
longer rows row by row), the dtype, the optimizer's switches and the mix of rows with and
without weight decay or momentum. Adam is also held bit for bit to tests/reference_optim.py's
Adam rule run in the array's dtype (torch's order of operations, independent of the kernels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import reference_optim as ref
import saddlepoint
from saddlepoint import kernels

DTYPES = [np.float64, np.float32]
SHAPES = [(2, 1), (131, 1), (131, 2), (129, 3), (130, 4), (131, 5), (128, 17), (257, 2), (9, 40)]
STEPS = 4


def bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32)


def assert_bitwise(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    for name, a in actual.items():
        e = expected[name]
        diff = np.flatnonzero(bits(a).ravel() != bits(e).ravel())
        assert diff.size == 0, (
            f"{name}: {diff.size} elements differ, first at flat index {diff[0]}: "
            f"{a.ravel()[diff[0]]!r} != {e.ravel()[diff[0]]!r}"
        )


def some_rows(rng: np.random.Generator, rows: int, value: np.ndarray) -> np.ndarray:
    """value on about half the rows, 0 elsewhere (and on the first row, so every shape mixes)."""
    out = np.where(rng.random(rows) < 0.5, value, 0.0)
    out[0] = 0.0
    if rows > 1:
        out[-1] = value[-1] if np.ndim(value) else value
    return out


def problem(rng: np.random.Generator, shape: tuple[int, int], dtype: Any) -> tuple:
    """A start point and STEPS gradients, with the awkward values a row may hold: -0.0,
    infinities and NaN in a few gradient entries, exact zeros in the parameter."""
    p0 = rng.standard_normal(shape).astype(dtype)
    p0.flat[:: max(1, p0.size // 5)] = 0.0
    p0.flat[1 :: max(1, p0.size // 3)] = -0.0
    grads = (rng.standard_normal((STEPS, *shape)) * 0.5).astype(dtype)
    if p0.size > 8:
        grads[1].flat[3] = np.inf
        grads[2].flat[5] = -np.inf
        grads[3].flat[7] = np.nan
        grads[0].flat[2] = -0.0
    return p0, grads


def hyper_rows(name: str, rows: int, rng: np.random.Generator, variant: dict) -> dict:
    """Per-row hyper-parameters: repeated values interleaved (as a sweep's grid), some rows
    without weight decay or momentum, betas/alphas on both sides of torch.lerp's branch."""
    u = lambda lo, hi: rng.uniform(lo, hi, rows)  # noqa: E731
    pick = lambda *v: rng.choice(np.array(v, dtype=np.float64), rows)  # noqa: E731
    h: dict[str, Any] = {"lr": u(1e-3, 0.5)}
    if name in ("adam", "adamw"):
        h["beta1"] = pick(0.9, 0.3, 0.8, 0.95, 0.0) if variant["repeat"] else u(0.0, 0.99)
        h["beta2"] = pick(0.999, 0.99, 0.4, 0.9999) if variant["repeat"] else u(0.0, 0.9999)
        h["eps"] = pick(1e-8, 1e-3)
        h["weight_decay"] = some_rows(rng, rows, u(0.01, 0.2)) if variant["wd"] else 0.0
    elif name == "sgd":
        mu = u(0.1, 0.95)
        if variant["momentum"] == "some":
            mu = some_rows(rng, rows, mu)
        elif variant["momentum"] == "none":
            mu = np.zeros(rows)
        h["momentum"] = mu
        h["dampening"] = np.zeros(rows) if variant["nesterov"] else pick(0.0, 0.1, 0.5)
        h["weight_decay"] = some_rows(rng, rows, u(0.01, 0.2)) if variant["wd"] else 0.0
    elif name == "adagrad":
        h["lr_decay"] = pick(0.0, 0.01, 0.1)
        h["eps"] = pick(1e-10, 1e-3)
        h["weight_decay"] = some_rows(rng, rows, u(0.01, 0.2)) if variant["wd"] else 0.0
    else:
        h["alpha"] = pick(0.99, 0.3, 0.9, 0.6)
        h["eps"] = pick(1e-8, 1e-3)
        h["momentum"] = some_rows(rng, rows, u(0.1, 0.9)) if variant["momentum"] else 0.0
        h["weight_decay"] = some_rows(rng, rows, u(0.01, 0.2)) if variant["wd"] else 0.0
    return h


def state_for(name: str, param: np.ndarray, variant: dict) -> dict[str, np.ndarray | None]:
    z = lambda: np.zeros_like(param)  # noqa: E731
    if name in ("adam", "adamw"):
        return {
            "exp_avg": z(),
            "exp_avg_sq": z(),
            "max_exp_avg_sq": z() if variant["ams"] else None,
        }
    if name == "sgd":
        return {"momentum_buffer": None if variant["momentum"] == "none" else z()}
    if name == "adagrad":
        return {"state_sum": z()}
    return {
        "square_avg": z(),
        "grad_avg": z() if variant["centered"] else None,
        "momentum_buffer": z() if variant["momentum"] else None,
    }


def step(name: str, p: np.ndarray, g: np.ndarray, s: dict, t: int, h: dict, v: dict) -> None:
    """One kernel call; h holds numbers or per-row arrays."""
    if name in ("adam", "adamw"):
        kernels.adam_step(
            p, g, s["exp_avg"], s["exp_avg_sq"], s["max_exp_avg_sq"], step=t, lr=h["lr"],
            betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"],
            amsgrad=v["ams"], maximize=v["maximize"], decoupled_weight_decay=name == "adamw",
        )  # fmt: skip
    elif name == "sgd":
        kernels.sgd_step(
            p, g, s["momentum_buffer"], lr=h["lr"], momentum=h["momentum"],
            dampening=h["dampening"], nesterov=v["nesterov"], weight_decay=h["weight_decay"],
            maximize=v["maximize"], step=t,
        )  # fmt: skip
    elif name == "adagrad":
        kernels.adagrad_step(
            p, g, s["state_sum"], step=t, lr=h["lr"], lr_decay=h["lr_decay"],
            weight_decay=h["weight_decay"], eps=h["eps"], maximize=v["maximize"],
        )  # fmt: skip
    else:
        kernels.rmsprop_step(
            p, g, s["square_avg"], s["grad_avg"], s["momentum_buffer"], lr=h["lr"],
            alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"],
            momentum=h["momentum"], centered=v["centered"], maximize=v["maximize"],
        )  # fmt: skip


def row_of(h: dict, r: int) -> dict:
    return {k: float(x[r]) if isinstance(x, np.ndarray) else x for k, x in h.items()}


def run_both(name: str, shape: tuple[int, int], dtype: Any, variant: dict, seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = hyper_rows(name, shape[0], rng, variant)
    p0, grads = problem(rng, shape, dtype)
    param = p0.copy()
    state = state_for(name, param, variant)
    alone = p0.copy()
    alone_state = state_for(name, alone, variant)
    with np.errstate(all="ignore"):
        for t in range(STEPS):
            step(name, param, grads[t], state, t + 1, h, variant)
            for r in range(shape[0]):
                s_r = {k: None if a is None else a[r] for k, a in alone_state.items()}
                step(name, alone[r], grads[t][r], s_r, t + 1, row_of(h, r), variant)
    assert_bitwise({"param": param}, {"param": alone})
    assert_bitwise(
        {k: a for k, a in state.items() if a is not None},
        {k: a for k, a in alone_state.items() if a is not None},
    )


# Each optimizer's switches, in the order the test ids name them. A variant is written as the
# switches it turns on ("wd maximize"); sgd's momentum is on all rows, some rows or none.
SWITCHES = {
    "adam": "ams wd repeat maximize",
    "sgd": "momentum nesterov wd maximize",
    "adagrad": "wd maximize",
    "rmsprop": "centered momentum wd maximize",
}
VARIANTS = {
    "adam": ["repeat", "ams wd repeat", "wd maximize", "ams"],
    "sgd": [
        "momentum=all",
        "momentum=all nesterov wd",
        "momentum=some wd maximize",
        "momentum=none wd",
    ],
    "adagrad": ["", "wd maximize"],
    "rmsprop": ["", "centered momentum wd", "centered wd maximize", "momentum"],
}


def make_variant(name: str, on: str) -> dict:
    """The switches of ``name`` (adamw: adam's) with those named in ``on`` turned on."""
    out: dict[str, Any] = dict.fromkeys(
        SWITCHES["adam" if name == "adamw" else name].split(), False
    )
    for switch in on.split():
        key, _, value = switch.partition("=")
        assert key in out, f"{name} has no switch {key!r}"
        out[key] = value or True
    return out


def variants(name: str) -> list[dict]:
    return [make_variant(name, on) for on in VARIANTS["adam" if name == "adamw" else name]]


CASES = [
    pytest.param(name, v, id=f"{name}-{'-'.join(f'{k}={x}' for k, x in v.items())}")
    for name in ("adam", "adamw", "sgd", "adagrad", "rmsprop")
    for v in variants(name)
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
@pytest.mark.parametrize("name, variant", CASES)
def test_blocked_rows_equal_each_row_alone(
    name: str, variant: dict, shape: tuple[int, int], dtype: Any
) -> None:
    run_both(name, shape, dtype, variant, seed=hash((name, shape)) % 2**32)


@pytest.fixture
def restore_threads():
    n = saddlepoint.get_num_threads()
    yield
    saddlepoint.set_num_threads(n)


@pytest.mark.parametrize("name", ["adam", "sgd", "rmsprop", "adagrad"])
def test_threaded_blocks_equal_one_thread_and_rows_alone(name: str, restore_threads) -> None:
    """Enough rows for two threads (cut on 16-row boundaries) give the one-thread result, and
    a sample of rows equals those rows stepped alone."""
    rows, cols = 20_011, 2  # 40,022 elements: above the 32,768 threading threshold
    on = {"adam": "ams wd repeat", "sgd": "momentum=some wd", "rmsprop": "centered momentum wd"}
    variant = make_variant(name, on.get(name, "wd"))
    rng = np.random.default_rng(7)
    h = hyper_rows(name, rows, rng, variant)
    p0, grads = problem(rng, (rows, cols), np.float32)
    results = []
    for threads in (1, 2):
        saddlepoint.set_num_threads(threads)
        param = p0.copy()
        state = state_for(name, param, variant)
        with np.errstate(all="ignore"):
            for t in range(2):
                step(name, param, grads[t], state, t + 1, h, variant)
        results.append((param, state))
    assert_bitwise({"param": results[0][0]}, {"param": results[1][0]})
    sample = np.r_[0:20, rows // 2 - 20 : rows // 2 + 20, rows - 20 : rows]
    for r in sample:
        alone = p0[r].copy()
        s_r = state_for(name, alone, variant)
        with np.errstate(all="ignore"):
            for t in range(2):
                step(name, alone, grads[t][r], s_r, t + 1, row_of(h, r), variant)
        assert_bitwise({"param": results[1][0][r]}, {"param": alone})


def test_bias_corrections_across_calls_and_steps() -> None:
    """The kernels remember 1 - beta**step per thread, keyed by (beta, step): steps out of
    order, many distinct betas in a block (more than are matched by value) and betas that
    differ only in the last bit must each still get their own bias correction."""
    rng = np.random.default_rng(3)
    rows = 300
    b = np.nextafter(0.9, 1.0)
    beta1 = rng.choice([0.9, b, 0.5, 0.0], rows)
    beta1[100:200] = rng.uniform(0.0, 0.99, 100)  # a block of all-distinct values
    beta2 = rng.choice([0.999, np.nextafter(0.999, 0.0)], rows)
    for t in (5, 1, 5, 1000, 2):
        p = rng.standard_normal((rows, 2))
        g = rng.standard_normal((rows, 2))
        m, v = rng.standard_normal((rows, 2)), rng.random((rows, 2))
        alone = [a.copy() for a in (p, m, v)]
        kernels.adam_step(p, g, m, v, step=t, lr=0.1, betas=(beta1, beta2))
        for r in range(rows):
            pa, ma, va = (a[r] for a in alone)
            kernels.adam_step(pa, g[r], ma, va, step=t, lr=0.1, betas=(beta1[r], beta2[r]))
        assert_bitwise({"p": p, "m": m, "v": v}, dict(zip("pmv", alone)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
@pytest.mark.parametrize("cols", [1, 2, 3, 4, 5])
def test_adam_rows_equal_numpy_bit_for_bit(dtype: Any, decoupled: bool, cols: int) -> None:
    rng = np.random.default_rng(11 + cols)
    rows = 300
    lr = np.logspace(-4, 0, rows)
    beta1 = np.resize([0.8, 0.9, 0.95, 0.99, 0.3], rows).astype(np.float64)
    beta2 = np.resize([0.99, 0.999, 0.9999], rows).astype(np.float64)
    eps = np.full(rows, 1e-8)
    wd = np.where(rng.random(rows) < 0.5, 0.05, 0.0)
    p = rng.standard_normal((rows, cols)).astype(dtype)
    m, v = np.zeros_like(p), np.zeros_like(p)
    ref_p, ref_state = p.copy(), {"exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    col = {k: x[:, None] for k, x in {"lr": lr, "eps": eps, "weight_decay": wd}.items()}
    for t in range(1, 6):
        g = rng.standard_normal((rows, cols)).astype(dtype)
        kernels.adam_step(
            p, g, m, v, step=t, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd,
            decoupled_weight_decay=decoupled,
        )  # fmt: skip
        ref_p = ref.rule(
            "adam", ref_p, g, ref_state, step=t, betas=(beta1[:, None], beta2[:, None]), **col,
            decoupled_weight_decay=decoupled, dtype=dtype,
        )  # fmt: skip
    expected = {"p": ref_p, "m": ref_state["exp_avg"], "v": ref_state["exp_avg_sq"]}
    assert_bitwise({"p": p, "m": m, "v": v}, expected)
