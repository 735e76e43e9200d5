"""saddlepoint.torch.watch: the Monitor on plain torch loops, with torch.optim optimizers (one
pass over the .grads) and saddlepoint.torch ones (the fused step's own instruments), against
exact Hessians and instruments recomputed in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import saddlepoint as sp  # noqa: E402
import saddlepoint.torch as st  # noqa: E402
from torch import nn  # noqa: E402

F = nn.functional


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def least_squares(n=64, seed=0):
    """X w = y with a spread spectrum: L(w) = mean((X w - y)^2) has the exact Hessian
    H = 2 X^T X / n, whatever w is."""
    g = torch.Generator().manual_seed(seed)
    scale = torch.tensor([3.0, 1.0, 1.0, 0.5, 0.5], dtype=torch.float64)
    X = torch.randn(n, 5, generator=g, dtype=torch.float64) * scale
    y = X @ torch.randn(5, 1, generator=g, dtype=torch.float64)
    H = 2.0 * X.T.numpy() @ X.numpy() / n
    return X, y, H


def linear(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(5, 1, bias=False).double()


def run(monitor, model, opt, X, y, steps, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        monitor.observe(loss)
        if scheduler is not None:
            scheduler.step()


# --- oscillation above the stability limit ---------------------------------------------------


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, st.SGD])
def test_sgd_above_the_stability_limit_oscillates_with_the_exact_ratio(optimizer):
    X, y, H = least_squares()
    lam_max = np.linalg.eigvalsh(H)[-1]
    lr = 2.0 * 1.01 / lam_max  # 1% above lr = 2 / lambda_max
    model = linear()
    opt = optimizer(model.parameters(), lr=lr)
    monitor = st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)))
    assert monitor.instruments == ("step" if optimizer is st.SGD else "grads")
    run(monitor, model, opt, X, y, 100)
    kinds = [e.kind for e in monitor.events]
    assert kinds == ["oscillation"]
    event = monitor.events[0]
    expected = lr * lam_max / 2.0  # SGD's ratio lr * lambda_max / 2 from the exact Hessian
    assert math.isclose(event.details["stability_ratio"], expected, rel_tol=1e-6)
    ratios = monitor.history["stability_ratio"].dropna()
    assert len(ratios) == 2 and np.allclose(ratios, expected, rtol=1e-6)
    np.testing.assert_allclose(monitor.history["lambda_max"].dropna(), lam_max, rtol=1e-6)
    assert isinstance(monitor, sp.Monitor) and "oscillation" in monitor.explain()


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, st.SGD])
def test_the_lr_is_read_from_param_groups_every_step(optimizer):
    X, y, H = least_squares()
    lam_max = np.linalg.eigvalsh(H)[-1]
    model = linear()
    opt = optimizer(model.parameters(), lr=1.0 / lam_max, momentum=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5)
    monitor = st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)), curvature_every=40)
    run(monitor, model, opt, X, y, 90, scheduler)
    h = monitor.history
    lrs = h["lr"].to_numpy()
    np.testing.assert_allclose(lrs[:30], 1.0 / lam_max)
    np.testing.assert_allclose(lrs[30:60], 0.5 / lam_max)
    np.testing.assert_allclose(lrs[60:], 0.25 / lam_max)
    # heavy ball: lr * lambda / (2 (1 + mu)), at the lr of that row's step
    row = h.dropna(subset=["stability_ratio"]).iloc[-1]
    expected = row["lr"] * lam_max / (2.0 * 1.5)
    assert math.isclose(row["stability_ratio"], expected, rel_tol=1e-6)


# --- the instruments against references computed here --------------------------------------------


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, st.SGD])
def test_grad_and_update_norms_equal_the_tensors(optimizer):
    X, y, _ = least_squares()
    model = linear()
    opt = optimizer(model.parameters(), lr=0.02, momentum=0.9)
    monitor = st.watch(model, opt)
    grad_norms, update_norms = [], []
    for _ in range(20):
        before = model.weight.detach().clone()
        opt.zero_grad()
        loss = F.mse_loss(model(X), y)
        loss.backward()
        grad_norms.append(float(model.weight.grad.norm()))
        opt.step()
        update_norms.append(float((model.weight.detach() - before).norm()))
        monitor.observe(loss)
    h = monitor.history
    np.testing.assert_allclose(h["grad_norm"], grad_norms, rtol=1e-12)
    np.testing.assert_allclose(h["update_norm"], update_norms, rtol=1e-9)
    assert monitor.events == []


def test_adam_stability_ratio_uses_torchs_second_moments():
    X, y, H = least_squares()
    model = linear()
    lr, (b1, b2), eps = 0.05, (0.9, 0.999), 1e-8
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(b1, b2), eps=eps)
    monitor = st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)), curvature_every=25)
    run(monitor, model, opt, X, y, 26)  # checks at steps 1 and 26
    # the documented rule: lr / bc1 * lambda_max(D H) * (1 - b1) / (2 (1 + b1)),
    # D = 1 / (sqrt(v / bc2) + eps) from torch's own exp_avg_sq after step 26
    t = 26
    v = opt.state[model.weight]["exp_avg_sq"].reshape(-1).numpy()
    d = 1.0 / (np.sqrt(v / (1 - b2**t)) + eps)
    lam = np.linalg.eigvalsh(np.sqrt(d)[:, None] * H * np.sqrt(d)[None, :])[-1]
    expected = lr / (1 - b1**t) * lam * (1 - b1) / (2 * (1 + b1))
    ratio = monitor.history["stability_ratio"].dropna().iloc[-1]
    assert math.isclose(ratio, expected, rel_tol=1e-6)


@pytest.mark.parametrize("kind", ["RMSprop", "Adagrad"])
def test_rmsprop_and_adagrad_ratios_use_torchs_state(kind):
    X, y, H = least_squares()
    model = linear()
    if kind == "RMSprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
    else:
        opt = torch.optim.Adagrad(model.parameters(), lr=0.3, lr_decay=0.01)
    monitor = st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)), curvature_every=25)
    run(monitor, model, opt, X, y, 26)
    state, t = opt.state[model.weight], 26
    if kind == "RMSprop":  # D = 1 / (sqrt(square_avg - grad_avg^2) + eps), heavy-ball limit
        second = (state["square_avg"] - state["grad_avg"] ** 2).reshape(-1).numpy()
        lr, scale = 0.01, 1.0 / (2.0 * 1.5)
    else:  # D = 1 / (sqrt(sum) + eps), the decayed lr / (1 + (t - 1) lr_decay)
        second = state["sum"].reshape(-1).numpy()
        lr, scale = 0.3 / (1.0 + (t - 1) * 0.01), 0.5
    d = 1.0 / (np.sqrt(np.maximum(second, 0.0)) + opt.param_groups[0]["eps"])
    lam = np.linalg.eigvalsh(np.sqrt(d)[:, None] * H * np.sqrt(d)[None, :])[-1]
    ratio = monitor.history["stability_ratio"].dropna().iloc[-1]
    assert math.isclose(ratio, lr * lam * scale, rel_tol=1e-6)


def test_in_step_instruments_equal_the_grad_pass():
    X, y, _ = least_squares()
    histories = []
    for instruments in ("step", "grads"):
        model = linear()
        opt = st.Adam(model.parameters(), lr=0.05)
        monitor = st.watch(model, opt, instruments=instruments)
        assert monitor.instruments == instruments
        run(monitor, model, opt, X, y, 30)
        histories.append(monitor.history)
    step, grads = histories
    for column in ("loss", "grad_norm", "update_norm", "lr"):
        np.testing.assert_allclose(step[column], grads[column], rtol=1e-12)


def test_a_healthy_torch_run_raises_no_alarm():
    # a small MLP on digits with Adam, mini-batches, curvature every 50 steps
    data = sp.data.digits(n_samples=400)
    X = torch.tensor(data.X_train, dtype=torch.float32)
    y = torch.tensor(data.y_train)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    monitor = st.watch(model, opt, st.hvp(model, F.cross_entropy, (X[:128], y[:128])))
    g = torch.Generator().manual_seed(0)
    for _ in range(200):
        idx = torch.randint(0, len(X), (32,), generator=g)
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        monitor.observe(loss)
    h = monitor.history
    assert monitor.events == [], monitor.explain()
    assert h["loss"].iloc[-20:].mean() < 0.5 * h["loss"].iloc[:20].mean()
    ratios = h["stability_ratio"].dropna()
    assert list(ratios.index) == [0, 50, 100, 150]
    # Adam's first step is lr * sign(g): its preconditioned curvature is far above the limit
    # (a ratio of hundreds) and that is no alarm; once v has settled the step is stable
    assert ratios.iloc[0] > 1 and np.all(ratios.iloc[1:] < 1)


# --- names ---------------------------------------------------------------------------------------


def test_events_and_layers_use_the_module_parameter_names():
    X, y, _ = least_squares()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    monitor = st.watch(model, opt)
    assert monitor.parameter_names == ("0.weight", "0.bias", "2.weight", "2.bias")
    run(monitor, model, opt, X, y, 3)
    opt.zero_grad()
    loss = F.mse_loss(model(X), y)
    loss.backward()
    model[2].weight.grad[0, 1] = math.nan  # a NaN gradient in the third tensor only
    opt.step()
    events = monitor.observe(loss)
    assert [e.kind for e in events] == ["diverged"]
    assert events[0].details["first_nonfinite_array"] == 2
    assert events[0].details["first_nonfinite_parameter"] == "2.weight"
    assert "params[2] is '2.weight'" in events[0].message
    assert monitor.events[-1] is events[0]
    layers = monitor.layers()
    assert list(layers["name"]) == list(monitor.parameter_names)
    assert list(layers["nonfinite"]) == [0, 0, 2, 0]  # the weight and its grad
    assert layers["size"].sum() == monitor.dim == 5 * 3 + 3 + 3 + 1


def test_frozen_parameters_are_not_watched_and_the_hvp_must_match():
    X, y, _ = least_squares()
    model = nn.Sequential(nn.Linear(5, 3), nn.Linear(3, 1)).double()
    model[0].requires_grad_(False)
    opt = torch.optim.SGD(model[1].parameters(), lr=0.01)
    monitor = st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)))
    assert monitor.parameter_names == ("1.weight", "1.bias") and monitor.dim == 4
    model[0].requires_grad_(True)  # now the hvp would see 22 parameters, the optimizer 4
    with pytest.raises(ValueError, match=r"hvp: its parameters .* are not the watched ones"):
        st.watch(model, opt, st.hvp(model, nn.MSELoss(), (X, y)))


def test_save_and_load_resume_the_run(tmp_path):
    X, y, H = least_squares()
    model = linear()
    opt = torch.optim.SGD(model.parameters(), lr=2.0 * 1.01 / np.linalg.eigvalsh(H)[-1])
    h = st.hvp(model, nn.MSELoss(), (X, y))
    monitor = st.watch(model, opt, h)
    run(monitor, model, opt, X, y, 40)
    monitor.save(tmp_path / "run.npz")
    resumed = st.watch(model, opt, h, resume=tmp_path / "run.npz")
    run(resumed, model, opt, X, y, 20)
    assert len(resumed.history) == 60
    assert [e.kind for e in resumed.events] == ["oscillation"]


# --- bad input -----------------------------------------------------------------------------------


def test_bad_watch_calls():
    X, y, _ = least_squares()
    model = linear()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(
        TypeError,
        match=r"optimizer: expected a torch\.optim\.Optimizer, got saddlepoint\.optim SGD",
    ):
        st.watch(model, sp.optim.SGD(np.zeros(5), lr=0.1))
    with pytest.raises(TypeError, match=r"optimizer: expected a torch\.optim .* got NAdam"):
        st.watch(model, torch.optim.NAdam(model.parameters()))
    with pytest.raises(
        ValueError, match=r"optimizer: param_groups\[0\]\['params'\]\[0\] .* not a"
    ):
        st.watch(linear(), opt)
    with pytest.raises(ValueError, match="model: Identity has no parameters"):
        st.watch(nn.Identity(), opt)
    with torch.device("meta"):
        meta = nn.Linear(5, 1)
    with pytest.raises(ValueError, match="model: parameter 'weight' is on the meta device"):
        st.watch(meta, torch.optim.SGD(meta.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"instruments: 'step' needs a saddlepoint\.torch SGD"):
        st.watch(model, opt, instruments="step")
    with pytest.raises(ValueError, match="instruments: expected 'auto', 'step' or 'grads'"):
        st.watch(model, opt, instruments="fused")
    monitor = st.watch(model, opt)
    opt.zero_grad()
    F.mse_loss(model(X), y).backward()
    opt.step()
    with pytest.raises(ValueError, match=r"loss: expected a scalar .* got shape \(64, 1\)"):
        monitor.observe((model(X) - y) ** 2)


def test_groups_that_disagree_on_the_rule_are_refused():
    X, y, _ = least_squares()
    model = nn.Linear(5, 1).double()
    opt = torch.optim.SGD(
        [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}], lr=0.01
    )
    monitor = st.watch(model, opt)
    opt.zero_grad()
    loss = F.mse_loss(model(X), y)
    loss.backward()
    opt.step()
    with pytest.raises(ValueError, match=r"optimizer: param_groups\[1\]\['lr'\] = 0.5 differs"):
        monitor.observe(loss)


def test_a_fused_step_that_skipped_a_parameter_is_refused():
    X, y, _ = least_squares()
    model = nn.Linear(5, 1).double()
    opt = st.SGD(model.parameters(), lr=0.01)
    monitor = st.watch(model, opt)
    assert monitor.instruments == "step"
    opt.zero_grad()
    loss = F.mse_loss(model(X), y)
    loss.backward()
    model.bias.grad = None  # torch's rule: a tensor without a grad is not stepped
    opt.step()
    with pytest.raises(
        ValueError, match=r"observe: the last optimizer\.step\(\) was not one fused"
    ):
        monitor.observe(loss)
