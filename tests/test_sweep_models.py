"""Sweeps over models: BatchedMLP rows equal the single MLP, sweep_model rows equal train()."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint.models import MLP
from saddlepoint.models_batched import BatchedMLP
from saddlepoint.sweeps import sweep_model
from saddlepoint.train import train

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def small_digits():
    return sp.data.digits(n_samples=200)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_batched_loss_and_grad_equal_single_rows(loss, activation):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    model = MLP([5, 7, 4, 3], activation, loss, l2=0.01)
    batched = BatchedMLP(model, 4)
    P = batched.init(range(4))
    idx = rng.integers(0, 30, (4, 9))
    targets = [y, rng.normal(size=(30, 3))] if loss == "mse" else [y]
    for t in targets:
        L, G = batched.loss_and_grad(P, X, t, idx)
        L_all, G_all = batched.loss_and_grad(P, X, t)
        for r in range(4):
            l1, g1 = model.loss_and_grad(P[r], X[idx[r]], t[idx[r]])
            np.testing.assert_allclose(L[r], l1, rtol=1e-12)
            np.testing.assert_allclose(G[r], g1, rtol=1e-12, atol=1e-15)
            l2, g2 = model.loss_and_grad(P[r], X, t)
            np.testing.assert_allclose(L_all[r], l2, rtol=1e-12)
            np.testing.assert_allclose(G_all[r], g2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(batched.loss(P, X, t, idx), L, rtol=1e-12)
    acc = batched.accuracy(P, X, y, idx)
    for r in range(4):
        assert acc[r] == model.accuracy(P[r], X[idx[r]], y[idx[r]])


def test_batched_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, 8)
    batched = BatchedMLP(MLP([3, 4, 2], "tanh"), 3)
    P = batched.init([5, 6, 7])
    idx = rng.integers(0, 8, (3, 5))
    _, G = batched.loss_and_grad(P, X, y, idx)
    h = 1e-6
    fd = np.empty_like(P)
    for j in range(P.shape[1]):
        E = np.zeros_like(P)
        E[:, j] = h
        fd[:, j] = (batched.loss(P + E, X, y, idx) - batched.loss(P - E, X, y, idx)) / (2 * h)
    np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-9)


def _single(model, data, optimizer, row, grid_keys, epochs, batch_size):
    hyper = {k: row[k] for k in grid_keys if k not in ("seed", "batch_size", "loss")}
    if "beta1" in hyper:
        hyper["betas"] = (hyper.pop("beta1"), 0.999)
    if "loss" in grid_keys:
        model = MLP(model.sizes, model.activation, row["loss"])
    return train(
        model,
        data,
        optimizer,
        batch_size=int(row.get("batch_size", batch_size)),
        epochs=epochs,
        seed=int(row.get("seed", 0)),
        **hyper,
    )


@pytest.mark.parametrize(
    ("optimizer", "grid"),
    [
        (
            "sgd",
            {
                "lr": [0.05, 0.5],
                "momentum": [0.0, 0.9],
                "seed": [0, 1],
                "batch_size": [16, 50],
                "loss": ["cross_entropy", "mse"],
            },
        ),
        ("adam", {"lr": [1e-3, 0.05, 50.0], "beta1": [0.8, 0.9], "seed": [3]}),
        ("sgd", {"lr": [0.1, 1e8], "momentum": [0.9], "nesterov": [True, False]}),
    ],
)
def test_sweep_rows_equal_single_train_runs(small_digits, optimizer, grid):
    model = MLP([64, 12, 10], "tanh")
    epochs, batch_size = 2, 25
    with np.errstate(all="ignore"):
        df = sweep_model(
            model, small_digits, grid, epochs=epochs, optimizer=optimizer,
            batch_size=batch_size, threshold=1.0,
        )  # fmt: skip
    assert list(df.columns[: len(grid)]) == list(grid)
    assert {"final_loss", "best_loss", "threshold_step", "grad_norm", "diverged", "kind"} <= set(
        df.columns
    )
    assert {"val_accuracy", "val_loss", "train_accuracy"} <= set(df.columns)
    for i, row in df.iterrows():
        with np.errstate(all="ignore"):
            res = _single(model, small_digits, optimizer, row, list(grid), epochs, batch_size)
        h = res.history
        assert bool(row["diverged"]) == res.diverged
        assert row["updates"] == res.optimizer.steps
        np.testing.assert_allclose(row["final_loss"], h["train_loss"].iloc[-1], rtol=1e-12)
        np.testing.assert_allclose(row["best_loss"], h["train_loss"].min(), rtol=1e-12)
        np.testing.assert_allclose(row["val_accuracy"], h["val_accuracy"].iloc[-1], rtol=1e-12)
        np.testing.assert_allclose(row["val_loss"], h["val_loss"].iloc[-1], rtol=1e-12)
        np.testing.assert_allclose(df.attrs["params"][i], res.params, rtol=1e-12, atol=1e-14)
    if grid["lr"][-1] >= 1e8:  # the stop at divergence is train()'s too
        assert df["diverged"].any()


def test_sweep_model_bad_input(small_digits):
    model = MLP([64, 8, 10])
    with pytest.raises(ValueError, match=r"grid: unknown keys \['learning_rate'\]"):
        sweep_model(model, small_digits, {"learning_rate": [0.1]}, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="batch_size: 1000 exceeds"):
        sweep_model(model, small_digits, {"lr": [0.1], "batch_size": [1000]}, epochs=1)
    with pytest.raises(ValueError, match="batch_size"):
        sweep_model(model, small_digits, {"lr": [0.1]}, epochs=1)
    with pytest.raises(ValueError, match=r"grid\['lr'\]"):
        sweep_model(model, small_digits, {"lr": []}, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="grid"):
        sweep_model(model, small_digits, {"lr": [0.1], "betas": [1]}, epochs=1, batch_size=8)
    batched = BatchedMLP(model, 2)
    with pytest.raises(ValueError, match="P: expected shape"):
        batched.loss(np.zeros((3, model.n_params)), small_digits.X_train, small_digits.y_train)
    with pytest.raises(ValueError, match="idx"):
        batched.loss(
            batched.init([0, 1]), small_digits.X_train, small_digits.y_train, np.zeros((3, 4), int)
        )


def test_mlp_batched_is_batched_mlp():
    model = MLP([3, 2])
    batched = model.batched(4)
    assert isinstance(batched, BatchedMLP) and batched.n_runs == 4 and batched.model is model


def test_sweep_model_kernel_threads_during_and_after(small_digits, monkeypatch):
    """kernel_threads holds saddlepoint's threads while the runs step and restores them after
    (also when the sweep fails); the results are the same bits at any setting."""
    import saddlepoint
    from saddlepoint.sweeps import _models

    seen = []
    original = _models._sweep_groups

    def spy(*args, **kwargs):
        seen.append(saddlepoint.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(_models, "_sweep_groups", spy)
    model = MLP([64, 8, 10])
    grid = {"lr": [0.05, 0.2], "momentum": [0.0, 0.9]}
    before = saddlepoint.get_num_threads()
    saddlepoint.set_num_threads(2)
    try:
        if saddlepoint.get_num_threads() != 2:
            pytest.skip("built without OpenMP: one thread only")
        results = {
            k: sweep_model(model, small_digits, grid, epochs=1, batch_size=16, kernel_threads=k)
            for k in (1, 2, None)
        }
        assert seen == [1, 2, 2]
        assert saddlepoint.get_num_threads() == 2
        for k in (2, None):
            np.testing.assert_array_equal(results[k].attrs["params"], results[1].attrs["params"])

        def fails(*args, **kwargs):
            raise RuntimeError("a run failed")

        monkeypatch.setattr(_models, "_sweep_groups", fails)
        with pytest.raises(RuntimeError, match="a run failed"):
            sweep_model(model, small_digits, grid, epochs=1, batch_size=16)
        assert saddlepoint.get_num_threads() == 2
        with pytest.raises(ValueError, match="kernel_threads"):
            sweep_model(model, small_digits, grid, epochs=1, batch_size=16, kernel_threads=0)
        assert saddlepoint.get_num_threads() == 2
    finally:
        saddlepoint.set_num_threads(before)
