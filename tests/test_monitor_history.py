"""The Monitor's history table (saddlepoint._core.MonitorLog, each row made in C++ from the
step's sums): every derived column of a long in-step run against NumPy on the trajectory,
written here (norms, cosines, effective step, the EMA improvement, alpha from a least-squares
parabola), across the table's growth; and the window's numbers the rules read against an
independent least-squares line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint import _core
from saddlepoint.monitor import COLUMNS, Monitor


def _alpha_lstsq(l0, s0, l1, s1):
    """Cockpit's alpha from the least-squares parabola through f(0), f'(0), f(1), f'(1)."""
    design = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [2.0, 1.0, 0.0]])
    (a, b, _), *_ = np.linalg.lstsq(design, np.array([l0, s0, l1, s1]), rcond=None)
    return 1.0 / (-b / (2.0 * a)) - 1.0 if a > 0 else math.nan


def test_long_in_step_sgd_run_against_numpy_on_the_trajectory():
    lam = np.array([0.5, 1.0, 3.0])
    x = np.array([1.0, -2.0, 0.5])
    lr, steps, window = 0.05, 700, 50  # 700 rows: the table (256 rows at first) grows twice
    opt = sp.optim.SGD(x, lr=lr)
    mon = Monitor(optimizer=opt, window=window)
    xs, losses, grads = [x.copy()], [], []
    for _ in range(steps):
        loss, grad = 0.5 * float(lam @ x**2), lam * x
        opt.step(grad)
        mon.observe(loss)  # the instruments from the step's own pass
        xs.append(x.copy())
        losses.append(loss)
        grads.append(grad)
    assert mon.instrumented
    h = mon.columns()
    assert list(h) == list(COLUMNS) and all(v.shape == (steps,) for v in h.values())
    xs, g = np.array(xs), np.array(grads)
    du = np.diff(xs, axis=0)
    gn, un = np.linalg.norm(g, axis=1), np.linalg.norm(du, axis=1)
    np.testing.assert_array_equal(h["step"], np.arange(1, steps + 1))
    np.testing.assert_array_equal(h["loss"], losses)
    np.testing.assert_array_equal(h["lr"], lr)
    np.testing.assert_allclose(h["grad_norm"], gn, rtol=1e-12)
    np.testing.assert_allclose(h["update_norm"], un, rtol=1e-12)
    np.testing.assert_allclose(h["param_norm"], np.linalg.norm(xs[1:], axis=1), rtol=1e-12)
    np.testing.assert_allclose(h["effective_lr"], un / gn, rtol=1e-12)
    gdu = np.sum(g * du, axis=1)
    np.testing.assert_allclose(h["cos_grad_update"], gdu / (gn * un), rtol=1e-12)
    cos = np.sum(du[1:] * du[:-1], axis=1) / (un[1:] * un[:-1])
    np.testing.assert_allclose(h["cos_update"][1:], cos, rtol=1e-11, atol=1e-14)
    assert math.isnan(h["cos_update"][0])
    # alpha of step t from the loss and slope at both of its ends (known at step t + 1)
    ref = [_alpha_lstsq(losses[t], gdu[t], losses[t + 1], g[t + 1] @ du[t])
           for t in range(steps - 1)]  # fmt: skip
    np.testing.assert_allclose(h["alpha"][:-1], ref, rtol=1e-8, atol=1e-10)
    assert math.isnan(h["alpha"][-1])
    # the improvement: an EMA over window/5 steps against its value a window before
    w = 2.0 / (window // 5 + 1.0)
    ema = np.empty(steps)
    ema[0] = losses[0]
    for t in range(1, steps):
        ema[t] = ema[t - 1] + w * (losses[t] - ema[t - 1])
    span = np.minimum(window, np.arange(steps))
    old = ema[np.arange(steps) - span]
    improvement = (old - ema) / (np.abs(old) + 1e-12)
    assert math.isnan(h["improvement"][0])
    np.testing.assert_allclose(h["improvement"][1:], improvement[1:], rtol=1e-10, atol=1e-15)
    # the distance is measured once a window (and for the last row) in-step
    dist = np.linalg.norm(xs[1:] - xs[0], axis=1)
    known = np.isfinite(h["distance"])
    assert known[window - 1 :: window].all() and known[-1]
    np.testing.assert_allclose(h["distance"][known], dist[known], rtol=1e-12)
    assert np.all(np.isnan(h[c]).all() for c in ("lambda_min", "noise_scale", "gsnr"))


def test_columns_are_copies_of_the_live_table():
    x = np.array([1.0, 2.0])
    opt = sp.optim.SGD(x, lr=0.1)
    mon = Monitor(optimizer=opt)
    for _ in range(5):
        opt.step(x.copy())
        mon.observe(float(x @ x))
    first = mon.columns()
    first["loss"][:] = -1.0
    assert np.all(mon.columns()["loss"] > 0)
    assert math.isnan(first["alpha"][-1])
    opt.step(x.copy())
    mon.observe(float(x @ x))  # fills the previous row's alpha in the table, not in the copy
    assert math.isnan(first["alpha"][-1]) and np.isfinite(mon.columns()["alpha"][4])


@pytest.mark.parametrize("m", [3, 7, 50, 333])
def test_window_stats_against_an_independent_least_squares_line(m):
    rng = np.random.default_rng(m)
    log = _core.MonitorLog(50, 2.0 / 11.0, 1e-12, True)
    losses = 2.0 + 0.01 * rng.standard_normal(m + 5) - 0.003 * np.arange(m + 5)
    cosines, drops, effs = [], [], []
    for t, loss in enumerate(losses):
        sums = np.zeros((2, len(_core.step_sum_names)))
        sums[:, 0] = rng.uniform(0.5, 2.0, 2)  # |g|^2
        sums[:, 1] = rng.uniform(0.1, 1.0, 2)  # |du|^2
        sums[:, 2] = -rng.uniform(0.1, 1.0, 2)  # g . du
        sums[:, 5] = rng.uniform(0.1, 1.0, 2)  # |previous|^2
        sums[:, 4] = rng.uniform(-0.5, 0.5, 2) * np.sqrt(sums[:, 1] * sums[:, 5])
        nan = math.nan
        trace = nan if t % 3 else rng.uniform(1, 2)
        log.record_sums(float(loss), 0.1, sums, nan, nan, nan, trace, 0.5 * trace)
        tot = sums.sum(axis=0)
        cosines.append(tot[4] / (np.sqrt(tot[1]) * np.sqrt(tot[5])) if t else nan)
        drops.append(tot[2])
        effs.append(np.sqrt(tot[1]) / np.sqrt(tot[0]))
    lo, n = 5, m + 5
    imp, upper, cosine, drop, eff, trace, signal, noisy = log.window_stats(lo, n)
    y = losses[lo:n]
    t = np.arange(m, dtype=float)
    slope, intercept = np.polyfit(t, y, 1)
    resid = y - (slope * t + intercept)
    se = math.sqrt(resid @ resid / (m - 2) / np.sum((t - t.mean()) ** 2))
    scale = (m - 1) / (abs(y.mean()) + 1e-12)
    assert imp == pytest.approx(-slope * scale, rel=1e-9, abs=1e-12)
    assert upper == pytest.approx((-slope + 2 * se) * scale, rel=1e-7, abs=1e-12)
    assert cosine == pytest.approx(np.mean(cosines[lo:n]), rel=1e-12)
    assert drop == pytest.approx(-np.sum(drops[lo:n]), rel=1e-12)
    assert eff == pytest.approx(np.median(effs[lo:n]), rel=1e-12)
    given = [r for r in range(lo, n) if r % 3 == 0]
    assert noisy == len(given)
    table = log.table
    assert trace == pytest.approx(np.mean(table[-2, given]), rel=1e-12)
    assert signal == pytest.approx(0.5 * trace, rel=1e-12)
    assert all(math.isnan(v) for v in log.window_stats(lo, lo + 2)[:2])  # < 3 rows: no trend
    with pytest.raises(ValueError, match="window_stats"):
        log.window_stats(0, n + 1)


def _bowl(x):
    lam = np.array([1.0, 1000.0])
    return 0.5 * float(lam @ x**2), lam * x, np.diag(lam)


def _sqrt_bowl(x):
    r = math.sqrt(1.0 + x @ x)
    H = np.eye(2) / r - np.outer(x, x) / r**3
    return r, x / r, H


def _quadratic(x):
    lam = np.array([0.5, 2.0])
    return 0.5 * float(lam @ x**2), lam * x, np.diag(lam)


def _run_watched(surface, x0, name, steps, in_step, quiet, monkeypatch, **hyper):
    with monkeypatch.context() as m:
        if not quiet:  # the full rules at every look
            m.setattr(Monitor, "_quiet", lambda self, t: False)
        x = np.array(x0, dtype=np.float64)
        opt = sp.optim.create(name, x, **hyper)
        mon = Monitor(optimizer=opt, hvp=lambda v: surface(x)[2] @ v)
        for _ in range(steps):
            loss, grad, _ = surface(x)
            opt.step(grad)
            mon.observe(loss) if in_step else mon.observe(loss, grad)
        return mon


@pytest.mark.parametrize("in_step", [True, False])
@pytest.mark.parametrize(
    ("surface", "x0", "name", "steps", "hyper", "kinds"),
    [
        (_bowl, [-1.3, 0.7], "sgd", 1500, {"lr": 1.999e-3}, ["oscillation"]),
        (_sqrt_bowl, [1e4, 0.0], "sgd", 400, {"lr": 1e-3}, ["plateau"]),
        (_quadratic, [1.0, -1.0], "sgd", 400, {"lr": 0.1, "momentum": 0.5}, ["minimum"]),
        (_quadratic, [1.0, -1.0], "adam", 600, {"lr": 0.01}, None),
    ],
)
def test_a_quiet_look_ends_as_the_full_rules_would(
    surface, x0, name, steps, hyper, kinds, in_step, monkeypatch
):
    """A look that finds the window neither bouncing, flat nor blown up, with no verdict in
    force, stops early (Monitor._quiet); the events, the verdicts in force and the whole
    history must be those of the full rules at every look."""
    runs = [
        _run_watched(surface, x0, name, steps, in_step, quiet, monkeypatch, **hyper)
        for quiet in (True, False)
    ]
    fast, full = runs
    assert [(e.kind, e.step, e.message) for e in fast.events] == [
        (e.kind, e.step, e.message) for e in full.events
    ]
    if kinds is not None:
        assert [e.kind for e in fast.events] == kinds
    assert fast.active == full.active
    a, b = fast.columns(), full.columns()
    for c in COLUMNS:
        np.testing.assert_array_equal(a[c], b[c], err_msg=c)


def test_save_load_after_the_table_grew_keeps_every_column_and_the_noise(tmp_path):
    """Saved at row 300 (the table has grown past its first 256 rows) and resumed, with batch
    gradients on every third step: the same bits in every column and the same events as an
    uninterrupted run, the window's noise sums included."""
    rng0 = np.random.default_rng(3)
    A = rng0.standard_normal((64, 3))
    b = A @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng0.standard_normal(64)

    def run(split=None):
        x = np.zeros(3)
        opt = sp.optim.SGD(x, lr=0.1, momentum=0.5)
        mon = Monitor(optimizer=opt, hvp=lambda v: A.T @ (A @ v) / len(b))
        rng = np.random.default_rng(0)
        for t in range(600):
            if t == split:
                mon.save(tmp_path / "m.npz")
                state = opt.state_dict()
                x = x.copy()
                opt = sp.optim.SGD(x, lr=0.1, momentum=0.5)
                opt.load_state_dict(state)
                mon = Monitor.load(
                    tmp_path / "m.npz", optimizer=opt, hvp=lambda v: A.T @ (A @ v) / len(b)
                )
            rows = rng.choice(len(b), 8)
            per = A[rows] * (A[rows] @ x - b[rows])[:, None]
            loss = 0.5 * float(np.mean((A[rows] @ x - b[rows]) ** 2))
            grad = per.mean(axis=0)
            opt.step(grad)
            mon.observe(loss, grad, batch_grads=per if t % 3 == 0 else None, batch_size=8)
        return mon

    whole, resumed = run(), run(split=300)
    a, c = whole.columns(), resumed.columns()
    for name in COLUMNS:
        assert a[name].tobytes() == c[name].tobytes(), name
    given = ~np.isnan(a["noise_scale"])  # inf where the noise drowns the signal
    assert given[::3].all() and not given[1::3].any() and not given[2::3].any()
    assert [(e.kind, e.step, e.message) for e in whole.events] == [
        (e.kind, e.step, e.message) for e in resumed.events
    ]
    assert "noise_floor" in [e.kind for e in whole.events]  # after the resume too:
    assert any(e.kind == "noise_floor" and e.step > 300 for e in resumed.events)
