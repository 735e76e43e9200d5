"""Threads: the kernels release the GIL, so they run concurrently from a thread pool.

- different arrays from different threads give exactly the serial results (bit for bit);
- one optimizer stepped from two threads at once is documented as unsupported (its arrays
  race), but must not crash or corrupt memory outside its own arrays;
- ``set_num_threads`` and ``OMP_NUM_THREADS`` are respected, and results do not depend on
  the thread count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import saddlepoint
from saddlepoint import kernels, linalg, optim

ROWS, COLS = 64, 2048  # large enough for the kernels to split across OpenMP threads too


def _problem(seed: int, dtype=np.float64) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "param": rng.standard_normal((ROWS, COLS)).astype(dtype),
        "grad": rng.standard_normal((ROWS, COLS)).astype(dtype),
        "exp_avg": np.zeros((ROWS, COLS), dtype),
        "exp_avg_sq": np.zeros((ROWS, COLS), dtype),
    }


def _run_adam(arrays: dict[str, np.ndarray], steps: int = 5) -> dict[str, np.ndarray]:
    lr = np.linspace(1e-3, 1e-1, ROWS)  # per-row learning rates: the sweep path
    for t in range(1, steps + 1):
        kernels.adam_step(**arrays, step=t, lr=lr, weight_decay=0.01)
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_concurrent_kernels_on_different_arrays_equal_serial(dtype) -> None:
    serial = [_run_adam(_problem(s, dtype)) for s in range(6)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda s: _run_adam(_problem(s, dtype)), range(6)))
    for a, b in zip(serial, concurrent):
        for key in a:
            assert a[key].tobytes() == b[key].tobytes(), key


def test_concurrent_eigh_on_different_stacks_equals_serial() -> None:
    rng = np.random.default_rng(7)
    stacks = []
    for _ in range(6):
        a = rng.standard_normal((2000, 5, 5))
        stacks.append(a + np.swapaxes(a, -1, -2))
    serial = [linalg.eigh(s) for s in stacks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(linalg.eigh, stacks))
    for (w1, v1), (w2, v2) in zip(serial, concurrent):
        assert w1.tobytes() == w2.tobytes() and v1.tobytes() == v2.tobytes()


def test_one_optimizer_stepped_from_two_threads_does_not_crash() -> None:
    """Unsupported use (see saddlepoint.optim's docstring): the values race, but the process
    survives, nothing outside the optimizer's arrays is written, and the step count is the
    number of steps taken."""
    rng = np.random.default_rng(3)
    # the parameters are the middle of one buffer, so a write past either end of them would
    # land in the guards (separate arrays could sit anywhere in memory)
    n, guard = 1 << 16, 4096
    buffer = rng.standard_normal(guard + n + guard)
    param = buffer[guard : guard + n]
    guard_before, guard_after = buffer[:guard], buffer[guard + n :]
    before, after = guard_before.copy(), guard_after.copy()
    grad = rng.standard_normal(n)
    start = param.copy()
    opt = optim.Adam(param, lr=1e-3)

    def worker(_: int) -> None:
        for _ in range(50):
            opt.step(grad)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(worker, range(2)))
    assert opt.steps == 100
    assert np.all(np.isfinite(param))
    assert np.shares_memory(param, buffer) and param.flags.c_contiguous
    assert guard_before.tobytes() == before.tobytes()
    assert guard_after.tobytes() == after.tobytes()
    # racing or not, each of the 100 updates moves an element by lr * |m_hat| / sqrt(v_hat),
    # which is at most lr * (1 - beta1) / sqrt(1 - beta2) / (1 - beta1) ~ 32 lr for a constant
    # gradient: the values stay within that bound of the start
    assert np.all(np.abs(param - start) <= 100 * 32 * 1e-3)
    assert not np.array_equal(param, start)


def test_set_num_threads_is_respected_and_results_do_not_depend_on_it() -> None:
    before = saddlepoint.get_num_threads()
    results = {}
    try:
        for n in (1, 2, 3):
            saddlepoint.set_num_threads(n)
            assert saddlepoint.get_num_threads() == n
            out = _run_adam(_problem(11, np.float32))
            a = np.random.default_rng(5).standard_normal((500, 4, 4))
            results[n] = (out["param"].tobytes(), linalg.eigvalsh(a + a.transpose(0, 2, 1)))
    finally:
        saddlepoint.set_num_threads(before)
    for n in (2, 3):
        assert results[n][0] == results[1][0]
        assert results[n][1].tobytes() == results[1][1].tobytes()


def test_set_num_threads_refuses_bad_values() -> None:
    before = saddlepoint.get_num_threads()
    for bad, error in ((0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError)):
        with pytest.raises(error, match=r"^n: expected"):
            saddlepoint.set_num_threads(bad)
    assert saddlepoint.get_num_threads() == before


def test_omp_num_threads_is_respected_in_a_new_process() -> None:
    if not saddlepoint._core.build_config().get("openmp", True):
        pytest.skip("built without OpenMP: one thread always")
    code = "import saddlepoint; print(saddlepoint.get_num_threads())"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1"
    env["OMP_NUM_THREADS"] = "3"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "3"
