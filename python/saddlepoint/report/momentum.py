"""Section 4: momentum rolls through a small bump and past a saddle."""

from __future__ import annotations

import numpy as np

from .page import Section, per_label
from .runner import Context


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import experiments, surfaces
    from ..plot import plot_surface

    presets = experiments.lecture_comparisons()
    bump = experiments.optimizer_comparison(**presets["bump"])
    saddle = experiments.optimizer_comparison(**presets["saddle"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    surf = surfaces.get(presets["bump"]["surface"])
    paths = {str(k): run["x0"].to_numpy() for k, run in bump.groupby("label", sort=False)}
    plot_surface(surf, paths, ax=axes[0])
    axes[0].set_title("bumpy_1d: GD stops in the first dip")
    for label, run in saddle.groupby("label", sort=False):
        axes[1].semilogy(run["step"], run["loss"] + 1e-16, label=label)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("loss")
    axes[1].set_title("tiny network from next to the saddle")
    axes[1].legend()
    figure = ctx.save(
        fig,
        "momentum",
        "Left: plain gradient descent settles in the shallow "
        "local minimum, heavy-ball momentum rolls over the bump to the global "
        "minimum. Right: loss curves near the tiny network's saddle.",
    )
    final = {label: float(run["x0"].iloc[-1]) for label, run in bump.groupby("label", sort=False)}
    value = {k: float(surf.value(np.array([v]))) for k, v in final.items()}
    global_min = min(cp.value for cp in surf.critical_points if cp.kind == "minimum")

    def escape_step(run: object) -> int:
        loss = run["loss"].to_numpy()  # type: ignore[index]
        below = np.flatnonzero(loss < 0.5)
        return int(run["step"].to_numpy()[below[0]]) if below.size else -1  # type: ignore[index]

    left_saddle = {label: escape_step(run) for label, run in saddle.groupby("label", sort=False)}
    numbers = {
        "bump_final_x": final,
        "bump_final_loss": value,
        "bump_global_minimum_value": float(global_min),
        "momentum_reached_global_minimum": bool(abs(value["momentum"] - global_min) < 1e-6),
        "gd_stuck_in_local_minimum": bool(value["GD"] > global_min + 1e-3),
        "saddle_steps_until_loss_below_half": left_saddle,
    }
    findings = [
        f"On bumpy_1d from x = 2: GD ends at x = {final['GD']:.3f} (loss {value['GD']:.3g}), "
        f"momentum 0.9 at x = {final['momentum']:.3f} (loss {value['momentum']:.3g}; the global "
        f"minimum is {global_min:.3g}).",
        per_label(
            "Steps until the tiny network's loss falls below 0.5 from next to the saddle",
            left_saddle,
        ),
    ]
    return Section(
        key="momentum",
        title="4. Momentum: a ball rolling through saddles and bumps",
        claim="Momentum accumulates past gradients, so it keeps moving where the gradient "
        "vanishes (a saddle) or briefly points back (a small bump), where plain gradient "
        "descent stops.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
    )
