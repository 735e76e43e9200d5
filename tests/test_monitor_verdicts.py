"""Each Monitor verdict provoked on a problem built here, with its numbers checked against
independent references, and silent on healthy runs (a false alarm costs as much as a miss)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint.monitor import Monitor


def _run(f, g, H, x0, name, steps, *, batch=None, **hyper):
    x = np.array(x0, dtype=np.float64)
    opt = sp.optim.create(name, x, **hyper)
    mon = Monitor(optimizer=opt, hvp=(lambda v: H(x) @ v) if H else None)
    for _ in range(steps):
        loss, grad = f(x), g(x)
        opt.step(grad)
        mon.observe(loss, grad)
    return mon, x


def _kinds(mon):
    return [e.kind for e in mon.events]


def _only(mon, kind):
    assert _kinds(mon) == [kind], [e.message for e in mon.events]
    return mon.events[0]


# ------------------------------------------------------------------- critical points


def test_saddle_with_eigenvalues_escape_direction_and_drop():
    tn = sp.surfaces.get("tiny_network")
    mon, _ = _run(lambda x: float(tn.value(x)), tn.grad, tn.hessian, [1e-4, -1e-4], "sgd", 400,
                  lr=0.05)  # fmt: skip
    e = _only(mon, "saddle")
    w, V = np.linalg.eigh(tn.hessian(e.x))
    np.testing.assert_allclose(e.eigenvalues, [w[0], w[-1]], rtol=1e-9, atol=1e-12)
    assert w[0] < 0 < w[-1]
    assert abs(e.details["escape_direction"] @ V[:, 0]) == pytest.approx(1.0, abs=1e-9)
    s = e.details["escape_step"]
    assert e.details["expected_drop"] == pytest.approx(0.5 * abs(w[0]) * s**2, rel=1e-9)
    # the promised drop is real: stepping along the direction lowers the loss
    d = e.details["escape_direction"]
    assert min(tn.value(e.x + s * d), tn.value(e.x - s * d)) < tn.value(e.x)
    assert "escape" in e.message and "Fix:" in e.message


def test_minimum():
    lam = np.array([1.0, 3.0])
    mon, _ = _run(lambda x: 1 + 0.5 * float(lam @ x**2), lambda x: lam * x,
                  lambda x: np.diag(lam), [1.0, 1.0], "sgd", 400, lr=0.3)  # fmt: skip
    e = _only(mon, "minimum")
    np.testing.assert_allclose(e.eigenvalues, [1.0, 3.0], rtol=1e-12)
    assert e.details["confirmed"] is True


def test_degenerate():
    def g(x):
        return np.array([4 * x[0] ** 3, 2 * x[1]])

    def H(x):
        return np.diag([12 * x[0] ** 2, 2.0])

    mon, _ = _run(lambda x: 1 + x[0] ** 4 + x[1] ** 2, g, H, [0.0, 1.0], "sgd", 400, lr=0.1)
    e = _only(mon, "degenerate")
    assert e.details["lambda_min"] == pytest.approx(0.0, abs=1e-12)


def test_degenerate_point_that_never_improved_on_its_start_points_at_dead_units():
    # the digits MLP (ReLU) at lr 3.0: the first steps kill the hidden units, the loss sits at
    # chance (ln 10) with a zero gradient and zero curvature along the dead units' weights
    data = sp.data.digits(seed=0)
    model = sp.models.MLP([64, 32, 10])
    params = model.init(0)
    opt = sp.optim.SGD(params, lr=3.0)
    X, y = data.X_train, data.y_train
    mon = Monitor(optimizer=opt, hvp=lambda v: model.hvp(params, X[:256], y[:256], v),
                  curvature_every=10)  # fmt: skip
    for _ in range(200):
        loss, grad = model.loss_and_grad(params, X, y)
        opt.step(grad)
        mon.observe(loss, grad)
    e = _only(mon, "degenerate")
    assert e.loss == pytest.approx(np.log(10), rel=1e-3)  # chance: every class 1/10
    assert e.loss >= mon.history["loss"].iloc[0]
    assert "dead or saturated units" in e.message and "re-initialise" in e.message
    # a degenerate point reached by progress keeps the plain advice (test_degenerate's run)
    mon, _ = _run(lambda x: 1 + x[0] ** 4 + x[1] ** 2,
                  lambda x: np.array([4 * x[0] ** 3, 2 * x[1]]),
                  lambda x: np.diag([12 * x[0] ** 2, 2.0]),
                  [0.0, 1.0], "sgd", 400, lr=0.1)  # fmt: skip
    assert "dead or saturated" not in _only(mon, "degenerate").message


def test_vanishing_gradient_on_an_analytic_flat_region():
    def f(x):
        return 1 - np.exp(-x @ x)

    def g(x):
        return 2 * x * np.exp(-x @ x)

    def H(x):
        return (2 * np.eye(2) - 4 * np.outer(x, x)) * np.exp(-x @ x)

    mon, _ = _run(f, g, H, [3.0, 3.0], "sgd", 400, lr=0.1)
    e = _only(mon, "vanishing_gradient")
    assert "cross-entropy" in e.message and e.details["confirmed"] is True


def test_vanishing_gradient_on_mse_softmax_at_a_saturated_init():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 4)), rng.integers(0, 3, 64)
    model = sp.models.MLP([4, 8, 3], activation="tanh", loss="mse")
    p = model.init(seed=0)
    W, b = model.unflatten(p)[-1]
    W *= 1000.0  # saturated softmax: the MSE gradient vanishes exponentially
    b *= 1000.0
    opt = sp.optim.SGD(p, lr=0.1)
    mon = Monitor(optimizer=opt, hvp=lambda v: model.hvp(p, X, y, v))
    for _ in range(200):
        loss, grad = model.loss_and_grad(p, X, y)
        opt.step(grad)
        mon.observe(loss, grad)
    e = _only(mon, "vanishing_gradient")
    assert e.loss > 0.5 * mon.history["loss"].iloc[0]
    # the same weights with cross-entropy have a large gradient: the loss, not the data
    ce = sp.models.MLP([4, 8, 3], activation="tanh")
    assert np.linalg.norm(ce.grad(p, X, y)) > 1e3 * e.grad_norm


# ------------------------------------------------------------------ step-size problems


def test_oscillation_names_the_limit_and_the_fix():
    mon, _ = _run(lambda x: 0.5 * (x[0] ** 2 + 1000 * x[1] ** 2),
                  lambda x: np.array([x[0], 1000 * x[1]]), lambda x: np.diag([1.0, 1000.0]),
                  [-1.3, 0.7], "sgd", 300, lr=1.999 / 1000)  # fmt: skip
    e = _only(mon, "oscillation")
    assert e.details["mean_cosine"] < -0.99
    assert e.details["stability_ratio"] == pytest.approx(1.999 / 2, rel=1e-12)
    assert "0.002" in e.message  # stable for lr < 2/lambda_max = 0.002


def test_oscillation_with_heavy_ball_uses_its_limit():
    lam = np.array([1.0, 100.0])
    lr = 0.99 * 2 * (1 + 0.5) / 100  # just below heavy-ball's limit 2(1+mu)/lambda_max
    mon, _ = _run(lambda x: 0.5 * float(lam @ x**2), lambda x: lam * x, lambda x: np.diag(lam),
                  [1.0, 1.0], "sgd", 300, lr=lr, momentum=0.5)  # fmt: skip
    e = _only(mon, "oscillation")
    assert e.details["stability_ratio"] == pytest.approx(0.99, rel=1e-12)


def _sqrt_bowl(name, steps, **hyper):
    def f(x):
        return float(np.sqrt(1 + x @ x))

    def g(x):
        return x / np.sqrt(1 + x @ x)

    def H(x):
        return np.eye(2) / np.sqrt(1 + x @ x) - np.outer(x, x) / (1 + x @ x) ** 1.5

    return _run(f, g, None if name == "adagrad" else H, [1e4, 0.0], name, steps, **hyper)[0]


def test_plateau():
    e = _only(_sqrt_bowl("sgd", 400, lr=1e-3), "plateau")
    assert e.details["grad_norm"] == pytest.approx(1.0, rel=1e-6)
    assert e.details["mean_cosine"] > 0.99


def test_plateau_at_the_stability_limit_does_not_advise_a_larger_learning_rate():
    # the sqrt bowl's creeping direction plus a sharp one (curvature 3000) the run never
    # excites (z stays 0): flat loss, large gradient, no bouncing, lr * 3000 / 2 = 1.5
    def f(x):
        return float(np.sqrt(1 + x[0] ** 2) + 1500.0 * x[1] ** 2)

    def g(x):
        return np.array([x[0] / np.sqrt(1 + x[0] ** 2), 3000.0 * x[1]])

    def H(x):
        return np.diag([(1 + x[0] ** 2) ** -1.5, 3000.0])

    mon, _ = _run(f, g, H, [1e4, 0.0], "sgd", 400, lr=1e-3)
    e = _only(mon, "plateau")
    assert e.details["stability_ratio"] == pytest.approx(1e-3 * 3000 / 2, rel=1e-9)
    assert "not a larger learning rate" in e.message and "150% of its stability" in e.message
    assert "use a larger learning rate" not in e.message


def test_adagrad_stall_replaces_the_plateau_it_explains():
    mon = _sqrt_bowl("adagrad", 1000, lr=1.0)
    e = _only(mon, "adagrad_stall")
    # Adagrad on |g| = 1: effective step lr / sqrt(t), so at step t the share is 1/sqrt(t)
    eff = mon.columns()["effective_lr"]
    np.testing.assert_allclose(eff[:100], 1.0 / np.sqrt(np.arange(1, 101)), rtol=1e-6)
    assert e.details["share"] < 0.2


def test_unstable_start_with_adam_near_the_optimum():
    mon, _ = _run(lambda x: 0.5 * float(x @ x), lambda x: x.copy(), lambda x: np.eye(2),
                  [0.01, 0.01], "adam", 200, lr=1.0)  # fmt: skip
    kinds = _kinds(mon)
    assert kinds[0] == "unstable_start"
    assert set(kinds) <= {"unstable_start", "diverged"}
    e = mon.events[0]
    assert e.details["start_loss"] == pytest.approx(1e-4)
    assert e.details["peak_loss"] > 2 * 1e-4
    assert "warm" in e.message


# ---------------------------------------------------------------------------- diverged


def test_diverged_from_a_too_large_step_reports_the_ratio():
    mon, _ = _run(lambda x: 5.0 * float(x @ x), lambda x: 10 * x, lambda x: 10 * np.eye(2),
                  [1.0, 1.0], "sgd", 400, lr=0.3)  # fmt: skip
    e = _only(mon, "diverged")
    assert e.details["stability_ratio"] == pytest.approx(1.5, rel=1e-12)
    # |x_t| = 2^t: the loss exceeds 1000x its start at the first t with 4^t > 1000
    assert e.step == 1 + math.ceil(math.log(1000) / math.log(4))


def test_diverged_names_the_step_and_first_non_finite_array():
    a, b = np.ones(3), np.ones((2, 2))
    opt = sp.optim.SGD([a, b], lr=0.1)
    mon = Monitor(optimizer=opt)
    for t in range(30):
        ga, gb = a.copy(), b.copy()
        if t == 10:
            gb[0, 1] = np.inf
        loss = 0.5 * (a @ a + np.sum(b * b))
        opt.step([ga, gb])
        mon.observe(loss, [ga, gb])
    e = _only(mon, "diverged")
    assert e.step == 11
    assert e.details["first_nonfinite_array"] == 1
    assert "params[1]" in e.message


def test_diverged_on_a_nan_loss_with_an_optimizer():
    x = np.ones(2)
    opt = sp.optim.SGD(x, lr=0.1)
    mon = Monitor(optimizer=opt)
    for t in range(20):
        grad = x.copy()
        opt.step(grad)
        mon.observe(math.nan if t == 7 else 0.5 * float(x @ x), grad)
    e = _only(mon, "diverged")
    assert e.step == 8 and "nan" in e.message


# -------------------------------------------------------------------------- noise floor


def _noisy_least_squares(batch, steps, lr=0.05, seed=0):
    rng = np.random.default_rng(seed)
    n, d = 512, 5
    A = rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d) + rng.standard_normal(n)
    w = np.zeros(d)
    opt = sp.optim.SGD(w, lr=lr)
    mon = Monitor(optimizer=opt, hvp=lambda v: A.T @ (A @ v) / n)
    mon.per_example = []  # the test's own record of each step's per-example gradients
    for _ in range(steps):
        idx = rng.choice(n, batch, replace=False)
        r = A[idx] @ w - b[idx]
        G = A[idx] * r[:, None]
        opt.step(G.mean(axis=0))
        mon.observe(0.5 * float(np.mean(r**2)), G.mean(axis=0), batch_grads=G)
        mon.per_example.append(G.copy())
    return mon


def _window_noise_scale(per_example, step, window):
    """McCandlish et al.'s B_simple over the window ending at ``step`` (1-based), numerator
    and denominator averaged over the window: unbiased tr(Sigma) and |G|^2 - tr(Sigma)/B."""
    traces, signals = [], []
    for g in per_example[max(0, step - window) : step]:
        mean = g.mean(axis=0)
        trace = float(((g - mean) ** 2).sum()) / (g.shape[0] - 1)
        traces.append(trace)
        signals.append(float(mean @ mean) - trace / g.shape[0])
    return np.mean(traces) / np.mean(signals)


def test_noise_floor_on_noisy_least_squares():
    mon = _noisy_least_squares(batch=4, steps=300)
    floors = [e for e in mon.events if e.kind == "noise_floor"]
    assert floors
    e = floors[0]
    assert e.details["batch_size"] == 4
    reference = _window_noise_scale(mon.per_example, e.step, mon.window)
    assert e.details["noise_scale"] == pytest.approx(reference, rel=1e-10)
    assert e.details["noise_scale"] > mon.thresholds.noise_factor * 4
    assert "batch" in e.message and "decay" in e.message


def test_noise_floor_is_one_event_at_a_stationary_floor():
    mon = _noisy_least_squares(batch=4, steps=600)
    assert _kinds(mon) == ["noise_floor"]


# --------------------------------------------------------------------------- healthy runs


def _healthy_gd():
    lam = np.array([1.0, 2.0])
    return _run(lambda x: 0.5 * float(lam @ x**2), lambda x: lam * x, lambda x: np.diag(lam),
                [1.0, -1.0], "sgd", 60, lr=0.5 / 2.0)[0]  # fmt: skip


def _healthy_adam_digits():
    ds = sp.data.digits(n_samples=400)
    model = sp.models.MLP([ds.n_features, 16, ds.n_classes])
    p = model.init(seed=0)
    X, y = ds.X_train, ds.y_train
    opt = sp.optim.Adam(p, lr=1e-3)
    mon = Monitor(optimizer=opt, hvp=lambda v: model.hvp(p, X, y, v))
    for _ in range(300):
        loss, grad = model.loss_and_grad(p, X, y)
        opt.step(grad)
        mon.observe(loss, grad)
    assert mon.history["loss"].iloc[-1] < 0.8 * mon.history["loss"].iloc[0]
    return mon


def _healthy_momentum_mlp():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = sp.models.MLP([4, 8, 2], activation="tanh", l2=1e-3)
    p = model.init(seed=1)
    opt = sp.optim.SGD(p, lr=0.1, momentum=0.9)
    mon = Monitor(optimizer=opt, hvp=lambda v: model.hvp(p, X, y, v))
    for _ in range(150):
        loss, grad = model.loss_and_grad(p, X, y)
        opt.step(grad)
        mon.observe(loss, grad)
    return mon


def _healthy_large_batch():
    mon = _noisy_least_squares(batch=256, steps=60, lr=0.02)
    assert mon.history["improvement"].iloc[-1] > 0.05  # still descending
    return mon


def test_noise_floor_silent_at_a_converged_large_batch_minimum():
    mon = _noisy_least_squares(batch=256, steps=100, lr=0.2)
    assert "noise_floor" not in _kinds(mon)


def _healthy_adagrad():
    lam = np.array([1.0, 4.0])
    return _run(lambda x: 0.5 * float(lam @ x**2), lambda x: lam * x, None, [1.0, 1.0],
                "adagrad", 60, lr=0.5)[0]  # fmt: skip


HEALTHY = {
    "gd_quadratic": _healthy_gd,
    "adam_digits": _healthy_adam_digits,
    "momentum_mlp": _healthy_momentum_mlp,
    "large_batch_least_squares": _healthy_large_batch,
    "adagrad_quadratic": _healthy_adagrad,
}


@pytest.fixture(scope="module")
def healthy():
    return {name: make() for name, make in HEALTHY.items()}


KINDS = ("saddle", "minimum", "degenerate", "oscillation", "plateau", "vanishing_gradient",
         "noise_floor", "unstable_start", "adagrad_stall", "diverged")  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("run", HEALTHY)
def test_silent_on_healthy_runs(healthy, run, kind):
    mon = healthy[run]
    assert kind not in _kinds(mon), [e.message for e in mon.events]


def test_messages_write_percentages_as_people_read_them() -> None:
    from saddlepoint.monitor._verdicts import _loss_change, _pct

    assert [_pct(x) for x in (1.8, 0.21, 0.032, 0.00041, 0.0)] == [
        "180%", "21%", "3.2%", "0.041%", "0%"
    ]  # fmt: skip
    # a negative relative drop is a loss that rose, said so, never "improved by -21%"
    assert _loss_change(-0.21) == "rose by 21%"
    assert _loss_change(0.032) == "improved by only 3.2%"
    assert _loss_change(0.032, only=False) == "improved by 3.2%"
    assert _loss_change(2.02) == "improved by 202%"  # progress: no "only"
