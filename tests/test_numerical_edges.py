"""Numerical edge cases, each checked against a float64 formula written here.

float32 Adam with a tiny second moment, bias correction at huge step counts, a zero learning
rate, Hessians with Inf/NaN, eigenvalue scales near the ends of float64, stacks of zero
matrices, and state dicts resumed in a new process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from saddlepoint import hessian, kernels, linalg, optim


def test_float32_adam_with_tiny_second_moment_stays_finite() -> None:
    """v underflows to 0 or denormals in float32: the denominator is sqrt(v)/sqrt(bc2) + eps
    with eps = 1e-8 representable in float32, so no division by zero and no Inf."""
    g = np.array([1e-30, 1e-38, 1e-45, 0.0, -1e-40], np.float32)
    p = np.zeros_like(g)
    m, v = np.zeros_like(g), np.zeros_like(g)
    kernels.adam_step(p, g, m, v, step=1, lr=1e-3, eps=1e-8)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(m)) and np.all(np.isfinite(v))
    # float64 formula of the first step, p = -(lr / bc1) m / (sqrt(v / bc2) + eps), from the
    # float32 moments: m = 0.1 g is denormal (fewer significant bits) and v = 0.001 g^2
    # underflows to 0, leaving -lr * g / eps
    m32 = (np.float32(0.1) * g).astype(np.float64)
    v32 = (np.float32(0.001) * g * g).astype(np.float64)
    want = -(1e-3 / 0.1) * m32 / (np.sqrt(v32 / (1 - 0.999)) + 1e-8)
    # atol: 100 float32 denormal ulps of m (1.4e-45 each; the kernel's lerp and ours round
    # the denormal m differently) times lr / bc1 / eps; a vanished eps would give Inf/NaN
    np.testing.assert_allclose(p, want, rtol=1e-5, atol=100 * 1.4e-45 * 1e-2 / 1e-8)


def test_float32_eps_never_vanishes() -> None:
    """The smallest eps accepted for float32 still keeps the denominator > 0 when v = 0."""
    g = np.zeros(4, np.float32)
    p = np.ones(4, np.float32)
    m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
    kernels.adam_step(p, g, m, v, step=1, lr=1.0, eps=1e-45)  # eps rounds to a denormal
    assert np.array_equal(p, np.ones(4, np.float32))  # 0 / eps = 0, never 0 / 0
    with pytest.raises(ValueError, match="eps"):
        kernels.adam_step(p, g, m, v, step=1, lr=1.0, eps=0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_correction_at_huge_step_counts(dtype) -> None:
    """step = 10**12: beta**step underflows to 0, so bc1 = bc2 = 1 exactly (no overflow)."""
    rng = np.random.default_rng(0)
    p = rng.standard_normal(8).astype(dtype)
    g = rng.standard_normal(8).astype(dtype)
    m = rng.uniform(-1, 1, 8).astype(dtype)
    v = rng.uniform(0.1, 1, 8).astype(dtype)
    p0, m0, v0 = (a.astype(np.float64) for a in (p, m, v))
    kernels.adam_step(p, g, m, v, step=10**12, lr=1e-2)
    m1 = 0.9 * m0 + 0.1 * g.astype(np.float64)
    v1 = 0.999 * v0 + 0.001 * g.astype(np.float64) ** 2
    want = p0 - 1e-2 * m1 / (np.sqrt(v1) + 1e-8)  # bias corrections exactly 1
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(p, want, rtol=rtol)
    kernels.adam_step(p, g, m, v, step=2**63 - 1, lr=1e-2)  # the largest step accepted
    assert np.all(np.isfinite(p))
    with pytest.raises(ValueError, match="step"):
        kernels.adam_step(p, g, m, v, step=2**63, lr=1e-2)


@pytest.mark.parametrize("name", optim.available())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_learning_rate_leaves_params_unchanged_bit_for_bit(name, dtype) -> None:
    rng = np.random.default_rng(1)
    p = rng.standard_normal((3, 5)).astype(dtype)
    p[0, 0] = -0.0  # the sign of zero survives too
    before = p.tobytes()
    hyper = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    opt = optim.create(name, p, lr=0.0, **hyper)
    for _ in range(3):
        opt.step(rng.standard_normal((3, 5)).astype(dtype))
    # AdamW's decoupled decay p * (1 - lr * wd) is p * 1 at lr = 0, so it too leaves p alone.
    assert p.tobytes() == before


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_hessians_with_inf_or_nan_are_refused(bad) -> None:
    H = np.array([[2.0, 0.0], [0.0, 1.0]])
    H[1, 1] = bad
    before = H.tobytes()
    with pytest.raises(ValueError, match=r"^H: expected finite values"):
        hessian.classify(H)
    with pytest.raises(ValueError, match=r"^a: expected finite values"):
        linalg.eigvalsh(H)
    assert H.tobytes() == before
    stack = np.stack([np.eye(3)] * 4)
    stack[2, 0, 0] = bad
    with pytest.raises(ValueError, match=r"^H: expected finite values"):
        hessian.classify(stack)


@pytest.mark.parametrize("scale", [1e150, 1e-150, 1e300, 1e-300])
def test_classification_is_scale_invariant(scale) -> None:
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    cases = {
        "minimum": [1.0, 2.0, 3.0, 4.0],
        "maximum": [-1.0, -2.0, -3.0, -4.0],
        "saddle": [-1.0, 2.0, 3.0, 4.0],
        "degenerate": [0.0, 2.0, 3.0, 4.0],
    }
    for kind, eig in cases.items():
        H = (q * np.array(eig)) @ q.T
        H = 0.5 * (H + H.T)
        base = hessian.classify(H)
        scaled = hessian.classify(H * scale)
        assert base.kind == kind or kind == "degenerate"
        assert scaled.kind == base.kind, (kind, scale)
        assert scaled.n_positive == base.n_positive and scaled.n_negative == base.n_negative
        np.testing.assert_allclose(scaled.eigenvalues / scale, base.eigenvalues, atol=1e-12)


def test_stacks_of_zero_matrices() -> None:
    w = linalg.eigvalsh(np.zeros((0, 3, 3)))
    assert w.shape == (0, 3)
    w, v = linalg.eigh(np.zeros((2, 0, 3, 3)))
    assert w.shape == (2, 0, 3) and v.shape == (2, 0, 3, 3)
    c = hessian.classify(np.zeros((0, 2, 2)))
    assert c.kind.shape == (0,) and c.eigenvalues.shape == (0, 2)
    assert c.escape_direction.shape == (0, 2)


# --------------------------------------------------------------------------------------------
# State persistence across processes
# --------------------------------------------------------------------------------------------
RESUME = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from saddlepoint import optim
    path, name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = np.load(path + ".npz")
    meta = json.load(open(path + ".json"))
    param = data["param"].copy()
    opt = optim.create(name, param, **meta["create"])
    sd = meta["sd"]
    sd["state"] = {k[6:]: data[k] for k in data.files if k.startswith("state.")}
    sd["param_shapes"] = [tuple(s) for s in sd["param_shapes"]]
    if "betas" in sd["hyper"]:
        sd["hyper"]["betas"] = tuple(sd["hyper"]["betas"])
    opt.load_state_dict(sd)
    rng = np.random.default_rng(99)
    for _ in range(steps):
        opt.step(rng.standard_normal(param.shape))
    np.save(path + ".out.npy", param)
    """
)


