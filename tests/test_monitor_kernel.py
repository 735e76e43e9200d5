"""The Monitor's fused C++ pass (``_core.observe_params``, ``_core.observe_gradient``) against
NumPy float64 on the same arrays: every step sum, the buffers it updates, thread
independence, and bad input refused with every array unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint as sp
from helpers import snapshot
from saddlepoint import _core

NAMES = (
    "grad_sq", "update_sq", "grad_dot_update", "grad_dot_prev", "update_dot_prev",
    "prev_sq", "param_sq", "distance_sq", "nonfinite_grad", "nonfinite_param",
)  # fmt: skip
# across the 4096-element summation block and above the 32768-element parallel threshold
SIZES = (1, 7, 4095, 4096, 4097, 3 * 4096 + 5, 40_000)
DTYPES = (np.float32, np.float64)


def test_step_sum_names_are_documented_order():
    assert tuple(_core.step_sum_names) == NAMES


def _split(a: np.ndarray, pieces: int) -> list[np.ndarray]:
    if pieces == 1 or a.size < pieces:
        return [a]
    cuts = np.linspace(0, a.size, pieces + 1).astype(int)
    return [a[s:e].copy() for s, e in zip(cuts[:-1], cuts[1:])]


def _close(got: np.ndarray, ref: np.ndarray, scale: np.ndarray) -> None:
    """Sums agree to double rounding of sums of |terms| (the order of addition differs)."""
    assert got.shape == ref.shape
    bad = np.abs(got - ref) > 1e-12 * scale + 1e-300
    assert not bad.any(), (got[bad], ref[bad])


def _params_reference(g, t, last, prev, t0):
    g, t, last, prev, t0 = (np.asarray(a, dtype=np.float64) for a in (g, t, last, prev, t0))
    u = t - last
    terms = [g * g, u * u, g * u, g * prev, u * prev, prev * prev, t * t, (t - t0) ** 2]
    sums = [float(np.sum(x)) for x in terms]
    scale = [float(np.sum(np.abs(x))) for x in terms]
    bad_g = float(np.count_nonzero(~np.isfinite(g)))
    bad_t = float(np.count_nonzero(~np.isfinite(t)))
    return np.array([*sums, bad_g, bad_t]), np.array([*scale, 0.0, 0.0])


def _random(rng, n, dtype):
    return rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("pieces", (1, 3))
def test_observe_params_against_numpy(n, dtype, pieces):
    rng = np.random.default_rng(n + pieces)
    grad, theta, last, prev, t0 = (_random(rng, n, dtype) for _ in range(5))
    grads, thetas = _split(grad, pieces), _split(theta, pieces)
    last_buf, dir_buf, init = last.copy(), prev.copy(), t0.copy()
    g_arg = grads if len(grads) > 1 else grads[0]
    p_arg = thetas if len(thetas) > 1 else thetas[0]
    sums = _core.observe_params(g_arg, p_arg, last_buf, dir_buf, init)
    assert sums.dtype == np.float64 and sums.shape == (len(grads), len(NAMES))
    offset = 0
    for i, (g, t) in enumerate(zip(grads, thetas)):
        sl = slice(offset, offset + g.size)
        ref, scale = _params_reference(g, t, last[sl], prev[sl], t0[sl])
        _close(sums[i], ref, scale)
        offset += g.size
    # buffers as documented: last_param <- param, direction <- param - last (in T)
    assert last_buf.tobytes() == theta.tobytes()
    expected_dir = (theta.astype(np.float64) - last.astype(np.float64)).astype(dtype)
    assert dir_buf.tobytes() == expected_dir.tobytes()
    assert init.tobytes() == t0.tobytes()


def test_observe_params_without_initial_has_zero_distance():
    rng = np.random.default_rng(1)
    g, t, last, prev = (_random(rng, 100, np.float64) for _ in range(4))
    sums = _core.observe_params(g, t, last, prev)
    assert sums[0, NAMES.index("distance_sq")] == 0.0
    assert sums[0, NAMES.index("param_sq")] == pytest.approx(float(t @ t), rel=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_observe_params_counts_nonfinite(dtype):
    rng = np.random.default_rng(2)
    n = 9000  # three blocks
    g, t, last, prev, t0 = (_random(rng, n, dtype) for _ in range(5))
    g[[0, 4096, 8999]] = [np.nan, np.inf, -np.inf]
    t[[5, 6]] = [np.inf, np.nan]
    sums = _core.observe_params([g[:5000].copy(), g[5000:].copy()], [t[:5000].copy(),
                                t[5000:].copy()], last, prev, t0)  # fmt: skip
    assert sums[:, NAMES.index("nonfinite_grad")].tolist() == [2.0, 1.0]
    assert sums[:, NAMES.index("nonfinite_param")].tolist() == [2.0, 0.0]


def _gradient_reference(g, buf, prev, disp, lr, mu, first):
    g, prev, disp = (np.asarray(a, dtype=np.float64) for a in (g, prev, disp))
    b = g if (first or buf is None) else mu * np.asarray(buf, dtype=np.float64) + g
    u = -lr * b
    now = disp + u
    terms = [g * g, u * u, g * u, g * prev, u * prev, prev * prev, now * now]
    sums = [float(np.sum(x)) for x in terms]
    scale = [float(np.sum(np.abs(x))) for x in terms]
    ref = np.array([*sums[:6], 0.0, sums[6], float(np.count_nonzero(~np.isfinite(g))), 0.0])
    return ref, np.array([*scale[:6], 0.0, scale[6], 0.0, 0.0]), b, u, now


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("first", (True, False))
@pytest.mark.parametrize("mu", (0.0, 0.9))
def test_observe_gradient_against_numpy(n, dtype, first, mu):
    rng = np.random.default_rng(n)
    grad, buf, prev, disp = (_random(rng, n, dtype) for _ in range(4))
    lr = 0.037
    pieces = _split(grad, 2)
    b_buf, d_buf, m_buf = buf.copy(), prev.copy(), disp.copy()
    sums = _core.observe_gradient(
        pieces if len(pieces) > 1 else pieces[0], b_buf if mu else None, d_buf, m_buf, lr, mu,
        first,
    )  # fmt: skip
    offset = 0
    for i, g in enumerate(pieces):
        sl = slice(offset, offset + g.size)
        ref, scale, *_ = _gradient_reference(g, buf[sl], prev[sl], disp[sl], lr, mu, first)
        _close(sums[i], ref, scale)
        offset += g.size
    _, _, b, u, now = _gradient_reference(grad, buf if mu else None, prev, disp, lr, mu, first)
    if mu:
        assert b_buf.tobytes() == b.astype(dtype).tobytes()
    else:
        assert b_buf.tobytes() == buf.tobytes()
    assert d_buf.tobytes() == u.astype(dtype).tobytes()
    assert m_buf.tobytes() == now.astype(dtype).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_with_one_and_two_threads(dtype):
    rng = np.random.default_rng(3)
    n = 100_003
    arrays = [_random(rng, n, dtype) for _ in range(5)]
    before = sp.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            sp.set_num_threads(threads)
            g, t, last, prev, t0 = (a.copy() for a in arrays)
            s1 = _core.observe_params([g[:60000], g[60000:]], [t[:60000], t[60000:]], last,
                                      prev, t0)  # fmt: skip
            buf, d, m = arrays[1].copy(), arrays[2].copy(), arrays[3].copy()
            s2 = _core.observe_gradient(arrays[0], buf, d, m, 0.01, 0.9, False)
            results.append([s1.tobytes(), last.tobytes(), prev.tobytes(), s2.tobytes(),
                            buf.tobytes(), d.tobytes(), m.tobytes()])  # fmt: skip
    finally:
        sp.set_num_threads(before)
    assert results[0] == results[1]


# ---------------------------------------------------------------------------- bad input


def _params_call(**over):
    rng = np.random.default_rng(4)
    args = {k: rng.standard_normal(10) for k in ("grad", "param", "last_param", "direction",
                                                 "initial")}  # fmt: skip
    args.update(over)
    return args


def _refused(fn, args, exc, match):
    before = snapshot(args)
    with pytest.raises(exc, match=match):
        fn(**args)
    assert snapshot(args) == before


def _gradient_call(**over):
    rng = np.random.default_rng(5)
    args = {k: rng.standard_normal(10) for k in ("grad", "buffer", "direction", "displacement")}
    args.update(lr=0.1, momentum=0.5, first=False)
    args.update(over)
    return args


# the two passes and the valid call each bad case starts from
PASSES = {
    "params": (_core.observe_params, _params_call),
    "gradient": (_core.observe_gradient, _gradient_call),
}


@pytest.mark.parametrize(
    "kind, over, exc, match",
    [
        ("params", {"grad": np.zeros(10, np.float32)}, TypeError, "grad"),
        ("params", {"grad": np.zeros(11)}, ValueError, "grad"),
        ("params", {"grad": np.zeros(10, np.int64)}, TypeError, "grad"),
        ("params", {"last_param": np.zeros(10, np.float32)}, TypeError, "last_param"),
        ("params", {"last_param": np.zeros(9)}, ValueError, "last_param"),
        ("params", {"direction": np.zeros((2, 5))}, ValueError, "direction"),
        ("params", {"initial": np.zeros(12)}, ValueError, "initial"),
        ("params", {"grad": np.zeros(20)[::2]}, ValueError, "grad.*C-contiguous"),
        ("params", {"param": [np.zeros(5), np.zeros(5)]}, ValueError, "grad"),
        ("gradient", {"grad": np.zeros(10, np.float32)}, TypeError, "buffer"),
        ("gradient", {"buffer": np.zeros(9)}, ValueError, "buffer"),
        ("gradient", {"buffer": None}, ValueError, "buffer"),
        ("gradient", {"direction": np.zeros(10, np.float32)}, TypeError, "direction"),
        ("gradient", {"displacement": np.zeros(11)}, ValueError, "displacement"),
        ("gradient", {"grad": np.zeros(20)[::2]}, ValueError, "grad.*C-contiguous"),
        ("gradient", {"lr": -1.0}, ValueError, "lr"),
        ("gradient", {"momentum": 1.0}, ValueError, "momentum"),
    ],
)
def test_bad_input_is_refused(kind, over, exc, match):
    fn, valid_call = PASSES[kind]
    _refused(fn, valid_call(**over), exc, match)


def _overlapping(args, a, b):
    """a and b: two views of one buffer, sharing half their elements."""
    base = np.zeros(20)
    args[a], args[b] = base[:10], base[5:15]


def _read_only(args, a):
    args[a].setflags(write=False)


@pytest.mark.parametrize(
    "kind, spoil, match",
    [
        ("params", lambda args: args.update(direction=args["last_param"]), "share memory"),
        ("params", lambda args: args.update(last_param=args["param"]), "share memory"),
        ("params", lambda args: _overlapping(args, "last_param", "direction"), "share memory"),
        ("params", lambda args: _read_only(args, "direction"), "direction.*writeable"),
        ("gradient", lambda args: args.update(displacement=args["direction"]), "share memory"),
        ("gradient", lambda args: args.update(buffer=args["grad"]), "share memory"),
    ],
)
def test_aliasing_and_read_only_are_refused(kind, spoil, match):
    fn, valid_call = PASSES[kind]
    args = valid_call()
    spoil(args)
    _refused(fn, args, ValueError, match)
