"""minimize: stalls, saddles, plateaus and divergence diagnosed; train: mini-batches, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from saddlepoint import data, optim, surfaces
from saddlepoint.models import MLP
from saddlepoint.monitor import COLUMNS, Monitor
from saddlepoint.train import minimize, train


class TinyNetwork:
    """L(w1, w2) = (1 - w1 w2)^2, derivatives by hand (independent of saddlepoint.surfaces)."""

    dim = 2
    start = np.array([0.0, 0.0])

    def value(self, x):
        return (1.0 - x[..., 0] * x[..., 1]) ** 2

    def grad(self, x):
        r = -2.0 * (1.0 - x[..., 0] * x[..., 1])
        return np.stack([r * x[..., 1], r * x[..., 0]], axis=-1)

    def hessian(self, x):
        w1, w2 = x[..., 0], x[..., 1]
        return np.array([[2 * w2**2, 4 * w1 * w2 - 2], [4 * w1 * w2 - 2, 2 * w1**2]])


class Bowl:
    """f = (x^2 + kappa y^2) / 2 without a Hessian method (minimize must difference grad)."""

    dim = 2

    def __init__(self, kappa=100.0, start=(-9.0, 1.0)):
        self.kappa = kappa
        self.start = np.array(start)

    def value(self, p):
        return 0.5 * (p[..., 0] ** 2 + self.kappa * p[..., 1] ** 2)

    def grad(self, p):
        return np.stack([p[..., 0], self.kappa * p[..., 1]], axis=-1)


def _history_columns(h):
    return {c: np.asarray(h[c]) for c in ("step", "loss", "grad_norm", "lr")}


# ------------------------------------------------------------------------- saddles
@pytest.mark.parametrize("surface", [TinyNetwork(), "tiny_network"])
def test_escapes_the_tiny_networks_saddle_and_ends_in_the_valley(surface):
    res = minimize(surface, "adam", lr=0.05, x0=[0.0, 0.0], escape_saddles=True, steps=2000)
    saddle = res.events[0]
    assert saddle.kind == "saddle" and saddle.step == 0
    # At the origin the Hessian is [[0, -2], [-2, 0]]: eigenvalues -2, 2, minimum ratio 1/2.
    np.testing.assert_allclose(saddle.eigenvalues, [-2.0, 2.0], atol=1e-12)
    assert saddle.minimum_ratio == 0.5
    assert "Escaped" in saddle.message and "escape" not in res.reason
    assert saddle.details["loss_drop"] > 0
    jump = saddle.details["escaped_to"]
    assert abs(jump[0]) == pytest.approx(abs(jump[1]))  # along +-(1, 1)/sqrt(2)
    assert jump[0] * jump[1] > 0
    # Ends in the valley w1 * w2 = 1, where the Hessian [[2 w2^2, 2], [2, 2 w1^2]] has a
    # zero eigenvalue: the second-order test cannot decide, so the stall is "degenerate".
    w1, w2 = res.x
    assert abs(w1 * w2 - 1.0) < 1e-6
    assert res.loss < 1e-12 and res.grad_norm < 1e-6
    assert res.reason == "degenerate" and res.events[-1].kind == "degenerate"
    lam = res.events[-1].eigenvalues
    assert lam[0] == pytest.approx(0.0, abs=1e-5)
    assert lam[1] == pytest.approx(2 * (w1**2 + w2**2), rel=1e-5)
    # The trajectory shows the jump: the origin, then the escape point, at step 0.
    np.testing.assert_array_equal(res.trajectory[0], [0.0, 0.0])
    np.testing.assert_allclose(res.trajectory[1], jump)


def test_without_escape_the_run_stops_at_the_saddle_and_says_how_to_leave():
    res = minimize(TinyNetwork(), "sgd", lr=0.1, x0=[0.0, 0.0])
    assert res.reason == "saddle" and res.steps == 0
    assert [e.kind for e in res.events] == ["saddle"]
    assert "escape_saddles=True" in res.message
    np.testing.assert_array_equal(res.x, [0.0, 0.0])


def test_gradient_noise_carries_the_run_out_of_the_saddle_and_is_seeded():
    kw = dict(x0=[0.0, 0.0], lr=0.1, noise=0.05, steps=400, grad_tol=1e-8)
    a = minimize(TinyNetwork(), "sgd", seed=3, **kw)
    b = minimize(TinyNetwork(), "sgd", seed=3, **kw)
    c = minimize(TinyNetwork(), "sgd", seed=4, **kw)
    assert a.events[0].kind == "saddle" and "noise" in a.events[0].message
    assert a.loss < 1e-2  # left the saddle (loss 1) for the valley, up to the noise
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    assert not np.array_equal(a.trajectory, c.trajectory)


def test_finite_difference_hessian_when_the_surface_has_none():
    class SaddleNoHessian:
        dim = 2
        start = np.array([1.0, 0.0])

        def value(self, p):
            return p[0] ** 2 - p[1] ** 2

        def grad(self, p):
            return np.array([2 * p[0], -2 * p[1]])

    res = minimize(SaddleNoHessian(), "sgd", lr=0.5)  # one step lands on the saddle
    assert res.reason == "saddle" and res.steps == 1
    assert res.events[0].details["hessian"] == "finite-difference"
    np.testing.assert_allclose(res.events[0].eigenvalues, [-2.0, 2.0], rtol=1e-6)


def test_local_minimum_ends_the_run():
    res = minimize(Bowl(kappa=4.0, start=(1.0, 1.0)), "sgd", lr=0.2, steps=500)
    assert res.reason == "minimum" and res.events[-1].kind == "minimum"
    np.testing.assert_allclose(res.events[-1].eigenvalues, [1.0, 4.0], rtol=1e-6)
    # Plain GD contracts x by 0.8 and y by |1 - 0.8| = 0.2 per step: the stall comes when
    # |grad| = sqrt(x^2 + (4y)^2) first drops below 1e-6, i.e. 0.8^t < 1e-6 roughly.
    t = np.arange(200)
    gnorm = np.hypot(0.8**t, 4 * 0.2**t)
    assert res.steps == int(np.argmax(gnorm < 1e-6))


# ------------------------------------------------------------- oscillation, plateau
def test_plain_gd_at_the_stability_limit_of_the_elongated_bowl_is_an_oscillation():
    # lr = 2 / kappa: the steep coordinate flips sign every step (factor 1 - lr * kappa = -1),
    # the shallow one decays by 0.98. Successive updates are opposed (cosine near -1) while
    # the gradient norm stays near kappa * |y| = 100 and the step sits exactly at the
    # stability limit lr * lambda_max / 2 = 1: the monitor's oscillation, not a critical point.
    res = minimize(Bowl(kappa=100.0), "sgd", lr=0.02, steps=600)
    kinds = [e.kind for e in res.events]
    assert kinds == ["oscillation"]
    ev = res.events[0]
    assert ev.grad_norm == pytest.approx(100.0, rel=0.05)
    # the monitor's row `step` observed the loss at minimize's step - 1: closed form of GD
    t = ev.step - 1
    assert ev.loss == pytest.approx(0.5 * (81 * 0.98 ** (2 * t) + 100), rel=1e-9)
    assert ev.details["mean_cosine"] < -0.9
    assert ev.details["stability_ratio"] == pytest.approx(1.0, rel=1e-9)
    assert ev.details["lambda_max"] == pytest.approx(100.0, rel=1e-6)
    assert "bounces across a valley" in ev.message and "adaptive method" in ev.message
    assert res.reason == "max_steps" and "still on the oscillation reported at step" in res.message
    # Adam on the same bowl and start reaches the minimum instead.
    adam = minimize(Bowl(kappa=100.0), "adam", lr=0.1, steps=2000)
    assert adam.reason == "minimum"
    assert not {"plateau", "oscillation"} & {e.kind for e in adam.events}


def test_named_elongated_bowl_and_stop_on_plateau():
    res = minimize("ill_conditioned", "sgd", lr=0.02, steps=1000, stop_on_plateau=True)
    assert res.reason == "oscillation" and res.events[-1].kind == "oscillation"
    assert res.steps < 1000 and res.steps == res.events[-1].step


def test_the_issues_bowl_is_an_oscillation_through_minimize():
    # Issue 13: SGD with lr = 1.999 / lambda_max on the condition-1000 bowl bounces across
    # the valley for 3000 steps; minimize used to report nothing.
    bowl = surfaces.get("ill_conditioned", condition=1000)
    res = minimize(bowl, "sgd", lr=1.999 / 1000, steps=3000, x0=[1.0, 1.0])
    osc = [e for e in res.events if e.kind == "oscillation"]
    assert len(osc) == 1, res.explain()
    assert osc[0].details["stability_ratio"] == pytest.approx(1.999 / 2, rel=1e-9)  # 0.9995
    assert round(osc[0].details["stability_ratio"], 4) == 0.9995
    assert osc[0].details["mean_cosine"] < -0.99


def test_minimize_events_are_the_monitors_events():
    from saddlepoint import monitor as sp_monitor
    from saddlepoint import train as sp_train

    assert sp_train.Event is sp_monitor.Event
    assert set(sp_train.EVENT_KINDS) == set(sp_monitor.EVENT_KINDS)
    # next to the tiny network's saddle GD crawls for 32 steps, stalls there, escapes
    res = minimize(
        TinyNetwork(), "sgd", lr=0.1, x0=[0.5, -0.5], escape_saddles=True, grad_tol=1e-3
    )
    assert isinstance(res.monitor, sp_monitor.Monitor)
    assert res.events == res.monitor.events
    assert [(e.kind, e.step) for e in res.events] == [("saddle", 32), ("degenerate", 32)]
    assert all(type(e) is sp_monitor.Event for e in res.events)
    assert "Escaped" in res.events[0].message and res.events[0].details["loss_drop"] > 0
    # the monitor saw every step, and the result's history carries its columns
    assert len(res.monitor.columns()["step"]) == res.steps == res.optimizer.steps == 32
    h = res.history
    for name in set(sp_monitor.COLUMNS) - {"step", "loss", "lr", "grad_norm"}:
        assert name in h.columns
    # the row of step t joins the monitor's row t (0-based: the step taken from that point)
    mon = res.monitor.history
    row = h[h["step"] == 5].iloc[0]
    assert row["update_norm"] == mon["update_norm"].iloc[5]
    assert row["loss"] == mon["loss"].iloc[5]
    assert row["monitor_grad_norm"] == pytest.approx(row["grad_norm"], rel=1e-12)
    # the points before and after the escape took no step that the monitor saw
    assert h[h["step"] == 32]["update_norm"].isna().all()


def test_a_stall_event_carries_the_whole_spectrum_when_the_hessian_is_dense():
    class Saddle3:  # f = (x^2 - 2 y^2 + 3 z^2) / 2: a saddle at the origin, written here
        dim = 3

        def value(self, p):
            return 0.5 * (p[0] ** 2 - 2 * p[1] ** 2 + 3 * p[2] ** 2)

        def grad(self, p):
            return np.array([p[0], -2 * p[1], 3 * p[2]])

    res = minimize(Saddle3(), "sgd", lr=0.1, x0=[0.0, 0.0, 0.0])
    ev = res.events[0]
    assert ev.kind == "saddle" and ev.step == 0 and res.reason == "saddle"
    np.testing.assert_allclose(ev.eigenvalues, [-2.0, 1.0, 3.0], rtol=1e-6)
    assert ev.minimum_ratio == pytest.approx(2 / 3)
    assert abs(ev.details["escape_direction"][1]) == pytest.approx(1.0)


def test_after_an_escape_the_monitor_windows_restart():
    # Oscillating GD (lr = 2 / kappa) reports one oscillation; then the parameters jump
    # outside the optimizer (y set to 0, as an escape would move them) and the run descends
    # smoothly along x. The monitor, told of the jump, counts no update for it and judges
    # the new steps on their own: no verdict re-fires from the bouncing before the jump.
    bowl = Bowl(kappa=100.0)
    x = np.array([-9.0, 1.0])
    opt = optim.SGD(x, lr=0.02)
    mon = Monitor(optimizer=opt, hvp=lambda v: np.diag([1.0, 100.0]) @ v, window=20)
    for _ in range(100):
        loss, g = float(bowl.value(x)), bowl.grad(x)
        opt.step(g)
        mon.observe(loss, g)
    assert [e.kind for e in mon.events] == ["oscillation"]
    x[1] = 0.0
    mon.jumped()
    assert mon.active == frozenset()
    before = x.copy()
    for _ in range(100):
        loss, g = float(bowl.value(x)), bowl.grad(x)
        opt.step(g)
        mon.observe(loss, g)
    assert [e.kind for e in mon.events] == ["oscillation"]  # nothing new after the jump
    h = mon.columns()
    # the first update after the jump is the optimizer's step, not the jump
    assert h["update_norm"][100] == pytest.approx(0.02 * abs(before[0]), rel=1e-12)
    assert np.isnan(h["cos_update"][100]) and np.isnan(h["improvement"][100])
    assert np.all(h["cos_update"][101:] > 0.99)  # straight down the valley, no bouncing


def test_escape_in_minimize_tells_the_monitor():
    kw = dict(x0=[0.5, -0.5], escape_saddles=True, steps=500, grad_tol=1e-3)
    res = minimize(TinyNetwork(), "sgd", lr=0.1, **kw)
    assert [e.kind for e in res.events] == ["saddle", "degenerate"]  # no false alarm
    assert res.monitor.active == frozenset({"stall"})  # the new stall only: windows restarted


# ----------------------------------------------------------------------- divergence
def test_divergence_is_caught_at_the_right_step():
    lr = 0.03
    res = minimize(Bowl(kappa=100.0), "sgd", lr=lr, steps=500)
    # Closed form of plain GD: x_t = -9 (1 - lr)^t, y_t = (1 - 100 lr)^t.
    t = np.arange(100)
    loss = 0.5 * ((9 * (1 - lr) ** t) ** 2 + 100 * ((1 - 100 * lr) ** t) ** 2)
    first = int(np.argmax(loss > 90.5 + 1e6 * 90.5))
    assert res.reason == "diverged"
    assert res.steps == first
    assert res.events[-1].kind == "diverged" and res.events[-1].step == first
    assert f"diverged at step {first}" in res.message


def test_non_finite_loss_is_caught_without_warnings():
    res = minimize(Bowl(kappa=100.0), "sgd", lr=1e200, steps=10)
    assert res.reason == "diverged" and res.steps == 1
    assert "not finite" in res.message or "inf" in res.message


# ---------------------------------------------------------------- history, options
def test_history_trajectory_and_schedule():
    def schedule(step):
        return 0.1 / (1.0 + step)

    res = minimize(
        Bowl(kappa=2.0, start=(1.0, 1.0)),
        "sgd",
        schedule=schedule,
        steps=30,
        record_every=7,
        grad_tol=0.0,
    )
    h = _history_columns(res.history)
    assert list(h["step"]) == [0, 7, 14, 21, 28, 30]
    np.testing.assert_allclose(h["lr"], [schedule(s) for s in h["step"]])
    assert res.trajectory.shape == (6, 2)
    # Independent replay of plain GD with that schedule.
    p = np.array([1.0, 1.0])
    for s in range(30):
        p = p - schedule(s) * np.array([p[0], 2.0 * p[1]])
    np.testing.assert_allclose(res.x, p, rtol=1e-14)
    np.testing.assert_allclose(res.trajectory[-1], p, rtol=1e-14)
    np.testing.assert_allclose(
        h["loss"], 0.5 * (res.trajectory[:, 0] ** 2 + 2 * res.trajectory[:, 1] ** 2)
    )
    assert res.steps == 30 and res.reason == "max_steps"


def test_history_is_a_dataframe_with_pandas():
    pd = pytest.importorskip("pandas")
    res = minimize(Bowl(), "adam", lr=0.1, steps=5)
    assert isinstance(res.history, pd.DataFrame)
    assert list(res.history.columns)[:4] == ["step", "loss", "grad_norm", "lr"]
    monitor_columns = [c for c in COLUMNS if c not in ("step", "loss", "lr", "grad_norm")]
    assert set(res.history.columns[4:]) == {"monitor_grad_norm", *monitor_columns}


def test_optimizer_instance_hyper_and_callback():
    x = np.zeros(2)
    opt = optim.Adam(x, lr=0.05, betas=(0.8, 0.99))
    seen = []

    def cb(step, point, loss, gnorm):
        seen.append(step)
        return step == 5

    res = minimize(Bowl(), opt, x0=[1.0, 1.0], callback=cb)
    assert res.reason == "callback" and res.steps == 5 and seen == [0, 1, 2, 3, 4, 5]
    assert res.optimizer is opt and opt.steps == 5
    np.testing.assert_array_equal(x, res.x)  # the instance's array is the point
    by_name = minimize(Bowl(), "adam", lr=0.05, betas=(0.8, 0.99), x0=[1.0, 1.0], steps=5)
    np.testing.assert_array_equal(by_name.x, res.x)
    # Without x0 an instance starts where its array is.
    y = np.array([0.5, -0.5])
    again = minimize(Bowl(), optim.SGD(y, lr=0.1), steps=1, grad_tol=0.0)
    np.testing.assert_array_equal(again.trajectory[0], [0.5, -0.5])
    np.testing.assert_allclose(again.x, [0.5 - 0.05, -0.5 + 0.1 * 50.0])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"steps": -1}, ValueError, "steps: expected an int >= 0"),
        ({"grad_tol": float("nan")}, ValueError, "grad_tol: expected a finite value"),
        ({"noise": -0.1}, ValueError, "noise: expected a finite value >= 0"),
        ({"record_every": 0}, ValueError, "record_every: expected an int >= 1"),
        ({"x0": [1.0, 2.0, 3.0]}, ValueError, r"x0: expected shape \(2,\)"),
        ({"lr": 0.1, "schedule": lambda s: 0.1}, ValueError, "lr, schedule"),
        ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer"),
        ({"lr": -1.0}, ValueError, "lr: expected a finite value >= 0"),
        ({"callback": 3}, TypeError, "callback: expected a callable"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        minimize(Bowl(), **kwargs)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_non_finite_start_is_a_value_error_naming_x0(bad):
    # not "diverged at step 0 ... use a smaller learning rate": no learning rate fixes it
    with pytest.raises(ValueError, match="x0: expected finite values"):
        minimize("rosenbrock", x0=[bad, 2.0])
    x = np.array([1.0, bad])
    with pytest.raises(ValueError, match="x0: expected finite values"):
        minimize("rosenbrock", optim.SGD(x, lr=0.1))


def test_bad_surface_and_instance_with_hyper():
    with pytest.raises(TypeError, match="surface: expected a surface name or an object"):
        minimize(object())
    x = np.zeros(2)
    opt = optim.SGD(x, lr=0.1)
    with pytest.raises(ValueError, match="set them on the optimizer instance"):
        minimize(Bowl(), opt, lr=0.5)
    np.testing.assert_array_equal(x, [0.0, 0.0])


# ----------------------------------------------------------------------------- train
def _small_problem():
    d = data.blobs(120, centers=3, n_features=4, cluster_std=1.5, seed=1)
    return MLP([4, 8, 3], activation="tanh"), d


def test_train_is_reproducible_for_a_seed():
    model, d = _small_problem()
    kw = dict(batch_size=16, epochs=4, lr=0.1, momentum=0.9, progress=False)
    a = train(model, d, "sgd", seed=7, **kw)
    b = train(model, d, "sgd", seed=7, **kw)
    c = train(model, d, "sgd", seed=8, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.batch_losses, b.batch_losses)
    for col in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "updates", "lr"):
        np.testing.assert_array_equal(np.asarray(a.history[col]), np.asarray(b.history[col]))
    assert not np.array_equal(a.params, c.params)


def test_full_batch_training_is_plain_gradient_descent():
    model, d = _small_problem()
    start = model.init(0)
    res = train(
        model,
        d,
        "sgd",
        batch_size=10_000,
        epochs=5,
        lr=0.3,
        params=start,
        shuffle=False,
        progress=False,
    )
    p = start.copy()
    for _ in range(5):
        p = p - 0.3 * model.grad(p, d.X_train, d.y_train)
    np.testing.assert_allclose(res.params, p, rtol=1e-13, atol=1e-15)
    assert res.optimizer.steps == 5


def test_mini_batches_are_reshuffled_each_epoch_and_cover_the_data():
    model, d = _small_problem()
    n = d.n_train  # 96
    res = train(model, d, "sgd", batch_size=25, epochs=3, lr=0.0, progress=False)
    # lr = 0: the parameters never move, so batch losses reveal the batches' composition.
    assert res.optimizer.steps == 3 * 4 and len(res.batch_losses) == 12
    per_epoch = res.batch_losses.reshape(3, 4)
    sizes = np.array([25, 25, 25, n - 75])
    full = model.loss(res.params, d.X_train, d.y_train)
    # The size-weighted mean of the batch losses of one epoch is the full-data loss.
    np.testing.assert_allclose(per_epoch @ sizes / n, full, rtol=1e-12)
    assert not np.array_equal(per_epoch[0], per_epoch[1])  # another order each epoch
    fixed = train(model, d, "sgd", batch_size=25, epochs=2, lr=0.0, shuffle=False, progress=False)
    np.testing.assert_array_equal(fixed.batch_losses[:4], fixed.batch_losses[4:])


def test_train_history_and_timings():
    model, d = _small_problem()
    res = train(model, d, "adam", batch_size=32, epochs=3, lr=0.05, progress=False)
    h = res.history
    assert list(np.asarray(h["epoch"])) == [0, 1, 2, 3]
    assert list(np.asarray(h["updates"])) == [0, 3, 6, 9]
    assert np.isnan(np.asarray(h["seconds_per_update"])[0])
    spu = np.asarray(h["seconds_per_update"])[1:]
    spe = np.asarray(h["seconds_per_epoch"])[1:]
    assert np.all(spu > 0) and np.all(spe >= spu)
    np.testing.assert_allclose(spe / spu, 3.0, rtol=1e-12)
    tl = np.asarray(h["train_loss"])
    assert tl[-1] < tl[0]
    acc = model.accuracy(res.params, d.X_val, d.y_val)
    assert np.asarray(h["val_accuracy"])[-1] == acc


def test_train_learns_digits():
    pytest.importorskip("sklearn")
    d = data.digits(seed=0)
    model = MLP([64, 32, 10], activation="relu")
    res = train(
        model, d, "sgd", batch_size=32, epochs=5, lr=0.1, momentum=0.9, seed=0, progress=False
    )
    assert np.asarray(res.history["val_accuracy"])[-1] > 0.9


def test_train_divergence_is_caught():
    model, d = _small_problem()
    res = train(model, d, "sgd", batch_size=16, epochs=3, lr=1e300, progress=False)
    assert res.diverged and res.events[0].kind == "diverged"
    assert "diverged in epoch 1" in res.events[0].message


def test_train_is_watched_by_a_monitor_one_row_per_update():
    from saddlepoint import monitor as sp_monitor

    model, d = _small_problem()
    res = train(model, d, "sgd", batch_size=16, epochs=3, lr=0.1, momentum=0.9, progress=False)
    assert isinstance(res.monitor, sp_monitor.Monitor)
    assert res.events == res.monitor.events
    h = res.step_history
    assert list(h.columns) == list(COLUMNS)
    assert len(h) == res.optimizer.steps == 3 * 6  # 96 examples, batches of 16
    np.testing.assert_array_equal(np.asarray(h["step"]), np.arange(1, 19))
    # the monitor saw the batch losses the updates used, in order
    np.testing.assert_array_equal(np.asarray(h["loss"]), res.batch_losses)
    # ... and the true updates of the parameters (first one from the initial parameters)
    start = model.init(np.random.SeedSequence(0).spawn(2)[0])
    first = train(model, d, "sgd", batch_size=16, epochs=1, lr=0.1, progress=False)
    assert np.isfinite(np.asarray(first.step_history["update_norm"])).all()
    assert first.monitor.columns()["distance"][-1] == pytest.approx(
        np.linalg.norm(first.params - start), rel=1e-12
    )
    # the per-epoch history is as before
    assert list(np.asarray(res.history["updates"])) == [0, 6, 12, 18]


def test_train_curvature_batch_and_cadence():
    model, d = _small_problem()
    res = train(
        model, d, "sgd", batch_size=32, epochs=2, lr=0.1, curvature_every=2, progress=False
    )
    lam = res.monitor.columns()["lambda_max"]
    assert np.isfinite(lam[::2]).all() and np.isnan(lam[1::2]).all()
    # the curvature batch: all 96 training examples here (fewer than 256)
    H = model.hessian(res.params, d.X_train, d.y_train)
    top = np.linalg.eigvalsh(H)[-1]
    res.monitor.check_curvature()
    assert res.monitor.columns()["lambda_max"][-1] == pytest.approx(top, rel=1e-3)
    with pytest.raises(ValueError, match="curvature_every: expected an int >= 0"):
        train(model, d, "sgd", batch_size=32, epochs=1, curvature_every=-1)


def test_train_progress_bar(capsys):
    pytest.importorskip("tqdm")
    model, d = _small_problem()
    train(model, d, "sgd", batch_size=32, epochs=2, lr=0.1, progress=True)
    assert "train" in capsys.readouterr().err


def test_train_bad_arguments():
    model, d = _small_problem()
    with pytest.raises(ValueError, match="batch_size: expected an int >= 1"):
        train(model, d, "sgd", batch_size=0, epochs=1)
    with pytest.raises(ValueError, match="epochs: expected an int >= 0"):
        train(model, d, "sgd", batch_size=4, epochs=-1)
    with pytest.raises(TypeError, match=r"data: expected a saddlepoint\.data\.Dataset"):
        train(model, "digits", "sgd", batch_size=4, epochs=1)
    with pytest.raises(ValueError, match=r"params: expected shape \(67,\)"):
        train(model, d, "sgd", batch_size=4, epochs=1, params=np.zeros(3))


def test_train_with_a_schedule_records_the_learning_rate_per_epoch():
    model, d = _small_problem()

    def schedule(step):
        return 0.5 / (1.0 + step)

    res = train(model, d, "sgd", batch_size=32, epochs=3, schedule=schedule, progress=False)
    updates = np.asarray(res.history["updates"])
    np.testing.assert_allclose(np.asarray(res.history["lr"]), [schedule(u) for u in updates])


def test_history_without_pandas_is_a_dict_of_arrays(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    res = minimize(Bowl(kappa=2.0, start=(1.0, 1.0)), "sgd", lr=0.1, steps=3, grad_tol=0.0)
    assert isinstance(res.history, dict)
    base = {"step", "loss", "grad_norm", "lr"}
    assert set(res.history) == base | {"monitor_grad_norm"} | (set(COLUMNS) - base)
    np.testing.assert_array_equal(res.history["step"], [0, 1, 2, 3])
    model, d = _small_problem()
    tr = train(model, d, "sgd", batch_size=32, epochs=1, lr=0.1, progress=False)
    assert isinstance(tr.history, dict) and list(tr.history["epoch"]) == [0, 1]
    from saddlepoint import experiments

    with pytest.raises(ImportError, match=r"saddlepoint\[sweep\]"):
        experiments.optimizer_comparison(Bowl(), {"gd": "sgd"})


def test_user_surface_whose_hessian_raises_not_implemented_falls_back_to_differences():
    """A user object may define hessian() only to say it has none (Python's convention)."""

    class Saddle:  # f = x^2 - y^2, written out here; saddle at the origin
        dim = 2

        def value(self, X):
            X = np.asarray(X, dtype=float)
            return X[..., 0] ** 2 - X[..., 1] ** 2

        def grad(self, X):
            X = np.asarray(X, dtype=float)
            return np.stack([2 * X[..., 0], -2 * X[..., 1]], axis=-1)

        def hessian(self, X):
            raise NotImplementedError

    res = minimize(Saddle(), "sgd", lr=0.1, x0=[0.0, 0.0], steps=5)
    saddle = [e for e in res.events if e.kind == "saddle"]
    assert saddle, [e.message for e in res.events]
    assert "finite-difference" in saddle[0].message
    np.testing.assert_allclose(sorted(saddle[0].eigenvalues), [-2.0, 2.0], atol=1e-6)
