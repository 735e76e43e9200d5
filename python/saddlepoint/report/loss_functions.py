"""Section 6: cross-entropy against MSE for classification."""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import Section
from .runner import Context


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import data, models
    from ..train import train

    # One logistic output for a positive example: loss and gradient against the logit z.
    z = np.linspace(-8, 8, 401)
    p = 1 / (1 + np.exp(-z))
    mse, ce = (1 - p) ** 2, np.logaddexp(0, -z)
    d_mse, d_ce = np.abs(-2 * (1 - p) * p * (1 - p)), np.abs(p - 1)

    # The same network and start, trained with each loss from a saturated initialisation.
    ds = data.blobs(200, centers=2, cluster_std=1.5, seed=ctx.seed)
    epochs = 60 if ctx.quick else 200
    runs: dict[str, tuple[Any, float, Any]] = {}
    for loss in ("cross_entropy", "mse"):
        model = models.MLP([2, 16, 2], activation="tanh", loss=loss)
        start = model.init(ctx.seed) * 4.0  # large weights: saturated units, confident errors
        res = train(
            model,
            ds,
            "sgd",
            lr=0.5,
            batch_size=len(ds.X_train),
            epochs=epochs,
            seed=ctx.seed,
            params=start.copy(),
            progress=False,
        )
        start_grad = float(np.linalg.norm(model.grad(start, ds.X_train, ds.y_train)))
        runs[loss] = (res, start_grad, model)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    axes[0].plot(z, mse, label="MSE loss")
    axes[0].plot(z, ce, label="cross-entropy loss")
    axes[0].plot(z, d_mse, "--", label="|dMSE/dz|")
    axes[0].plot(z, d_ce, "--", label="|dCE/dz|")
    axes[0].set(xlabel="logit z of the true class", ylim=(0, 4), title="one example")
    axes[0].legend(fontsize="small")
    for loss, (res, _, _) in runs.items():
        hist = res.history
        axes[1].plot(np.asarray(hist["epoch"]), np.asarray(hist["train_accuracy"]), label=loss)
    axes[1].set(xlabel="epoch", ylabel="training accuracy", title="same net, same start")
    axes[1].legend()
    figure = ctx.save(
        fig,
        "loss_functions",
        "Left: MSE on a sigmoid output is flat where the "
        "prediction is confidently wrong (z << 0), cross-entropy is not. Right: "
        "training accuracy from a saturated start.",
    )
    acc = {k: float(np.asarray(r.history["train_accuracy"])[-1]) for k, (r, _, _) in runs.items()}
    g0 = {k: g for k, (_, g, _) in runs.items()}
    at_minus_6 = {
        "mse": float(np.interp(-6, z, d_mse)),
        "cross_entropy": float(np.interp(-6, z, d_ce)),
    }
    numbers = {
        "gradient_at_z_minus_6": at_minus_6,
        "initial_gradient_norm": g0,
        "final_train_accuracy": acc,
        "epochs": epochs,
    }
    findings = [
        f"At z = -6 (confidently wrong) the MSE gradient is "
        f"{at_minus_6['mse']:.2g}, the cross-entropy gradient "
        f"{at_minus_6['cross_entropy']:.2g}.",
        f"From the same saturated start the gradient norm is {g0['mse']:.3g} with MSE and "
        f"{g0['cross_entropy']:.3g} with cross-entropy; after {epochs} epochs the training "
        f"accuracy is {acc['mse']:.3f} (MSE) against {acc['cross_entropy']:.3f} (cross-entropy).",
    ]
    return Section(
        key="loss_functions",
        title="6. Loss functions: cross-entropy against MSE",
        claim="For classification, MSE on softmax outputs has flat regions exactly where the "
        "network is confidently wrong, so training gets stuck there; cross-entropy keeps a "
        "gradient proportional to the error.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
    )
