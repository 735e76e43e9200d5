"""Section 5: adaptive learning rates and schedules on the elongated bowl."""

from __future__ import annotations

import numpy as np

from .page import Section, per_label
from .runner import Context


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import experiments, schedules
    from ..train import minimize

    presets = experiments.lecture_comparisons()
    bowl = presets["ill_conditioned"]
    # Plain GD with lr = 2/L (L = 100, the steep axis' curvature): every step flips the steep
    # coordinate, so the loss stays flat while the gradient stays large, which minimize's
    # monitor diagnoses as an oscillation at the edge of stability, not a critical point.
    gd_lr = 0.02
    gd = minimize(bowl["surface"], "sgd", lr=gd_lr, steps=bowl["steps"])
    plateau = next((e for e in gd.events if e.kind in ("oscillation", "plateau")), None)
    comparison = experiments.optimizer_comparison(**bowl)
    burst = experiments.optimizer_comparison(**presets["adagrad_burst"])

    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    for label, run in comparison.groupby("label", sort=False):
        axes[0].semilogy(run["step"], np.maximum(run["loss"], 1e-30), label=label)
    axes[0].set(xlabel="step", ylabel="loss", title="elongated bowl (condition 100)")
    axes[0].legend(fontsize="small")
    for label, run in burst.groupby("label", sort=False):
        axes[1].semilogy(run["step"], np.maximum(run["loss"], 1e-30), label=label)
    axes[1].set(xlabel="step", ylabel="loss", title="Adagrad's late burst and its fixes")
    axes[1].legend(fontsize="small")
    steps = np.arange(100)
    shown = {
        "step_decay(0.1, 30, 0.5)": schedules.step_decay(0.1, step_size=30, gamma=0.5),
        "cosine(0.1, T_max=100)": schedules.cosine(0.1, T_max=100, eta_min=1e-3),
        "warmup_cosine": schedules.warmup_cosine(0.1, warmup_steps=10, decay_steps=100),
        "one_cycle(0.1, 100)": schedules.one_cycle(max_lr=0.1, total_steps=100),
        "noam(d=64, warmup=10) / 3": schedules.noam(64, 10, factor=1 / 3),
    }
    for label, sched in shown.items():
        values = np.asarray(sched(steps), dtype=float)
        axes[2].plot(steps, values, label=label)
    axes[2].set(xlabel="step", ylabel="learning rate", title="schedules")
    axes[2].legend(fontsize="x-small")
    figure = ctx.save(
        fig,
        "adaptive",
        "Left: GD, momentum and adaptive methods on the "
        "ill-conditioned bowl. Middle: Adagrad in the lecture's root-mean-square "
        "form bursts late; decay and warm-up tame it. Right: learning-rate schedules.",
    )

    final = {
        str(k): float(run["loss"].iloc[-1]) for k, run in comparison.groupby("label", sort=False)
    }
    burst_peak = {}
    for label, run in burst.groupby("label", sort=False):
        loss = run["loss"].to_numpy()
        low = np.minimum.accumulate(loss)
        burst_peak[str(label)] = float(np.max(loss / np.maximum(low, 1e-300)))
    numbers = {
        "gd_lr": gd_lr,
        "gd_x0": [float(v) for v in gd.trajectory[0]],
        "gd_final_x": [float(v) for v in gd.x],
        "gd_reason": gd.reason,
        "gd_plateau_step": None if plateau is None else int(plateau.step),
        "gd_plateau_grad_norm": None if plateau is None else float(plateau.grad_norm),
        "gd_plateau_diagnosed": plateau is not None,
        "gd_verdict_kind": None if plateau is None else plateau.kind,
        "gd_stability_ratio": None if plateau is None else plateau.details.get("stability_ratio"),
        "gd_final_loss": float(gd.loss),
        "gd_final_grad_norm": float(gd.grad_norm),
        "final_loss": final,
        "burst_factor": burst_peak,
    }
    findings = [
        (
            f"Plain GD (lr {gd_lr} = 2/L), step {plateau.step}: {plateau.message}"
            if plateau
            else f"Plain GD (lr {gd_lr}): {gd.message}"
        ),
        per_label("Final loss after the same steps", final, ".3g"),
        per_label(
            "Largest jump of the loss above its best value so far (1 = never goes back up)",
            burst_peak,
            ".3g",
        ),
    ]
    return Section(
        key="adaptive",
        title="5. Adaptive learning rates and schedules",
        claim="On an elongated bowl one learning rate cannot fit both directions: gradient "
        "descent bounces across the valley with the loss flat but the gradient large. "
        "Adagrad, RMSProp and Adam scale each coordinate by its gradients' size; Adagrad's "
        "accumulated statistics can make it burst late, which decay or warm-up fixes.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
    )
