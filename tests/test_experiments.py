"""The lecture's experiments on small settings, checked against independent recomputation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from saddlepoint import data, experiments
from saddlepoint.models import MLP
from saddlepoint.train import train

pd = pytest.importorskip("pandas")


def _blobs():
    return data.blobs(96, centers=3, n_features=4, cluster_std=1.5, seed=2)


def test_batch_size_study_columns_and_end_points():
    pytest.importorskip("scipy")
    d = _blobs()
    model = MLP([4, 6, 3], activation="tanh")
    df = experiments.batch_size_study(model, d, (4, 32, 200), lr=0.1, epochs=2, seed=3)
    assert list(df["batch_size"]) == [4, 32, 200]
    n = d.n_train
    assert list(df["updates_per_epoch"]) == [-(-n // 4), -(-n // 32), 1]
    assert np.all(df["seconds_per_update"] > 0)
    np.testing.assert_allclose(
        df["seconds_per_epoch"] / df["seconds_per_update"], df["updates_per_epoch"], rtol=0.5
    )
    for _, row in df.iterrows():
        # Replay the same training run and recompute the end-point numbers independently.
        seq = np.random.SeedSequence(3).spawn(2)[0]
        res = train(
            model,
            d,
            "sgd",
            batch_size=int(row["batch_size"]),
            epochs=2,
            seed=3,
            lr=0.1,
            params=model.init(seq),
            progress=False,
        )
        theta = res.params
        X, y = d.X_train, d.y_train
        assert row["train_loss"] == pytest.approx(model.loss(theta, X, y), rel=1e-12)
        assert row["val_accuracy"] == pytest.approx(model.accuracy(theta, d.X_val, d.y_val))
        top = np.linalg.eigvalsh(model.hessian(theta, X, y))[-1]
        assert row["top_eigenvalue"] == pytest.approx(top, rel=1e-9)
        assert row["grad_norm"] == pytest.approx(np.linalg.norm(model.grad(theta, X, y)))
        assert row["sharpness"] > 0


def test_top_eigenvalue_matrix_free_agrees_with_dense():
    pytest.importorskip("scipy")
    d = _blobs()
    model = MLP([4, 6, 3], activation="tanh")
    theta = model.init(5)
    dense = np.linalg.eigvalsh(model.hessian(theta, d.X_train, d.y_train))[-1]
    free = experiments.top_hessian_eigenvalue(
        model, theta, d.X_train, d.y_train, full_max_params=0
    )
    assert free == pytest.approx(dense, rel=1e-6)


def test_epsilon_sharpness_equals_the_best_corner_for_a_convex_model():
    pytest.importorskip("scipy")
    # No hidden layer: softmax regression, convex in the parameters, so the maximum of the
    # loss over a box sits at a corner. Away from the minimum and with a small box the
    # loss is nearly linear there, and the corner the gradient points to wins.
    d = data.blobs(40, centers=2, n_features=2, cluster_std=1.0, seed=0, val_fraction=0.0)
    model = MLP([2, 2])
    theta = model.init(1)
    X, y = d.X_train, d.y_train
    eps = 1e-3
    base = model.loss(theta, X, y)
    half = eps * (np.abs(theta) + 1)
    corners = [
        model.loss(theta + np.array(signs) * half, X, y)
        for signs in itertools.product((-1.0, 1.0), repeat=model.n_params)
    ]
    expected = 100 * (max(corners) - base) / (1 + base)
    got = experiments.epsilon_sharpness(model, theta, X, y, epsilon=eps)
    assert got == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="epsilon: expected a finite value > 0"):
        experiments.epsilon_sharpness(model, theta, X, y, epsilon=0.0)


def test_minimum_ratio_study_classifies_with_the_exact_hessian():
    d = data.blobs(40, centers=2, n_features=2, cluster_std=2.0, seed=0, val_fraction=0.0)
    model = MLP([2, 3, 2], activation="tanh", l2=1e-3)
    df = experiments.minimum_ratio_study(model, d, 3, epochs=30, seed=1, gradnorm_iterations=500)
    assert list(df["run"]) == [0, 1, 2]
    X, y = d.X_train, d.y_train
    for _, row in df.iterrows():
        theta = row["params"]
        g = model.grad(theta, X, y)
        assert row["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
        assert row["grad_norm"] < row["grad_norm_before"]
        H = model.hessian(theta, X, y)
        if row["grad_norm"] >= 1e-8:
            # Not a critical point but a stationary point of the gradient norm: H g = 0 with
            # g != 0, the flat region the study warns about (why grad_norm is reported).
            lam_max = np.abs(np.linalg.eigvalsh(H)).max()
            assert np.linalg.norm(H @ g) < 1e-6 * lam_max * np.linalg.norm(g)
            converged_elsewhere = df["grad_norm"].min() < 1e-8
            assert converged_elsewhere
        assert row["train_loss"] == pytest.approx(model.loss(theta, X, y), rel=1e-12)
        lam = np.linalg.eigvalsh(H)
        # The documented tolerance: rtol = max(1e-6, 10 * grad_norm) times max |lambda|.
        tol = max(1e-6, 10 * row["grad_norm"]) * np.abs(lam).max()
        n_pos, n_neg = int(np.sum(lam > tol)), int(np.sum(lam < -tol))
        assert (row["n_positive"], row["n_negative"]) == (n_pos, n_neg)
        assert row["minimum_ratio"] == n_pos / model.n_params
        expected = (
            "saddle"
            if n_pos and n_neg
            else "minimum"
            if n_pos == model.n_params
            else "degenerate"
            if n_pos + n_neg < model.n_params
            else "maximum"
        )
        assert row["kind"] == expected
        assert row["min_eigenvalue"] == pytest.approx(lam[0], rel=1e-8, abs=1e-12)


def test_optimizer_comparison_momentum_rolls_over_the_bump():
    # f(x) = (x^2 - 1)^2 + x / 2: critical points are the roots of 4 x^3 - 4 x + 1/2.
    roots = np.sort(np.roots([4.0, 0.0, -4.0, 0.5]).real)
    global_min, bump, local_min = roots
    df = experiments.optimizer_comparison(
        "bumpy_1d",
        {
            "GD": {"optimizer": "sgd", "lr": 0.005},
            "momentum": {"optimizer": "sgd", "lr": 0.005, "momentum": 0.9},
        },
        steps=3000,
    )
    assert set(df.columns) >= {"label", "optimizer", "step", "loss", "grad_norm", "lr", "x0"}
    last = df.groupby("label").tail(1).set_index("label")
    assert last.loc["GD", "x0"] == pytest.approx(local_min, abs=1e-5)
    assert last.loc["momentum", "x0"] == pytest.approx(global_min, abs=1e-5)
    assert df.attrs["reason"] == {"GD": "minimum", "momentum": "minimum"}
    assert bump < local_min
    gd = df[df["label"] == "GD"]
    assert list(gd["step"]) == list(range(len(gd)))  # every step recorded, from 0
    np.testing.assert_allclose(gd["loss"], (gd["x0"] ** 2 - 1) ** 2 + gd["x0"] / 2, rtol=1e-12)


def test_optimizer_comparison_bad_specs():
    with pytest.raises(ValueError, match="optimizers: expected at least one"):
        experiments.optimizer_comparison("saddle", {})
    with pytest.raises(TypeError, match=r"optimizers\['a'\]: expected an optimizer name"):
        experiments.optimizer_comparison("saddle", {"a": 3})
    with pytest.raises(ValueError, match="labels must be unique"):
        experiments.optimizer_comparison("saddle", ["sgd", "sgd"])


def test_plot_helpers():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bs = pd.DataFrame(
        {
            "batch_size": [1, 10, 100],
            "seconds_per_update": [1e-4, 1.2e-4, 3e-4],
            "seconds_per_epoch": [1e-1, 1.2e-2, 3e-3],
            "train_accuracy": [0.9, 0.95, 0.7],
            "val_accuracy": [0.88, 0.9, 0.68],
            "top_eigenvalue": [1.0, 2.0, 4.0],
            "sharpness": [0.1, 0.2, 0.5],
        }
    )
    fig = experiments.plot_batch_size_study(bs)
    assert len(fig.axes) == 4  # three panels and the twin axis for sharpness
    plt.close(fig)
    mr = pd.DataFrame(
        {"minimum_ratio": [0.5, 1.0], "train_loss": [0.3, 0.1], "grad_norm": [1e-9, 1e-12]}
    )
    fig = experiments.plot_minimum_ratio_study(mr)
    assert fig.axes[0].get_xlabel().startswith("minimum ratio")
    plt.close(fig)
    oc = experiments.optimizer_comparison(
        "tiny_network", {"adam": {"optimizer": "adam", "lr": 0.05}}, steps=20
    )
    fig = experiments.plot_optimizer_comparison(oc, "tiny_network")
    assert len(fig.axes) == 2
    plt.close(fig)


def test_lecture_rms_turns_pytorch_adagrad_into_the_lectures():
    sched = experiments.LectureRMS(0.5, decay=10.0, warmup=4)
    t = np.arange(6)
    np.testing.assert_allclose(
        sched(t), 0.5 * np.sqrt(t + 1) * np.minimum(1, (t + 1) / 4) / (1 + t / 10)
    )
    assert sched(3) == pytest.approx(0.5 * 2 * 1 / 1.3)

    class Bowl:
        dim = 2
        start = np.array([-9.0, 1.0])

        def value(self, p):
            return 0.5 * (p[0] ** 2 + 100 * p[1] ** 2)

        def grad(self, p):
            return np.array([p[0], 100 * p[1]])

    df = experiments.optimizer_comparison(
        Bowl(),
        {"rms": {"optimizer": "adagrad", "schedule": experiments.LectureRMS(0.5)}},
        steps=50,
        grad_tol=0.0,
    )
    # The lecture's Adagrad: theta -= eta * g / sigma, sigma = root mean square of all g.
    p, squares = np.array([-9.0, 1.0]), np.zeros(2)
    path = [p.copy()]
    for step in range(50):
        g = np.array([p[0], 100 * p[1]])
        squares += g * g
        p = p - 0.5 * g / np.sqrt(squares / (step + 1))
        path.append(p.copy())
    np.testing.assert_allclose(df[["x0", "x1"]].to_numpy(), np.array(path), rtol=1e-8, atol=1e-12)


def test_lecture_presets_tell_their_stories():
    presets = experiments.lecture_comparisons()
    assert set(presets) == {"saddle", "bump", "ill_conditioned", "adagrad_burst"}
    burst = experiments.optimizer_comparison(**presets["adagrad_burst"])
    rms = burst[burst["label"] == "Adagrad, lecture RMS"]["loss"].to_numpy()
    low = np.argmax(rms < 1e-5)
    assert low > 0 and rms[low:].max() > 1.0  # the late burst
    tamed = burst[burst["label"] == "lecture RMS + decay"]["loss"].to_numpy()
    assert tamed[100:].max() < 1e-3
    saddle = experiments.optimizer_comparison(**presets["saddle"])
    leave = {
        label: int(np.argmax(run["loss"].to_numpy() < 0.5))
        for label, run in saddle.groupby("label")
    }
    assert leave["GD"] > 2 * leave["momentum"]
