"""saddlepoint.optim classes against the float64 reference, torch.optim and themselves.

Tolerances are those of test_kernels.py (see its docstring): elementwise
|actual - reference| <= tol * scale, tol 1e-12 for float64 and 1e-4 for float32.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pytest
import saddlepoint
from helpers import optimizer_snapshot
from hypothesis import given
from hypothesis import strategies as st
from reference_optim import STEPS, Reference, assert_within, hyper_for, problem
from saddlepoint import _core, optim

TOL = {np.float64: 1e-12, np.float32: 1e-4}
NAMES = ["sgd", "adagrad", "rmsprop", "adam", "adamw"]
CLASSES = {
    "sgd": optim.SGD,
    "adagrad": optim.Adagrad,
    "rmsprop": optim.RMSprop,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
}
TORCH_NAMES = {
    "sgd": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}


def class_hyper(name: str, hyper: dict[str, Any]) -> dict[str, Any]:
    """The reference's hyper-parameters as the class takes them (AdamW decouples itself)."""
    return {k: v for k, v in hyper.items() if k != "decoupled_weight_decay"}


def buffers(opt: optim.Optimizer) -> dict[str, np.ndarray]:
    return opt.state_dict()["state"]


# --------------------------------------------------------------------------------------------
# Against the reference and torch
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_class_matches_reference(name: str, dtype: Any, data: st.DataObject, seed: int) -> None:
    hyper = data.draw(hyper_for(name))
    p0, grads = problem(seed, (4, 11), dtype)
    param = p0.copy()
    opt = CLASSES[name](param, **class_hyper(name, hyper))
    ref = Reference(name, p0, **hyper)
    for t in range(STEPS):
        opt.step(grads[t])
        ref.step(grads[t])
    assert opt.steps == STEPS
    assert opt.params[0] is param  # updated in place, never copied
    tol = TOL[dtype]
    assert_within(param, ref.param, ref.scale["param"], tol, f"{name} param")
    for key, flat in buffers(opt).items():
        assert_within(flat.reshape(param.shape), ref.state[key], ref.scale[key], tol, key)


