"""Engines stepped from raw grad addresses (_core.GradAddresses, the torch bridge's fast
path): the same bits as from arrays, and every address the engine can tell is wrong is
refused before anything is written."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint import _core


def problem(dtype: type) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(dtype) for s in [(7, 3), (3,), (129,)]]
    grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
    return params, grads


def addresses(arrays: list[np.ndarray]) -> _core.GradAddresses:
    return _core.GradAddresses([a.ctypes.data for a in arrays], [a.size for a in arrays])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: sp.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
        lambda ps: sp.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: sp.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda ps: sp.optim.Adagrad(ps, lr=0.1),
    ],
    ids=["adam", "sgd", "rmsprop", "adagrad"],
)
def test_addresses_step_like_arrays(dtype: type, make) -> None:
    params_a, grads = problem(dtype)
    params_b = [p.copy() for p in params_a]
    a, b = make(params_a), make(params_b)
    for k in range(5):
        scaled = [g * (k + 1) for g in grads]  # new arrays every step, as new torch grads
        a.step(scaled)
        b.step(addresses(scaled))
    for x, y in zip(params_a, params_b):
        np.testing.assert_array_equal(x, y)
    assert a.steps == b.steps == 5


def refused(opt: sp.optim.Optimizer, feed: object, error: type, match: str) -> None:
    before = [p.copy() for p in opt.params]
    steps = opt.steps
    with pytest.raises(error, match=match):
        opt.step(feed)
    for p, q in zip(opt.params, before):
        np.testing.assert_array_equal(p, q)
    assert opt.steps == steps


def test_wrong_count_size_alignment_overlap_are_refused() -> None:
    params, grads = problem(np.float64)
    opt = sp.optim.Adam(params, lr=0.1)
    ptrs = [g.ctypes.data for g in grads]
    sizes = [g.size for g in grads]
    refused(opt, _core.GradAddresses(ptrs[:2], sizes[:2]), ValueError, "expected 3 addresses")
    refused(
        opt,
        _core.GradAddresses(ptrs, [21, 3, 128]),
        ValueError,
        r"grads\[2\]: expected 129 elements",
    )
    refused(
        opt,
        _core.GradAddresses([ptrs[0] + 4, *ptrs[1:]], sizes),
        ValueError,
        r"grads\[0\]: address .* not aligned to 8 bytes",
    )
    refused(opt, _core.GradAddresses([0, *ptrs[1:]], sizes), ValueError, "null")
    # a grad inside a parameter or a state buffer the step writes
    refused(
        opt,
        _core.GradAddresses([ptrs[0], params[1].ctypes.data, ptrs[2]], sizes),
        ValueError,
        r"grads\[1\]: overlaps",
    )
    state = opt._buffers()["exp_avg"]
    refused(
        opt,
        _core.GradAddresses([ptrs[0], ptrs[1], state.ctypes.data], sizes),
        ValueError,
        r"grads\[2\]: overlaps",
    )


def test_bad_construction() -> None:
    with pytest.raises(ValueError, match="one size per address"):
        _core.GradAddresses([1, 2], [1])
    with pytest.raises(ValueError, match="sizes >= 0"):
        _core.GradAddresses([8], [-1])
    with pytest.raises(TypeError, match="lists of ints"):
        _core.GradAddresses(np.array([8]), [1])
    with pytest.raises(TypeError):
        _core.GradAddresses(["a"], [1])
