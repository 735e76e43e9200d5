"""The columnar grid: the tables of the row-per-run implementation, bit for bit (kept in
tests/data/sweep_golden.json), and the same runs given as a dict, a list of dicts or a
DataFrame give the same table."""

from __future__ import annotations

import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

import _sweep_golden as golden  # noqa: E402
from _sweep_surfaces import Rosen  # noqa: E402
from saddlepoint import optim, sweep  # noqa: E402

DOC = json.loads(golden.PATH.read_text())


@pytest.mark.parametrize("name", list(golden.CASES))
def test_tables_equal_the_row_per_run_implementation(name):
    expected = golden.decode(DOC[name])
    got = golden.run(name)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    floats = [c for c in got.columns if got[c].dtype == np.float64]
    for c in floats:  # bits, not only values: NaN payloads and signed zeros too
        assert got[c].to_numpy().tobytes() == expected[c].to_numpy().tobytes(), c


def test_a_dataframe_grid_is_the_list_of_its_rows():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "lr": rng.uniform(1e-4, 0.05, 50),
            "beta1": rng.choice([0.8, 0.9], 50),
            "amsgrad": rng.choice([False, True], 50),
            "optimizer": rng.choice(["adam", "adamw"], 50),
        }
    )
    rows = frame.to_dict("records")
    a = sweep(Rosen(), frame, steps=80, progress=False, chunk_size=16)
    b = sweep(Rosen(), rows, steps=80, progress=False)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    # each row against a single run of the optimizer object
    for i in (0, 17, 49):
        r = rows[i]
        x = np.array([Rosen.start])
        opt = optim.create(
            r["optimizer"], x, lr=r["lr"], betas=(r["beta1"], 0.999), amsgrad=r["amsgrad"]
        )
        for _ in range(80):
            opt.step(np.ascontiguousarray(Rosen().grad(x)))
        assert [a.loc[i, "x_final_0"], a.loc[i, "x_final_1"]] == x[0].tolist()


def test_a_product_grid_as_a_dataframe():
    grid = {"lr": [1e-3, 1e-2, 0.1], "beta1": [0.8, 0.9], "beta2": [0.99, 0.999]}
    product = sweep(Rosen(), grid, steps=60, progress=False)
    idx = pd.MultiIndex.from_product(list(grid.values()), names=list(grid))
    frame = idx.to_frame(index=False)
    pd.testing.assert_frame_equal(
        sweep(Rosen(), frame, steps=60, progress=False), product, check_exact=True
    )


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        ({"lr": [0.1, -1.0]}, r"grid key 'lr': expected a finite value >= 0, got -1.0"),
        ({"lr": [0.1, np.nan]}, r"grid key 'lr': expected a finite value >= 0, got nan"),
        ({"beta1": [0.5, 1.0]}, r"grid key 'beta1': expected a finite value in \[0, 1\)"),
        ({"amsgrad": [0, 1]}, "grid key 'amsgrad': expected True or False, got 0"),
        ({"seed": [1, -2], "noise": [0.1, 0.1]}, "grid key 'seed': expected an int >= 0, got -2"),
        ({"optimizer": ["adam", "lbfgs"]}, "grid key 'optimizer': expected one of"),
        ({"speed": [1.0]}, "grid key 'speed': unknown"),
    ],
)
def test_bad_dataframe_columns_are_named(frame, match):
    with pytest.raises(ValueError, match=match):
        sweep(Rosen(), pd.DataFrame(frame), steps=2, progress=False)


def test_empty_dataframe_is_refused():
    with pytest.raises(ValueError, match="grid: expected a DataFrame with at least one row"):
        sweep(Rosen(), pd.DataFrame({"lr": []}), steps=2, progress=False)


def test_values_are_checked_once_each_not_once_per_run(monkeypatch):
    """The grid is checked per distinct value (a dict's axes) or by array operations (a
    DataFrame's numeric columns), never value by value over the runs."""
    from saddlepoint.sweeps import _columns

    calls = []
    real = _columns.check_value
    monkeypatch.setattr(_columns, "check_value", lambda k, v: calls.append(k) or real(k, v))
    grid = {"lr": np.logspace(-4, -1, 200).tolist(), "beta1": [0.8, 0.9], "beta2": [0.99, 0.999]}
    df = sweep("rosenbrock", grid, steps=3, progress=False)
    assert len(df) == 800 and len(calls) == 200 + 2 + 2
    calls.clear()
    frame = pd.DataFrame({"lr": np.logspace(-4, -1, 5000), "beta1": 0.9})
    assert len(sweep("rosenbrock", frame, steps=3, progress=False)) == 5000
    assert calls == []


def test_peak_memory_stays_below_twice_the_result_table():
    """Columns all the way: a 300,000-run sweep's peak traced memory (NumPy buffers
    included) stays below twice its table (measured at 10^6 runs by bench/sweep.py)."""
    import tracemalloc

    n = 300_000
    grid = pd.DataFrame({"lr": np.logspace(-4, 0, n), "beta1": np.resize([0.8, 0.9], n)})
    sweep("rosenbrock", grid.iloc[:10], steps=2, progress=False)  # imports, caches
    tracemalloc.start()
    try:
        df = sweep("rosenbrock", grid, steps=2, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * df.memory_usage(deep=False).sum()
