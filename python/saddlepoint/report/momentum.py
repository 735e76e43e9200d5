"""Section 4: momentum rolls through a small bump and past a saddle."""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import Section
from .runner import Context

_STYLES = {"GD": ("-", "#d62728"), "momentum": ("--", "#1f77b4"), "Adam": (":", "#2ca02c")}


def _steps_above(loss: np.ndarray, level: float) -> int:
    return int(np.sum(loss > level))


def _first_below(steps: np.ndarray, loss: np.ndarray, level: float) -> int | None:
    hit = np.flatnonzero(loss < level)
    return int(steps[hit[0]]) if hit.size else None


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import experiments, surfaces
    from ..train import minimize

    presets = experiments.lecture_comparisons()
    bump_set, saddle_set = presets["bump"], presets["saddle"]
    bump = experiments.optimizer_comparison(**bump_set)
    saddle = experiments.optimizer_comparison(**saddle_set)
    surf = surfaces.get(bump_set["surface"])
    tiny = surfaces.get("tiny_network")
    bump_lr = bump_set["optimizers"]["GD"]["lr"]
    saddle_lr = saddle_set["optimizers"]["GD"]["lr"]

    # Both methods started exactly on the saddle's attracting line w1 = -w2 (section 1): the
    # gradient never leaves the line, so neither can the velocity, and momentum stops too.
    line_start = np.array([0.8, -0.8])
    line_specs: tuple[tuple[str, dict[str, Any]], ...] = (
        ("GD", {"optimizer": "sgd", "lr": 0.05}),
        ("momentum", {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9}),
    )
    on_line = {
        label: minimize(tiny, x0=line_start, steps=3000, grad_tol=1e-8, **spec)
        for label, spec in line_specs
    }

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3), layout="constrained")
    xs = np.linspace(-1.6, 2.1, 400)
    fx = np.asarray(surf.value(xs[:, None]), dtype=float)
    axes[0].plot(xs, fx, color="0.3", lw=1.2)
    paths: dict[str, Any] = {}
    for label, run in bump.groupby("label", sort=False):
        ls, color = _STYLES[str(label)]
        x = run["x0"].to_numpy()
        paths[str(label)] = (run["step"].to_numpy(), x)
        axes[0].plot(
            x[-1],
            surf.value(np.array([x[-1]])),
            "o",
            ms=9,
            color=color,
            mec="k",
            label=f"{label} ends",
        )
        axes[1].plot(run["step"], x, ls=ls, color=color, lw=2, label=str(label))
    bump_top = next(cp for cp in surf.critical_points if cp.kind == "maximum")
    axes[0].annotate(
        "bump (local maximum)",
        (bump_top.point[0], bump_top.value),
        xytext=(-1.1, 1.95),
        arrowprops={"arrowstyle": "->"},
    )
    axes[0].text(
        0.40,
        0.97,
        "start: x = 2, f = 10\n(above this view)",
        ha="left",
        va="top",
        transform=axes[0].transAxes,
    )
    axes[0].set(
        xlabel="x", ylabel="f(x)", ylim=(-0.8, 2.5), title="bumpy_1d: f(x) = (x² - 1)² + x/2"
    )
    axes[0].legend(loc="lower right")
    axes[1].axhline(bump_top.point[0], color="0.5", lw=0.8, ls=":")
    axes[1].text(bump_set["steps"] * 0.02, bump_top.point[0] + 0.08, "bump", color="0.4")
    axes[1].set(xlabel="step", ylabel="x", title=f"position over steps (lr {bump_lr})")
    axes[1].set_xlim(0, 500)
    axes[1].legend(loc="upper right")
    for label, run in saddle.groupby("label", sort=False):
        ls, color = _STYLES[str(label)]
        axes[2].semilogy(
            run["step"], run["loss"] + 1e-16, ls=ls, color=color, lw=2, label=str(label)
        )
    axes[2].axhline(0.99, color="0.5", lw=0.8, ls=":")
    axes[2].set(xlabel="step", ylabel="loss", title="tiny network, start (0.05, -0.04)")
    axes[2].set_xlim(0, 250)
    axes[2].legend(loc="lower left")
    figure = ctx.save(
        fig,
        "momentum",
        "Left and middle: bumpy_1d from x = 2, plain gradient descent and heavy-ball "
        f"momentum 0.9 at the same learning rate {bump_lr}; GD settles in the shallow dip at "
        "x ≈ 0.93, momentum crosses the bump and ends in the global minimum at x ≈ -1.06. "
        "Right: the tiny network L = (1 - w1 w2)² from (0.05, -0.04), next to the saddle at "
        f"the origin (loss 1, dotted line at 0.99), lr {saddle_lr} for all three; every run "
        "leaves the saddle, plain GD last.",
    )
    final = {label: float(x[-1]) for label, (_, x) in paths.items()}
    value = {k: float(surf.value(np.array([v]))) for k, v in final.items()}
    global_min = min(cp.value for cp in surf.critical_points if cp.kind == "minimum")
    near_saddle, below_half = {}, {}
    for label, run in saddle.groupby("label", sort=False):
        loss, steps = run["loss"].to_numpy(), run["step"].to_numpy()
        near_saddle[str(label)] = _steps_above(loss, 0.99)
        below_half[str(label)] = _first_below(steps, loss, 0.5)
    line = {
        label: {
            "x": [float(v) for v in r.x],
            "loss": float(r.loss),
            "steps": int(r.steps),
            "reason": r.reason,
            "grad_norm": float(r.grad_norm),
        }
        for label, r in on_line.items()
    }
    speedup = near_saddle["GD"] / max(near_saddle["momentum"], 1)
    numbers = {
        "bump_lr": bump_lr,
        "bump_steps": int(bump_set["steps"]),
        "bump_final_x": final,
        "bump_final_loss": value,
        "bump_global_minimum_value": float(global_min),
        "bump_maximum_x": float(bump_top.point[0]),
        "momentum_reached_global_minimum": bool(abs(value["momentum"] - global_min) < 1e-6),
        "gd_stuck_in_local_minimum": bool(value["GD"] > global_min + 1e-3),
        "saddle_lr": saddle_lr,
        "saddle_start": [0.05, -0.04],
        "saddle_steps_loss_above_0_99": near_saddle,
        "saddle_steps_until_loss_below_half": below_half,
        "saddle_final_loss": {
            str(k): float(r["loss"].iloc[-1]) for k, r in saddle.groupby("label", sort=False)
        },
        "attracting_line_start": [float(v) for v in line_start],
        "attracting_line_lr": 0.05,
        "attracting_line": line,
    }
    findings = [
        f"On bumpy_1d from x = 2 (lr {bump_lr}, {bump_set['steps']} steps at most): GD ends "
        f"at x = {final['GD']:.3f} (loss {value['GD']:.3g}), the shallow local minimum; "
        f"momentum 0.9 ends at x = {final['momentum']:.3f} (loss {value['momentum']:.3g}), "
        f"the global minimum ({global_min:.3g}).",
        f"Next to the tiny network's saddle, the loss stays above 0.99 for "
        f"{near_saddle['GD']} steps with plain GD, {near_saddle['momentum']} with momentum "
        f"and {near_saddle['Adam']} with Adam ({speedup:.1f}x fewer with momentum); it falls "
        f"below 0.5 at step {below_half['GD']}, {below_half['momentum']} and "
        f"{below_half['Adam']}.",
        "Plain gradient descent does leave this saddle by itself: from a start that is not "
        "exactly on the saddle's attracting line the unstable direction grows at every step, "
        "momentum only makes that faster.",
        f"Started exactly on that line, at (0.8, -0.8) with lr 0.05, both stop at the saddle: "
        f"GD after {line['GD']['steps']} steps, momentum after {line['momentum']['steps']} "
        f"steps, loss {line['GD']['loss']:.4g} and {line['momentum']['loss']:.4g}. The "
        "gradient never points off the line, so the velocity cannot either; momentum is no "
        "saddle escape there (section 1's negative-curvature step is).",
    ]
    return Section(
        key="momentum",
        title="Momentum: a ball rolling through saddles and bumps",
        claim="Momentum accumulates past gradients, so it keeps moving where the gradient "
        "vanishes (a saddle) or briefly points back (a small bump), where plain gradient "
        "descent stops or slows down.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        verdict="partly" if numbers["momentum_reached_global_minimum"] else "not at this scale",
        verdict_note="The bump: "
        + (
            "reproduced (GD stops in the dip, momentum rolls over it). "
            if numbers["momentum_reached_global_minimum"] and numbers["gd_stuck_in_local_minimum"]
            else "not reproduced. "
        )
        + f"The saddle: momentum's loss stays near the saddle's value for {speedup:.1f}x fewer "
        "steps, but plain GD leaves too, and on the exact attracting line "
        + (
            "momentum stops as well."
            if line["momentum"]["reason"] == "saddle"
            else f"momentum ends with reason '{line['momentum']['reason']}'."
        ),
        alt=[
            "Three panels: the bumpy curve with where each method ends; the position x of GD "
            "and of momentum against steps, with the bump's position dotted; loss over steps "
            "near the saddle for GD, momentum and Adam on a log axis.",
        ],
        references=[
            "Polyak 1964, 'Some methods of speeding up the convergence of iteration methods' "
            "(heavy ball)",
            "Sutskever, Martens, Dahl, Hinton 2013, 'On the importance of initialization and "
            "momentum in deep learning'",
        ],
    )