CLASS_TORCH_CASES = [
    ("sgd", dict(lr=0.02, momentum=0.9, dampening=0.2, weight_decay=0.01, maximize=True)),
    ("sgd", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adagrad", dict(lr=0.1, lr_decay=0.03, initial_accumulator_value=0.2, weight_decay=0.01)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, maximize=True)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.02)),
    ("adamw", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("adamw", dict(lr=0.01)),  # default weight_decay 1e-2, as torch's
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    ("name", "hyper"),
    CLASS_TORCH_CASES,
    ids=[f"{n}-{i}" for i, (n, _) in enumerate(CLASS_TORCH_CASES)],
)
def test_class_matches_torch(name: str, hyper: dict[str, Any], dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    p0, grads = problem(23, (3, 10), dtype)
    shapes = [(3, 4), (18,)]
    params = [p0.ravel()[:12].reshape(3, 4).copy(), p0.ravel()[12:].copy()]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = getattr(torch.optim, TORCH_NAMES[name])(tparams, foreach=False, **hyper)
    opt = CLASSES[name](params, **hyper)
    ref = Reference(name, p0.ravel(), **hyper)
    for t in range(STEPS):
        g = grads[t].ravel()
        gs = [g[:12].reshape(3, 4).copy(), g[12:].copy()]
        opt.step(gs)
        for tp, gi in zip(tparams, gs):
            tp.grad = torch.from_numpy(gi.copy())
        topt.step()
        ref.step(g)
    tol = 1e-13 if dtype == np.float64 else 2e-5  # as test_kernels.torch_tolerance
    got = np.concatenate([p.ravel() for p in params])
    want = np.concatenate([tp.detach().numpy().ravel() for tp in tparams])
    assert_within(got, want, ref.scale["param"], tol, f"{name} vs torch")
    for key, flat in buffers(opt).items():
        want = np.concatenate([topt.state[tp][key].numpy().ravel() for tp in tparams])
        assert_within(flat, want, ref.scale[key], tol, f"{name} {key} vs torch")
    assert [p.shape for p in params] == shapes


def test_sgd_class_buffer_starts_as_first_gradient() -> None:
    p = np.zeros(5)
    g = np.arange(5.0)
    opt = optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)
    opt.step(g)
    np.testing.assert_array_equal(buffers(opt)["momentum_buffer"], g)
    opt.step(g)
    np.testing.assert_allclose(buffers(opt)["momentum_buffer"], 0.9 * g + 0.5 * g, rtol=1e-15)


def test_adamw_class_decouples_and_adam_couples() -> None:
    p0 = np.array([1.0, -2.0, 0.5])
    g = np.zeros(3)
    a, w = p0.copy(), p0.copy()
    optim.Adam(a, lr=0.1, weight_decay=0.5).step(g)
    optim.AdamW(w, lr=0.1, weight_decay=0.5).step(g)
    np.testing.assert_allclose(w, p0 * (1 - 0.1 * 0.5), rtol=1e-15)  # decay only
    # Adam: g' = 0.5 p, a full normalized step of lr against the sign of p
    np.testing.assert_allclose(a, p0 - 0.1 * np.sign(p0), rtol=1e-6)
    assert optim.AdamW(np.zeros(1)).weight_decay == 1e-2  # torch's default


def test_nan_gradient_in_class_propagates_like_reference() -> None:
    p0 = np.linspace(-1, 1, 6)
    grads = np.random.default_rng(1).standard_normal((4, 6))
    grads[1, 2] = np.nan
    grads[2, 3] = np.inf
    for name in NAMES:
        p = p0.copy()
        hyper = {"lr": 0.01, **({"momentum": 0.9} if name == "sgd" else {})}
        opt = optim.create(name, p, **hyper)
        ref = Reference(name, p0, **hyper)
        with np.errstate(all="ignore"):
            for g in grads:
                opt.step(g)
                ref.step(g)
        np.testing.assert_array_equal(np.isnan(p), np.isnan(ref.param), err_msg=name)
        assert np.isnan(p[2]), name
        np.testing.assert_allclose(p, ref.param, rtol=1e-12, err_msg=name)


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_schedule_is_called_with_steps_taken(name: str) -> None:
    calls: list[int] = []

    def schedule(step: int) -> float:
        calls.append(step)
        return 0.05 / (1.0 + step)

    p0, grads = problem(8, (12,), np.float64)
    p = p0.copy()
    opt = CLASSES[name](p, lr=schedule)
    ref = Reference(name, p0, lr=lambda s: 0.05 / (1.0 + s))
    for t in range(10):
        calls.clear()
        assert opt.lr == pytest.approx(0.05 / (1 + t))  # the lr of the next step
        assert calls == [t]
        calls.clear()
        opt.step(grads[t])
        assert calls == [t]  # called once per step, with the steps taken before it
        ref.step(grads[t])
    assert opt.steps == 10
    assert_within(p, ref.param, ref.scale["param"], 1e-12, name)
    assert opt.schedule is schedule


def test_lambda_schedule_equals_changing_lr_by_hand() -> None:
    p0, grads = problem(4, (9,), np.float32)
    a, b = p0.copy(), p0.copy()
    sched = optim.Adam(a, lr=lambda s: 0.1 * 0.9**s, betas=(0.8, 0.99))
    manual = optim.Adam(b, lr=0.1, betas=(0.8, 0.99))
    for t in range(20):
        manual.lr = 0.1 * 0.9**t
        sched.step(grads[t])
        manual.step(grads[t])
    assert a.tobytes() == b.tobytes()


def test_bad_schedule_value_is_refused_and_nothing_changes() -> None:
    p = np.ones(4)
    opt = optim.SGD(p, lr=lambda s: 0.1 if s < 2 else -1.0)
    opt.step(np.ones(4))
    opt.step(np.ones(4))
    before = p.tobytes()
    with pytest.raises(ValueError, match=r"lr.*step 2"):
        opt.step(np.ones(4))
    assert p.tobytes() == before
    assert opt.steps == 2


# --------------------------------------------------------------------------------------------
# Per-row hyper-parameters, lists, threads: bit for bit
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
def test_class_per_row_equals_separate_runs(name: str, dtype: Any) -> None:
    rows, cols = 3, 21
    rng = np.random.default_rng(6)
    u = lambda lo, hi: rng.uniform(lo, hi, rows)  # noqa: E731
    per_row: dict[str, Any] = {"lr": u(0.001, 0.05), "weight_decay": u(0, 0.05)}
    if name == "sgd":
        per_row.update(momentum=u(0.1, 0.9), dampening=u(0, 0.5))
    elif name == "adagrad":
        per_row.update(lr_decay=u(0, 0.1), eps=u(1e-10, 1e-5))
    elif name == "rmsprop":
        per_row.update(alpha=u(0.8, 0.99), momentum=u(0.1, 0.9), eps=u(1e-8, 1e-5))
    else:
        per_row.update(betas=(u(0.5, 0.95), u(0.9, 0.999)), eps=u(1e-8, 1e-5))
    p0, grads = problem(2, (rows, cols), dtype)
    p = p0.copy()
    opt = CLASSES[name](p, **per_row)
    separate = []
    for r in range(rows):
        row = {
            k: (tuple(float(b[r]) for b in v) if k == "betas" else float(v[r]))
            for k, v in per_row.items()
        }
        separate.append((p0[r].copy(), row))
    seps = [CLASSES[name](q, **row) for q, row in separate]
    for t in range(15):
        opt.step(grads[t])
        for r, sep in enumerate(seps):
            sep.step(grads[t, r].copy())
    for r, (q, _) in enumerate(separate):
        assert p[r].tobytes() == q.tobytes(), f"row {r}"
        for key, flat in buffers(opt).items():
            assert flat.reshape(rows, cols)[r].tobytes() == buffers(seps[r])[key].tobytes()
    np.testing.assert_array_equal(opt.lr, per_row["lr"])


@pytest.mark.parametrize("name", NAMES)
def test_class_list_equals_each_array_alone(name: str) -> None:
    rng = np.random.default_rng(7)
    shapes = [(3, 4), (17,), (2, 2, 5), (0,), (33,)]
    params = [rng.standard_normal(s) for s in shapes]
    alone = [p.copy() for p in params]
    hyper = {"lr": 0.01, **({"momentum": 0.9} if name in ("sgd", "rmsprop") else {})}
    opt = CLASSES[name](params, **hyper)
    opts = [CLASSES[name](p, **hyper) for p in alone]
    for _ in range(8):
        grads = [rng.standard_normal(s) for s in shapes]
        opt.step(grads)
        for o, g in zip(opts, grads):
            o.step(g)
    for i, (p, q) in enumerate(zip(params, alone)):
        assert p.tobytes() == q.tobytes(), f"params[{i}]"
    # the flat state buffers hold each parameter's state in order
    for key, flat in buffers(opt).items():
        assert flat.tobytes() == b"".join(buffers(o)[key].tobytes() for o in opts), key


def test_flat_buffer_views_step_like_the_flat_array() -> None:
    flat, views = optim.flat_buffer([(3, 4), (5,)], np.float32)
    flat[...] = np.linspace(-1, 1, flat.size)
    solo = flat.copy()
    gflat, gviews = optim.flat_buffer([(3, 4), (5,)], np.float32)
    gflat[...] = np.linspace(2, -1, gflat.size)
    optim.Adam(views, lr=0.1).step(gviews)
    optim.Adam(solo, lr=0.1).step(gflat)
    assert flat.tobytes() == solo.tobytes()


@pytest.fixture
def restore_threads():
    before = saddlepoint.get_num_threads()
    yield
    saddlepoint.set_num_threads(before)


@pytest.mark.parametrize("name", NAMES)
def test_class_one_and_two_threads_agree(name: str, restore_threads: None) -> None:
    if not _core.build_config().get("openmp", False):
        pytest.skip("built without OpenMP")
    n = 2 * int(_core.build_config()["parallel_threshold"]) + 3
    results = []
    for threads in (1, 2):
        saddlepoint.set_num_threads(threads)
        p0 = problem(1, (n,), np.float64, steps=0)[0]
        rng = np.random.default_rng(5)
        p = p0.copy()
        opt = CLASSES[name](p, lr=0.01, **({"momentum": 0.9} if name == "sgd" else {}))
        for _ in range(3):
            grads = rng.standard_normal(n)
            opt.step(grads)
        results.append([p.tobytes(), *(b.tobytes() for b in buffers(opt).values())])
    assert results[0] == results[1]


@pytest.mark.parametrize("name", NAMES)
def test_many_small_arrays_split_across_threads_agree(name: str, restore_threads: None) -> None:
    """A model of many arrays each below the parallel threshold, together above it: its
    arrays are shared out across threads (each whole), and the bits are those of one thread
    and of each array stepped alone."""
    if not _core.build_config().get("openmp", False):
        pytest.skip("built without OpenMP")
    threshold = int(_core.build_config()["parallel_threshold"])
    sizes = [threshold // 4 + k for k in range(9)]  # 9 arrays, about 2.25x the threshold
    hyper = {"momentum": 0.9} if name == "sgd" else {}
    results = []
    for threads in (1, 2):
        saddlepoint.set_num_threads(threads)
        rng = np.random.default_rng(7)
        params = [rng.standard_normal(n).astype(np.float32) for n in sizes]
        opt = CLASSES[name](params, lr=0.01, **hyper)
        for _ in range(3):
            opt.step([rng.standard_normal(n).astype(np.float32) for n in sizes])
        results.append([p.tobytes() for p in params])
    assert results[0] == results[1]
    # each array alone (one segment, one thread) takes the same steps
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    alone = [CLASSES[name](p, lr=0.01, **hyper) for p in params]
    for _ in range(3):
        for opt, n in zip(alone, sizes):
            opt.step(rng.standard_normal(n).astype(np.float32))
    assert [p.tobytes() for p in params] == results[0]


# --------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# --------------------------------------------------------------------------------------------
FULL_HYPER = {
    "sgd": dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adagrad": dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.3),
    "rmsprop": dict(lr=0.01, momentum=0.5, centered=True),
    "adam": dict(lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": dict(lr=0.01, amsgrad=True),
}


def _grads(n: int, shapes: list[tuple[int, ...]], dtype: Any = np.float32) -> list[list]:
    rng = np.random.default_rng(99)
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(n)]


def _roundtrip_direct(sd: dict) -> dict:
    return sd


def _roundtrip_pickle(sd: dict) -> dict:
    return pickle.loads(pickle.dumps(sd))


def _roundtrip_savez(sd: dict, tmp_path: Any) -> dict:
    """Arrays through numpy.savez, everything else through JSON."""
    path = tmp_path / "state.npz"
    np.savez(path, **{f"state.{k}": v for k, v in sd["state"].items()})
    meta = json.dumps({k: v for k, v in sd.items() if k != "state"})
    with np.load(path) as z:
        state = {k[len("state.") :]: z[k] for k in z.files}
    return {**json.loads(meta), "state": state}


@pytest.mark.parametrize("how", ["direct", "pickle", "savez"])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_resume_continues_bit_for_bit(name: str, how: str, tmp_path: Any) -> None:
    shapes = [(4, 3), (7,)]
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = _grads(40, shapes)
    hyper = FULL_HYPER[name]

    straight = [p.copy() for p in start]
    opt = CLASSES[name](straight, **hyper)
    for g in grads[:20]:
        opt.step(g)
    sd = opt.state_dict()
    saved_params = [p.copy() for p in straight]
    for g in grads[20:]:
        opt.step(g)

    if how == "direct":
        loaded = _roundtrip_direct(sd)
    elif how == "pickle":
        loaded = _roundtrip_pickle(sd)
    else:
        loaded = _roundtrip_savez(sd, tmp_path)
    resumed = [p.copy() for p in saved_params]
    opt2 = CLASSES[name](resumed, **{**hyper, "lr": 0.5})  # lr comes from the state dict
    opt2.load_state_dict(loaded)
    assert opt2.steps == 20
    for g in grads[20:]:
        opt2.step(g)
    for a, b in zip(straight, resumed):
        assert a.tobytes() == b.tobytes()
    for key, flat in buffers(opt).items():
        assert flat.tobytes() == buffers(opt2)[key].tobytes(), key


def test_state_dict_is_a_deep_copy() -> None:
    p = np.ones(3)
    opt = optim.Adam(p, lr=0.1)
    opt.step(np.ones(3))
    sd = opt.state_dict()
    before = {k: v.copy() for k, v in sd["state"].items()}
    opt.step(np.ones(3))
    for k, v in sd["state"].items():
        np.testing.assert_array_equal(v, before[k])
    assert sd["steps"] == 1


def _corruptions() -> list[tuple[str, Any, type, str]]:
    """(label, change to a valid Adam(amsgrad) float64 state dict, error type, match)."""

    def edit(**changes: Any):
        def apply(sd: dict) -> dict:
            sd = dict(sd)
            for k, v in changes.items():
                if v is _DELETE:
                    del sd[k]
                else:
                    sd[k] = v
            return sd

        return apply

    def state_edit(f):
        def apply(sd: dict) -> dict:
            sd = dict(sd)
            sd["state"] = f(dict(sd["state"]))
            return sd

        return apply

    def hyper_edit(**changes: Any):
        def apply(sd: dict) -> dict:
            sd = dict(sd)
            sd["hyper"] = {**sd["hyper"], **changes}
            return sd

        return apply

    return [
        ("not a dict", lambda sd: list(sd.items()), TypeError, r"state_dict: expected a dict"),
        (
            "missing state",
            edit(state=_DELETE),
            ValueError,
            r"state_dict: missing keys \['state'\]",
        ),
        ("other optimizer", edit(optimizer="SGD"), ValueError, r"saved from SGD.*into Adam"),
        ("dtype", edit(dtype="float32"), ValueError, r"saved for float32 parameters"),
        ("shapes", edit(param_shapes=[(3,), (5,)]), ValueError, r"parameter shapes"),
        ("steps < 0", edit(steps=-1), ValueError, r"'steps' must be an int >= 0"),
        ("steps bool", edit(steps=True), ValueError, r"'steps' must be an int"),
        ("steps str", edit(steps="3"), ValueError, r"'steps' must be an int"),
        ("version", edit(version=99), ValueError, r"version 99"),
        (
            "state key missing",
            state_edit(lambda s: {k: v for k, v in s.items() if k != "max_exp_avg_sq"}),
            ValueError,
            r"expected state \['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'\]",
        ),
        (
            "state array dtype",
            state_edit(lambda s: {**s, "exp_avg": s["exp_avg"].astype(np.float32)}),
            ValueError,
            r"state\['exp_avg'\] must be float64 of shape \(8,\)",
        ),
        (
            "state array shape",
            state_edit(lambda s: {**s, "exp_avg_sq": s["exp_avg_sq"][:-1]}),
            ValueError,
            r"state\['exp_avg_sq'\] must be float64 of shape \(8,\)",
        ),
        (
            "state not array",
            state_edit(lambda s: {**s, "exp_avg": [0.0] * 8}),
            ValueError,
            r"state\['exp_avg'\] must be float64",
        ),
        (
            "unknown hyper",
            hyper_edit(momentum=0.9),
            ValueError,
            r"unknown hyper-parameters \['momentum'\]",
        ),
        ("fixed hyper", hyper_edit(amsgrad=False), ValueError, r"amsgrad=False differs"),
        ("bad hyper value", hyper_edit(lr=0.5, eps=-1.0), ValueError, r"eps: expected"),
        ("bad betas", hyper_edit(lr=0.5, betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
    ]


_DELETE = object()


@pytest.mark.parametrize(
    ("label", "corrupt", "error", "match"), _corruptions(), ids=[c[0] for c in _corruptions()]
)
def test_corrupt_state_dict_is_refused_unchanged(
    label: str, corrupt: Any, error: type, match: str
) -> None:
    params = [np.linspace(0, 1, 5), np.linspace(-1, 0, 3)]
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    opt.step([np.ones(5), np.ones(3)])
    sd = opt.state_dict()
    opt.step([np.ones(5), -np.ones(3)])
    before = optimizer_snapshot(opt)
    with pytest.raises(error, match=match):
        opt.load_state_dict(corrupt(sd))
    assert optimizer_snapshot(opt) == before, f"{label}: the optimizer changed"
    assert opt.lr == 0.01


def test_state_dict_from_float32_refused_by_float64() -> None:
    a = optim.SGD(np.ones(3, np.float32), lr=0.1, momentum=0.9)
    b = optim.SGD(np.ones(3), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="float32"):
        b.load_state_dict(a.state_dict())


# --------------------------------------------------------------------------------------------
# create, available, repr, attributes
# --------------------------------------------------------------------------------------------
def test_available_and_create() -> None:
    assert sorted(optim.available()) == sorted(NAMES)
    for name in optim.available():
        for spelling in (name, name.upper(), name.capitalize()):
            opt = optim.create(spelling, np.zeros(3), lr=0.1)
            assert type(opt) is CLASSES[name]
            assert opt.lr == 0.1
    with pytest.raises(ValueError, match=r"name: unknown optimizer 'adamax'.*adagrad"):
        optim.create("adamax", np.zeros(3))
    with pytest.raises(TypeError, match="name: expected an optimizer name"):
        optim.create(3, np.zeros(3))
    with pytest.raises(TypeError, match=r"SGD: unknown hyper-parameters \['betas'\]"):
        optim.create("sgd", np.zeros(3), lr=0.1, betas=(0.9, 0.99))


def test_create_equals_constructor() -> None:
    a, b = np.ones(4), np.ones(4)
    optim.create("RMSprop", a, lr=0.1, centered=True).step(np.arange(4.0))
    optim.RMSprop(b, lr=0.1, centered=True).step(np.arange(4.0))
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_repr_is_readable(name: str) -> None:
    opt = CLASSES[name]([np.zeros((2, 3), np.float32), np.zeros(4, np.float32)], lr=0.05)
    text = repr(opt)
    assert text.startswith(type(opt).__name__ + "(")
    assert "lr=0.05" in text
    assert "2 arrays" in text and "10 elements" in text and "float32" in text
    assert "steps=0" in text
    per_row = CLASSES[name](np.zeros((3, 2)), lr=np.array([0.1, 0.2, 0.3]))
    assert "lr=array(3 values, 0.1..0.3)" in repr(per_row)
    scheduled = CLASSES[name](np.zeros(2), lr=lambda s: 0.1)
    assert "lr=<function" in repr(scheduled)


def test_defaults_match_torch() -> None:
    torch = pytest.importorskip("torch")
    import inspect

    for name, cls in CLASSES.items():
        ours = {
            k: v.default
            for k, v in inspect.signature(cls.__init__).parameters.items()
            if k not in ("self", "params")
        }
        theirs = inspect.signature(getattr(torch.optim, TORCH_NAMES[name]).__init__).parameters
        for key, default in ours.items():
            assert key in theirs, f"{name}.{key}"
            assert theirs[key].default == default, f"{name}.{key}"


def test_state_dict_with_schedule_resumes_at_the_right_step() -> None:
    """A schedule is not stored; the loading optimizer's own schedule sees the restored steps."""
    seen: list[int] = []

    def schedule(step: int) -> float:
        seen.append(step)
        return 0.1 / (1 + step)

    grads = _grads(12, [(5,)], np.float64)
    a = np.linspace(-1, 1, 5)
    opt = optim.RMSprop(a, lr=schedule, momentum=0.5)
    for g in grads[:6]:
        opt.step(g[0])
    sd = opt.state_dict()
    assert sd["hyper"]["lr"] is None and "schedule" in sd["schedule"]
    b = a.copy()
    for g in grads[6:]:
        opt.step(g[0])
    resumed = optim.RMSprop(b, lr=schedule, momentum=0.5)
    resumed.load_state_dict(pickle.loads(pickle.dumps(sd)))
    seen.clear()
    for g in grads[6:]:
        resumed.step(g[0])
    assert seen == list(range(6, 12))
    assert a.tobytes() == b.tobytes()


def test_flat_buffer_refuses_bad_input() -> None:
    with pytest.raises(TypeError, match=r"^dtype: expected float32 or float64, got int64"):
        optim.flat_buffer([(2,)], np.int64)
    with pytest.raises(ValueError, match=r"^shapes: expected non-negative sizes"):
        optim.flat_buffer([(2, -1)])
    flat, views = optim.flat_buffer([(2, 3), (4,)], np.float32)
    assert flat.shape == (10,) and flat.dtype == np.float32
    assert [v.shape for v in views] == [(2, 3), (4,)]
    assert all(v.flags.c_contiguous and np.shares_memory(v, flat) for v in views)
