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

    # One example, two classes: softmax of the logits (z_true, z_other) gives the true class
    # p = sigmoid(z) with z = z_true - z_other the logit margin; MSE against the one-hot
    # target, averaged over the two outputs (PyTorch's MSELoss), is (1 - p)^2.
    z = np.linspace(-8, 8, 401)
    p = 1 / (1 + np.exp(-z))
    mse, ce = (1 - p) ** 2, np.logaddexp(0, -z)
    d_mse, d_ce = np.abs(-2 * (1 - p) * p * (1 - p)), np.abs(p - 1)

    # The same network and start, trained with each loss from a saturated initialisation.
    n_points, std, lr, target = 200, 1.5, 0.5, 0.9
    ds = data.blobs(n_points, centers=2, cluster_std=std, seed=ctx.seed)
    epochs = 200  # full batch on 160 points: under a second for both losses
    runs: dict[str, tuple[Any, float, Any]] = {}
    for loss in ("cross_entropy", "mse"):
        model = models.MLP([2, 16, 2], activation="tanh", loss=loss)
        start = model.init(ctx.seed) * 4.0  # large weights: saturated units, confident errors
        res = train(
            model,
            ds,
            "sgd",
            lr=lr,
            batch_size=len(ds.X_train),
            epochs=epochs,
            seed=ctx.seed,
            params=start.copy(),
            progress=False,
        )
        start_grad = float(np.linalg.norm(model.grad(start, ds.X_train, ds.y_train)))
        runs[loss] = (res, start_grad, model)

    names = {"cross_entropy": "cross-entropy", "mse": "MSE"}
    curves = {
        k: (np.asarray(r.history["epoch"]), np.asarray(r.history["train_accuracy"]))
        for k, (r, _, _) in runs.items()
    }
    to_target: dict[str, int | None] = {}
    near_chance: dict[str, int] = {}
    for k, (ep, acc) in curves.items():
        hit = np.flatnonzero(acc >= target)
        to_target[k] = int(ep[hit[0]]) if len(hit) else None
        near_chance[k] = int(np.sum(acc <= 0.55))  # two balanced classes: chance is 0.5

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    axes[0].plot(z, mse, color="C0", label="MSE loss")
    axes[0].plot(z, d_mse, "--", color="C0", label="|dMSE/dz|")
    axes[0].plot(z, ce, color="C1", label="cross-entropy loss")
    axes[0].plot(z, d_ce, "--", color="C1", label="|dCE/dz|")
    axes[0].set(
        xlabel="logit margin z = z_true - z_other",
        ylabel="loss, or |gradient| w.r.t. z",
        ylim=(0, 4),
        title="one example, two-class softmax",
    )
    axes[0].legend(fontsize="small")
    for (k, (ep, acc)), ls in zip(curves.items(), ("-", "--")):
        color = "C1" if k == "cross_entropy" else "C0"
        axes[1].plot(ep, acc, ls, color=color, label=names[k])
        if to_target[k] is not None:
            axes[1].plot(to_target[k], target, "o", color=color)
    axes[1].axhline(target, color="grey", lw=0.8, ls=":", label=f"{target:.0%} target")
    axes[1].set(
        xlabel="epoch (full batch)",
        ylabel="training accuracy",
        title="same net, same saturated start",
        ylim=(0.2, 1.02),
    )
    axes[1].legend(loc="lower right")
    figure = ctx.save(
        fig,
        "loss_functions",
        "Left: for one example, MSE on the two-class softmax output is flat where the "
        "prediction is confidently wrong (z << 0); cross-entropy's gradient stays near 1 "
        f"there. Right: training accuracy of a 2-16-2 tanh network on two Gaussian blobs "
        f"({n_points} points, {len(ds.X_train)} for training, std {std}, seed {ctx.seed}), "
        f"full-batch gradient descent at lr {lr} from the same start with weights scaled by "
        f"4 (saturated units); dots mark the first epoch at {target:.0%}.",
    )
    final_acc = {k: float(a[-1]) for k, (_, a) in curves.items()}
    g0 = {k: g for k, (_, g, _) in runs.items()}
    at_minus_6 = {
        "mse": float(np.interp(-6, z, d_mse)),
        "cross_entropy": float(np.interp(-6, z, d_ce)),
    }
    numbers = {
        "gradient_at_z_minus_6": at_minus_6,
        "initial_gradient_norm": g0,
        "final_train_accuracy": final_acc,
        "train_accuracy_curve": {k: [float(v) for v in a] for k, (_, a) in curves.items()},
        "accuracy_target": target,
        "epochs_to_target": to_target,
        "epochs_near_chance": near_chance,
        "epochs": epochs,
        "lr": lr,
        "data": f"two Gaussian blobs, {n_points} points, cluster_std {std}",
    }
    findings = [
        f"At z = -6 (confidently wrong) the MSE gradient is "
        f"{at_minus_6['mse']:.2g}, the cross-entropy gradient "
        f"{at_minus_6['cross_entropy']:.2g}.",
        f"From the same saturated start the gradient norm is {g0['mse']:.3g} with MSE and "
        f"{g0['cross_entropy']:.3g} with cross-entropy.",
        f"Epochs to {target:.0%} training accuracy: "
        + _epochs(to_target["cross_entropy"])
        + " with cross-entropy, "
        + _epochs(to_target["mse"])
        + f" with MSE, whose accuracy stays at 0.55 or below (chance is 0.5) for "
        f"{near_chance['mse']} epochs.",
        ("MSE is slowed, not stuck" if to_target["mse"] is not None else "MSE stays stuck")
        + f": after {epochs} epochs the training accuracy is "
        f"{final_acc['mse']:.3f} (MSE) against {final_acc['cross_entropy']:.3f} (cross-entropy).",
    ]
    return Section(
        key="loss_functions",
        title="Loss functions: cross-entropy against MSE",
        claim="For classification, MSE on softmax outputs has flat regions exactly where the "
        "network is confidently wrong, so training can get stuck there; cross-entropy on "
        "softmax outputs keeps a gradient proportional to the error.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        verdict="reproduced" if to_target["mse"] is None else "partly",
        verdict_note=(
            "MSE's gradient is flat where the network is confidently wrong and MSE training "
            + (
                "stays below the target: stuck."
                if to_target["mse"] is None
                else f"is slowed ({to_target['mse']} epochs to {target:.0%} against "
                f"{to_target['cross_entropy']} for cross-entropy), not stuck: it gets there."
            )
        ),
        references=[
            "Golik, Doetsch, Ney 2013, 'Cross-entropy vs. squared error training: a "
            "theoretical and experimental comparison'",
        ],
        alt=[
            "Left: loss and gradient magnitude of MSE and cross-entropy against the logit "
            "margin. Right: training accuracy over epochs, cross-entropy rising at once, MSE "
            "flat near one half for many epochs before rising.",
        ],
    )


def _epochs(n: int | None) -> str:
    return "not reached" if n is None else f"{n} epoch" + ("" if n == 1 else "s")
