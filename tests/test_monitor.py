"""saddlepoint.Monitor: the API, its instruments against references written here (a 1-D
quadratic fit for alpha, tr(Sigma)/||G||^2 for the noise scale, numpy.linalg.eigh of exact
Hessians for the curvature), bad input, state save/load, explain/plot/report."""

from __future__ import annotations

import math

import numpy as np
import pytest
import saddlepoint as sp
from helpers import snapshot
from saddlepoint.monitor import COLUMNS, EVENT_KINDS, Event, Monitor, check_curvature

KINDS = {
    "saddle", "minimum", "degenerate", "oscillation", "plateau", "vanishing_gradient",
    "noise_floor", "unstable_start", "adagrad_stall", "diverged",
}  # fmt: skip


def _quadratic_run(lam, x0, lr, steps, momentum=0.0, **kw):
    lam = np.asarray(lam, dtype=np.float64)
    x = np.array(x0, dtype=np.float64)
    opt = sp.optim.SGD(x, lr=lr, momentum=momentum)
    mon = Monitor(optimizer=opt, hvp=lambda v: lam * v, **kw)
    xs = [x.copy()]
    for _ in range(steps):
        loss, grad = 0.5 * float(lam @ x**2), lam * x
        opt.step(grad)
        mon.observe(loss, grad)
        xs.append(x.copy())
    return mon, np.array(xs)


# ---------------------------------------------------------------------------------- API


def test_api_columns_and_kinds():
    assert KINDS <= set(EVENT_KINDS)
    mon, _ = _quadratic_run([1.0, 2.0], [1.0, -1.0], 0.1, 30)
    h = mon.history
    assert tuple(h.columns) == COLUMNS
    assert len(h) == 30 and h["step"].tolist() == list(range(1, 31))
    assert set(mon.columns()) == set(COLUMNS)
    assert isinstance(mon.events, list) and all(isinstance(e, Event) for e in mon.events)
    assert "30 steps" in repr(mon)


def test_instruments_against_trajectory():
    lam = np.array([1.0, 4.0])
    mon, xs = _quadratic_run(lam, [1.0, -0.5], 0.1, 40)
    h = mon.columns()
    grads = lam * xs[:-1]
    updates = np.diff(xs, axis=0)
    np.testing.assert_allclose(h["grad_norm"], np.linalg.norm(grads, axis=1), rtol=1e-13)
    np.testing.assert_allclose(h["update_norm"], np.linalg.norm(updates, axis=1), rtol=1e-12)
    np.testing.assert_allclose(h["param_norm"], np.linalg.norm(xs[1:], axis=1), rtol=1e-13)
    np.testing.assert_allclose(h["distance"], np.linalg.norm(xs[1:] - xs[0], axis=1), rtol=1e-12)
    cos = np.sum(updates[1:] * updates[:-1], axis=1) / (
        np.linalg.norm(updates[1:], axis=1) * np.linalg.norm(updates[:-1], axis=1)
    )
    np.testing.assert_allclose(h["cos_update"][1:], cos, rtol=1e-12)
    assert math.isnan(h["cos_update"][0])
    np.testing.assert_allclose(h["effective_lr"], 0.1, rtol=1e-12)  # plain SGD: |du|/|g| = lr
    assert np.all(h["nonfinite"] == 0)
    np.testing.assert_allclose(h["lr"], 0.1)


def test_loop_without_optimizer_reconstructs_heavy_ball():
    lam = np.array([1.0, 3.0])
    x = np.array([1.0, 1.0])
    lr, mu = 0.05, 0.8
    mon = Monitor(hvp=lambda v: lam * v)
    buf, xs, grads = np.zeros(2), [x.copy()], []
    for t in range(60):
        g = lam * x
        buf = g.copy() if t == 0 else mu * buf + g
        x = x - lr * buf
        grads.append(g)
        xs.append(x.copy())
        mon.observe(0.5 * float(lam @ xs[-2] ** 2), g, lr=lr, momentum=mu)
    h = mon.columns()
    xs = np.array(xs)
    updates = np.diff(xs, axis=0)
    np.testing.assert_allclose(h["update_norm"], np.linalg.norm(updates, axis=1), rtol=1e-12)
    np.testing.assert_allclose(h["distance"], np.linalg.norm(xs[1:] - xs[0], axis=1), rtol=1e-11)
    assert np.all(np.isnan(h["param_norm"]))
    # curvature checked at step 1 and 51: stability ratio lr * lambda / (2 (1 + mu))
    ratios = h["stability_ratio"][np.isfinite(h["stability_ratio"])]
    np.testing.assert_allclose(ratios, lr * 3.0 / (2 * (1 + mu)), rtol=1e-10)