@pytest.mark.parametrize(
    "name, hyper",
    [
        ("sgd", {"momentum": 0.9, "nesterov": True}),
        ("adagrad", {"lr_decay": 0.01}),
        ("rmsprop", {"centered": True, "momentum": 0.5}),
        ("adam", {"amsgrad": True}),
        ("adamw", {"weight_decay": 0.1}),
    ],
)
def test_state_dict_resumed_in_a_new_process_continues_bit_for_bit(name, hyper, tmp_path):
    import json

    rng = np.random.default_rng(0)
    param = rng.standard_normal((4, 7))
    opt = optim.create(name, param, lr=0.01, **hyper)
    for _ in range(5):
        opt.step(rng.standard_normal(param.shape))
    sd = opt.state_dict()
    path = str(tmp_path / "ckpt")
    np.savez(path + ".npz", param=param, **{f"state.{k}": v for k, v in sd["state"].items()})
    meta = {k: v for k, v in sd.items() if k != "state"}
    with open(path + ".json", "w") as fh:
        json.dump({"sd": meta, "create": {"lr": 0.01, **hyper}}, fh)
    # continue here ...
    more = np.random.default_rng(99)
    for _ in range(4):
        opt.step(more.standard_normal(param.shape))
    # ... and in a fresh interpreter from the files
    subprocess.run([sys.executable, "-c", RESUME, path, name, "4"], check=True)
    resumed = np.load(path + ".out.npy")
    assert resumed.tobytes() == param.tobytes()


def test_state_dict_of_another_shape_is_refused_in_a_new_process(tmp_path) -> None:
    code = textwrap.dedent(
        """
        import pickle, sys
        import numpy as np
        from saddlepoint import optim
        sd = pickle.load(open(sys.argv[1], "rb"))
        p = np.zeros((2, 2))
        opt = optim.Adam(p)
        try:
            opt.load_state_dict(sd)
        except ValueError as exc:
            print(exc)
        assert opt.steps == 0 and not p.any()
        """
    )
    import pickle

    opt = optim.Adam(np.zeros(3))
    opt.step(np.ones(3))
    path = tmp_path / "sd.pkl"
    path.write_bytes(pickle.dumps(opt.state_dict()))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert "state_dict: saved for parameter shapes [(3,)], these are [(2, 2)]" in out.stdout