def test_loop_with_params_measures_the_true_update():
    a, b = np.array([2.0, -1.0]), np.array([[0.5, 1.5]])
    mon = Monitor(params=[a, b])
    before = [np.concatenate([a.ravel(), b.ravel()])]
    for _ in range(25):  # a loop of its own: a hand-written step with lr 0.1 and 0.2
        ga, gb = a.copy(), 3 * b
        a -= 0.1 * ga
        b -= 0.2 * gb
        mon.observe(0.5 * float(a @ a) + 1.5 * float(np.sum(b * b)), [ga, gb], lr=0.1)
        before.append(np.concatenate([a.ravel(), b.ravel()]))
    xs = np.array(before)
    h = mon.columns()
    np.testing.assert_allclose(h["update_norm"], np.linalg.norm(np.diff(xs, axis=0), axis=1),
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_allclose(h["param_norm"], np.linalg.norm(xs[1:], axis=1), rtol=1e-13)
    np.testing.assert_allclose(h["distance"], np.linalg.norm(xs[1:] - xs[0], axis=1), rtol=1e-12)


# -------------------------------------------------------------------------------- alpha


def _alpha_reference(A, x0, x1):
    """The parabola along the step of f(x) = 0.5 x.A x is exact: f(x0 + t d) has its minimum
    at t* = -(A x0 . d) / (d . A d); alpha = 1/t* - 1."""
    d = x1 - x0
    t_star = -float((A @ x0) @ d) / float(d @ A @ d)
    return 1.0 / t_star - 1.0


@pytest.mark.parametrize(
    "lr_times_a, expected",
    [(0.01, -0.99), (1.0, 0.0), (1.999, 0.999)],
    ids=["undershoot", "landing", "overshoot"],
)
def test_alpha_on_a_1d_quadratic(lr_times_a, expected):
    a = 4.0
    mon, xs = _quadratic_run([a], [1.5], lr_times_a / a, 3 if lr_times_a == 1.0 else 20)
    alpha = mon.columns()["alpha"]
    x0, x1 = xs[0, 0], xs[1, 0]
    t_star = -x0 / (x1 - x0)  # the parabola's minimum (x = 0) along the step
    assert alpha[0] == pytest.approx(1.0 / t_star - 1.0, abs=1e-12)
    assert alpha[0] == pytest.approx(expected, abs=1e-12)
    if lr_times_a != 1.0:
        ref = [_alpha_reference(np.array([[a]]), xs[i], xs[i + 1]) for i in range(len(xs) - 2)]
        np.testing.assert_allclose(alpha[:-1], ref, atol=1e-9)
    assert math.isnan(alpha[-1])  # the last step's end slope is not known yet


def test_alpha_on_a_2d_quadratic_with_momentum():
    lam = np.array([1.0, 10.0])
    mon, xs = _quadratic_run(lam, [1.0, 1.0], 0.05, 30, momentum=0.5)
    alpha = mon.columns()["alpha"]
    ref = [_alpha_reference(np.diag(lam), xs[i], xs[i + 1]) for i in range(29)]
    np.testing.assert_allclose(alpha[:-1], ref, rtol=1e-8, atol=1e-10)


# -------------------------------------------------------------------------- noise scale


def _noise_reference(G):
    """B_simple = tr(Sigma)/|G|^2 with tr(Sigma) unbiased and |G|^2 bias-corrected; GSNR the
    mean over coordinates of mean^2/var (McCandlish et al. 2018; Cockpit's MeanGSNR)."""
    B = G.shape[0]
    mean = G.sum(axis=0) / B
    var = ((G - mean) ** 2).sum(axis=0) / (B - 1)
    trace = var.sum()
    signal = mean @ mean - trace / B
    scale = trace / signal if signal > 0 else math.inf
    keep = var > 0
    return scale, float(np.mean(mean[keep] ** 2 / var[keep]))


def _least_squares(n=256, d=4, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return A, b


def test_noise_scale_and_gsnr_against_reference():
    A, b = _least_squares()
    rng = np.random.default_rng(1)
    w = np.zeros(4)
    opt = sp.optim.SGD(w, lr=0.05)
    mon = Monitor(optimizer=opt)
    refs = []
    for _ in range(80):
        idx = rng.choice(len(b), 16, replace=False)
        r = A[idx] @ w - b[idx]
        G = A[idx] * r[:, None]  # per-example gradients of 0.5 r^2
        refs.append(_noise_reference(G))
        opt.step(G.mean(axis=0))
        mon.observe(0.5 * float(np.mean(r**2)), G.mean(axis=0), batch_grads=G)
    h = mon.columns()
    ref = np.array(refs)
    finite = np.isfinite(ref[:, 0])
    assert finite.sum() > 10 and (~finite).sum() > 0  # both regimes occur
    np.testing.assert_allclose(h["noise_scale"][finite], ref[finite, 0], rtol=1e-10)
    assert np.all(np.isinf(h["noise_scale"][~finite]))
    np.testing.assert_allclose(h["gsnr"], ref[:, 1], rtol=1e-10)


def test_noise_scale_estimates_the_population_value():
    """On a fixed point, from many draws of the whole population's per-example gradients,
    the estimate converges to the population tr(Sigma)/|G|^2."""
    A, b = _least_squares(n=2000, d=3, noise=2.0)
    w = np.array([0.3, -0.2, 0.1])
    per = A * (A @ w - b)[:, None]
    G = per.mean(axis=0)
    population = float(np.sum(per.var(axis=0)) / (G @ G))
    rng = np.random.default_rng(2)
    mon = Monitor()
    for _ in range(50):
        rows = per[rng.choice(len(b), 256, replace=True)]
        mon.observe(1.0, rows.mean(axis=0), lr=0.0, batch_grads=rows)
    estimate = float(np.median(mon.columns()["noise_scale"]))
    assert estimate == pytest.approx(population, rel=0.15)


# ---------------------------------------------------------------------------- curvature


def test_curvature_dense_on_an_analytic_surface():
    surf = sp.surfaces.get("rosenbrock")
    x = np.array([-1.2, 1.0])
    opt = sp.optim.SGD(x, lr=1e-4)
    mon = Monitor(optimizer=opt, hvp=lambda v: surf.hessian(x) @ v, curvature_every=1)
    refs = []
    for _ in range(20):
        loss, grad = float(surf.value(x)), surf.grad(x)
        opt.step(grad)
        mon.observe(loss, grad)
        refs.append(np.linalg.eigh(surf.hessian(x))[0][[0, -1]])  # at the checked point
    h = mon.columns()
    ref = np.array(refs)
    np.testing.assert_allclose(h["lambda_min"], ref[:, 0], rtol=1e-10)
    np.testing.assert_allclose(h["lambda_max"], ref[:, 1], rtol=1e-12)
    np.testing.assert_allclose(h["stability_ratio"], 1e-4 * ref[:, 1] / 2, rtol=1e-12)
    assert np.all(h["curvature_products"] == 2 + 2)  # dim products + two residuals


def _mlp(sizes, n=60, seed=0):
    rng = np.random.default_rng(seed)
    model = sp.models.MLP(sizes, activation="tanh")
    X = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n)
    return model, model.init(seed=seed), X, y


def _mlp_curvature_run(sizes, steps, every):
    model, p, X, y = _mlp(sizes)
    opt = sp.optim.SGD(p, lr=0.1)
    hvp = lambda v: model.hvp(p, X, y, v)  # noqa: E731
    mon = Monitor(optimizer=opt, hvp=hvp, curvature_every=every)
    exact, cold = [], []
    for t in range(steps):
        loss, grad = model.loss_and_grad(p, X, y)
        opt.step(grad)
        mon.observe(loss, grad)
        if t % every == 0:
            exact.append(np.linalg.eigvalsh(model.hessian(p, X, y)))
            cold.append(check_curvature(hvp, p.size).n_products)  # same point, no warm start
    return mon, p.size, exact, cold


def _assert_bounded(mon, exact):
    h = mon.history.dropna(subset=["lambda_max"])
    assert len(h) == len(exact)
    for (_, row), w in zip(h.iterrows(), exact):
        scale = max(abs(w[0]), abs(w[-1]))
        # each Ritz value is within its residual norm of a true eigenvalue, here the extreme
        assert abs(row.lambda_min - w[0]) <= row.residual_min + 1e-12 * scale
        assert abs(row.lambda_max - w[-1]) <= row.residual_max + 1e-12 * scale
        assert row.residual_min <= 1e-3 * scale and row.residual_max <= 1e-3 * scale
    return h


def test_curvature_dense_on_a_small_mlp():
    mon, dim, exact, _ = _mlp_curvature_run([2, 4, 2], 30, 10)
    assert dim <= 32
    h = _assert_bounded(mon, exact)
    assert np.all(h.curvature_products == dim + 2)
    np.testing.assert_allclose(h.lambda_min, [w[0] for w in exact], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(h.lambda_max, [w[-1] for w in exact], rtol=1e-9)


def test_curvature_lanczos_on_an_mlp_warm_is_cheaper_than_cold():
    mon, dim, exact, cold = _mlp_curvature_run([4, 6, 3], 200, 20)
    assert dim == 51 > 32
    h = _assert_bounded(mon, exact)
    products = h.curvature_products.to_numpy()
    # measured (Lanczos, full reorthogonalisation, two residual products included):
    # cold 30 at the first check; warm 16-25 after; cold at the same points 21-30
    assert products[0] == cold[0] <= 40
    assert np.all(products[1:] < products[0])
    assert np.median(products[1:]) <= 20
    assert products[1:].sum() < sum(cold[1:])


def test_bowl_case_of_the_issue():
    """SGD at lr = 1.999/lambda_max on the condition-1000 bowl: oscillation at ratio 0.9995
    and nothing else over 3,000 steps."""
    bowl = sp.surfaces.get("ill_conditioned", condition=1000)
    x = np.array([-1.3, 0.7])
    opt = sp.optim.SGD(x, lr=1.999 / 1000)
    mon = Monitor(optimizer=opt, hvp=lambda v: bowl.hessian(x) @ v)
    for _ in range(3000):
        loss, grad = float(bowl.value(x)), bowl.grad(x)
        opt.step(grad)
        mon.observe(loss, grad)
    assert [e.kind for e in mon.events] == ["oscillation"]
    event = mon.events[0]
    assert round(event.details["stability_ratio"], 4) == 0.9995
    ratios = mon.history["stability_ratio"].dropna()
    assert len(ratios) >= 60 and np.all(np.round(ratios, 4) == 0.9995)
    assert "2/lambda_max" in event.message and "momentum" in event.message


# ---------------------------------------------------------------------------- bad input


def _started(n=3, dtype=np.float64):
    mon = Monitor()
    mon.observe(1.0, np.ones(n, dtype), lr=0.1)
    return mon


def _refused(mon, exc, match, *args, **kwargs):
    before = (len(mon.history), snapshot(mon._buffers), len(mon.events))
    with pytest.raises(exc, match=match):
        mon.observe(*args, **kwargs)
    assert (len(mon.history), snapshot(mon._buffers), len(mon.events)) == before


def test_gradient_changing_shape_or_dtype_is_refused():
    mon = _started()
    _refused(mon, ValueError, r"grad: expected shape \(3,\)", 1.0, np.ones(4), lr=0.1)
    _refused(mon, TypeError, "grad: expected float64", 1.0, np.ones(3, np.float32), lr=0.1)
    _refused(mon, TypeError, "grad", 1.0, np.ones(3, np.int64), lr=0.1)
    _refused(mon, ValueError, "grad: expected 1 arrays", 1.0, [np.ones(3), np.ones(1)], lr=0.1)
    _refused(mon, TypeError, "grad", 1.0, None, lr=0.1)


def test_non_scalar_loss_and_bad_step_settings_are_refused():
    mon = _started()
    _refused(mon, ValueError, "loss: expected a scalar", np.ones(2), np.ones(3), lr=0.1)
    _refused(mon, TypeError, "loss", "1.0", np.ones(3), lr=0.1)
    _refused(mon, TypeError, "lr: required", 1.0, np.ones(3))
    _refused(mon, ValueError, "momentum", 1.0, np.ones(3), lr=0.1, momentum=1.0)
    _refused(mon, ValueError, "batch_grads", 1.0, np.ones(3), lr=0.1, batch_grads=np.ones((4, 2)))
    x = np.ones(3)
    opt_mon = Monitor(optimizer=sp.optim.SGD(x, lr=0.1))
    _refused(opt_mon, ValueError, "lr", 1.0, np.ones(3), lr=0.1)


def test_bad_constructor_arguments():
    with pytest.raises(TypeError, match="optimizer"):
        Monitor(optimizer=object())
    with pytest.raises(TypeError, match="hvp"):
        Monitor(hvp=3)
    with pytest.raises(ValueError, match="window"):
        Monitor(window=1)
    with pytest.raises(TypeError, match="curvature_every"):
        Monitor(curvature_every=2.5)


@pytest.mark.parametrize(
    "hvp, exc, match",
    [
        (lambda v: np.ones(4), ValueError, r"hvp: expected a product of shape \(3,\)"),
        (lambda v: np.full(3, np.nan), ValueError, "hvp: returned non-finite"),
        (lambda v: np.array([1.0, np.inf, 0.0]), ValueError, "hvp: returned non-finite"),
        (lambda v: np.array(["a", "b", "c"]), TypeError, "hvp"),
    ],
)
def test_bad_hvp_is_refused_naming_it(hvp, exc, match):
    mon = Monitor(hvp=hvp)
    with pytest.raises(exc, match=match):
        mon.observe(1.0, np.ones(3), lr=0.1)  # the first step is a curvature check


def test_nan_or_inf_loss_is_data_not_a_crash():
    for bad in (math.nan, math.inf, -math.inf):
        mon = Monitor()
        for t in range(6):
            mon.observe(bad if t == 3 else 1.0, np.ones(2), lr=0.1)
        assert [e.kind for e in mon.events] == ["diverged"]
        assert mon.events[0].step == 4


# -------------------------------------------------------------------------------- state


def _momentum_run(mon_path=None, split=None, steps=300):
    """SGD with momentum on a 40-d quadratic (Lanczos curvature) with an oscillating top
    direction; optionally saved at `split` and resumed from the file."""
    lam = np.linspace(0.1, 50.0, 40)
    x = np.linspace(1.0, -1.0, 40)
    opt = sp.optim.SGD(x, lr=2 * 1.9 / 50.0, momentum=0.9)
    hvp = lambda v: lam * v  # noqa: E731
    mon = Monitor(optimizer=opt, hvp=hvp, curvature_every=25, window=40)
    for t in range(steps):
        if t == split:
            mon.save(mon_path)
            state = opt.state_dict()
            x = x.copy()  # a new process: fresh arrays
            opt = sp.optim.SGD(x, lr=0.0, momentum=0.9)
            opt.load_state_dict(state)
            hvp = lambda v: lam * v  # noqa: E731
            mon = Monitor.load(mon_path, optimizer=opt, hvp=hvp)
        loss, grad = 0.5 * float(lam @ x**2), lam * x
        opt.step(grad)
        mon.observe(loss, grad)
    return mon


def test_save_load_mid_run_equals_uninterrupted(tmp_path):
    whole = _momentum_run()
    resumed = _momentum_run(tmp_path / "mon.npz", split=137)
    a, b = whole.columns(), resumed.columns()
    for name in COLUMNS:
        assert a[name].tobytes() == b[name].tobytes(), name
    assert [(e.kind, e.step, e.message) for e in whole.events] == [
        (e.kind, e.step, e.message) for e in resumed.events
    ]
    assert whole.events  # the run does raise something to compare


def test_save_load_parameter_less_loop(tmp_path):
    def run(split=None):
        mon = Monitor()
        for t in range(80):
            if t == split:
                mon.save(tmp_path / "m.npz")
                mon = Monitor.load(tmp_path / "m.npz")
            mon.observe(1.0 / (t + 1), np.array([np.cos(t), np.sin(t)]), lr=0.1, momentum=0.5)
        return mon

    a, b = run().columns(), run(split=33).columns()
    assert all(a[k].tobytes() == b[k].tobytes() for k in COLUMNS)


# ---------------------------------------------------------------- explain, plot, report


def _eventful():
    return _quadratic_run([1.0, 1000.0], [-1.3, 0.7], 1.999 / 1000, 200)[0]


def test_explain_mentions_each_event_and_its_fix():
    mon = _eventful()
    text = mon.explain()
    assert mon.events
    for e in mon.events:
        assert e.kind in text and e.message in text
        assert "Fix:" in e.message
    assert "200 steps" in text
    assert "No steps observed" in Monitor().explain()


def test_plot_returns_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    fig = _eventful().plot()
    assert isinstance(fig, Figure)
    plt.close(fig)


def test_report_writes_page_figure_and_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    import matplotlib

    matplotlib.use("Agg")
    mon = _eventful()
    page = mon.report(tmp_path / "run")
    assert page == tmp_path / "run" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "run.png" in html and "oscillation" in html
    assert (tmp_path / "run" / "run.png").stat().st_size > 1000
    csv = pd.read_csv(tmp_path / "run" / "history.csv")
    h = mon.history
    assert list(csv.columns) == list(h.columns)
    np.testing.assert_allclose(csv.to_numpy(dtype=float), h.to_numpy(dtype=float), rtol=1e-9,
                               equal_nan=True)  # fmt: skip
