"""Section 1: critical points — a stall at a saddle, told apart from a minimum by the Hessian."""

from __future__ import annotations

import numpy as np

from .page import Section
from .runner import Context


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import hessian, surfaces
    from ..plot import plot_surface
    from ..train import minimize

    tiny = surfaces.get("tiny_network")
    origin = np.zeros(2)
    H = tiny.hessian(origin)
    c = hessian.classify(H)
    origin_eig = np.asarray(c.eigenvalues, dtype=float)
    direction = c.escape_direction
    assert direction is not None, "the tiny network's origin is a saddle"
    esc = hessian.escape(lambda w: float(tiny.value(w)), origin, direction)

    # Gradient descent started on the line w1 = -w2 (the eigenvector of the positive
    # eigenvalue, the saddle's attracting direction) runs into the saddle: the gradient
    # shrinks by about 1 - 2 lr per step. grad_tol is far below the starting gradient, so the
    # run is stopped by the gradient vanishing, not by the tolerance at step 0.
    steps = 400
    lr, grad_tol = 0.05, 1e-8
    start = np.array([0.8, -0.8])
    off = np.array([0.8, -0.79])  # 0.01 off that line
    stalled = minimize(tiny, "sgd", lr=lr, x0=start, steps=steps, grad_tol=grad_tol)
    escaped = minimize(
        tiny, "sgd", lr=lr, x0=start, steps=steps, grad_tol=grad_tol, escape_saddles=True
    )
    nearby = minimize(tiny, "sgd", lr=lr, x0=off, steps=steps, grad_tol=grad_tol)
    product = float(np.prod(escaped.x))
    near_product = float(np.prod(nearby.x))
    near_losses = [float(tiny.value(w)) for w in np.asarray(nearby.trajectory)]
    near_saddle_steps = int(sum(v > 0.99 for v in near_losses))
    start_grad = float(np.linalg.norm(tiny.grad(start)))

    fig, axes = plt.subplots(1, 2, figsize=(10, 5.4), layout="constrained")
    plot_surface(tiny, ax=axes[0], bounds=((-1.6, 1.6), (-1.6, 1.6)))
    styles = (
        ("GD on w1 = -w2: stops at the saddle", stalled.trajectory, "-", 3.0, "#d62728"),
        ("same start + saddle escape", escaped.trajectory, "--", 1.8, "#1f77b4"),
        ("GD started 0.01 off that line", nearby.trajectory, ":", 2.2, "#2ca02c"),
    )
    for label, path, ls, lw, color in styles:
        path = np.asarray(path)
        axes[0].plot(path[:, 0], path[:, 1], ls=ls, lw=lw, color=color, label=label)
        axes[0].plot(*path[-1], marker="*", ms=12, color=color, mec="k", mew=0.5, zorder=4)
    axes[0].plot(*start, "o", ms=6, color="k", zorder=4)
    handles, labels = axes[0].get_legend_handles_labels()
    names = {"degenerate": "degenerate (a minimum on the valley w1 w2 = 1)"}
    labels = [names.get(k, k) for k in labels]
    axes[0].legend(
        handles, labels, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.13)
    )
    axes[0].set(xlabel="w₁", ylabel="w₂", title="L(w₁, w₂) = (1 - w₁w₂)²")

    # Himmelblau: every listed critical point, classified from its exact Hessian.
    him = surfaces.get("himmelblau")
    points = [cp.point for cp in him.critical_points]
    kinds = [hessian.classify(him.hessian(p)).kind for p in points]
    agree = sum(k == cp.kind for k, cp in zip(kinds, him.critical_points))
    plot_surface(him, ax=axes[1])
    axes[1].set(xlabel="x", ylabel="y", title="Himmelblau f(x, y): critical points by Hessian")
    figure = ctx.save(
        fig,
        "critical_points",
        "Left: the tiny network's loss, gradient descent (lr 0.05) from the black dot (0.8, "
        "-0.8): on the line w1 = -w2 it runs into the saddle at the origin (cross) and stops "
        "there; with escape_saddles=True it steps along negative curvature to the valley "
        "w1 w2 = 1; started 0.01 off the line it leaves the saddle by itself. Stars mark where "
        "each run ends. The squares are points of that valley, all global minima (loss 0): "
        "'degenerate' because along the valley the Hessian has a zero eigenvalue, so the "
        "eigenvalue test alone cannot call them minima. Right: Himmelblau's critical points "
        "(circle minimum, cross saddle, triangle maximum).",
    )
    counts = {k: kinds.count(k) for k in ("minimum", "saddle", "maximum", "degenerate")}
    numbers = {
        "tiny_network_origin_eigenvalues": [float(w) for w in origin_eig],
        "tiny_network_origin_kind": c.kind,
        "tiny_network_origin_minimum_ratio": float(c.minimum_ratio),
        "escape_direction": [float(v) for v in direction],
        "escape_point": [float(v) for v in esc.x],
        "escape_loss_drop": float(esc.loss_drop),
        "escape_reached_valley": bool(abs(float(np.prod(esc.x)) - 1.0) < 1e-6),
        "gd_lr": lr,
        "gd_grad_tol": grad_tol,
        "gd_start": [float(v) for v in start],
        "gd_start_grad_norm": start_grad,
        "gd_stalled_reason": stalled.reason,
        "gd_stalled_x": [float(v) for v in stalled.x],
        "gd_stalled_loss": float(stalled.loss),
        "gd_stalled_steps": int(stalled.steps),
        "gd_stalled_grad_norm": float(stalled.grad_norm),
        "gd_escaped_x": [float(v) for v in escaped.x],
        "gd_escaped_loss": float(escaped.loss),
        "gd_escaped_w1w2": product,
        "gd_escaped_reached_valley": bool(abs(product - 1.0) < 1e-3),
        "gd_nearby_start": [float(v) for v in off],
        "gd_nearby_x": [float(v) for v in nearby.x],
        "gd_nearby_steps": int(nearby.steps),
        "gd_nearby_w1w2": near_product,
        "gd_nearby_steps_loss_above_0_99": near_saddle_steps,
        "himmelblau_points": [[float(v) for v in p] for p in points],
        "himmelblau_point_kinds": kinds,
        "himmelblau_kinds": counts,
        "himmelblau_classification_agrees": agree,
        "himmelblau_critical_points": len(points),
    }
    findings = [
        f"At the origin the Hessian is [[0, -2], [-2, 0]]: eigenvalues "
        f"{origin_eig[0]:.3g} and {origin_eig[1]:.3g}, a {c.kind} "
        f"(minimum ratio {c.minimum_ratio:.2f}); the escape direction is "
        f"±({direction[0]:.3f}, {direction[1]:.3f}).",
        f"A line search along it lowers the loss by {esc.loss_drop:.3g} and lands at "
        f"({esc.x[0]:.4f}, {esc.x[1]:.4f}), on the valley w1*w2 = 1.",
        f"Gradient descent from (0.8, -0.8), on the saddle's attracting line w1 = -w2: "
        f"the gradient norm falls from {start_grad:.3g} to {stalled.grad_norm:.2g}, below "
        f"the tolerance {grad_tol:g}, after {stalled.steps} steps at "
        f"({stalled.x[0]:.1e}, {stalled.x[1]:.1e}); the loss is {stalled.loss:.4g}, the "
        "saddle's value, not the minimum 0. The gradient vanished at a saddle.",
        f"From the same start with escape_saddles=True the run ends at loss "
        f"{escaped.loss:.2g} with w1*w2 = {product:.6f}: on the valley of minima.",
        f"Started 0.01 off that line, plain gradient descent leaves the saddle by itself: "
        f"w1*w2 = {near_product:.6f} after {nearby.steps} steps, {near_saddle_steps} of them "
        "with the loss above 0.99. Exact stalls need a start on the attracting line; next "
        "to it gradient descent slows down near the saddle but does not stop.",
        f"Himmelblau: {counts['minimum']} minima, {counts['saddle']} saddles, "
        f"{counts['maximum']} maximum, classified from the Hessian; {agree} of {len(points)} "
        "agree with the known kinds.",
    ]
    return Section(
        key="critical_points",
        title="Critical points: a small gradient is not a minimum",
        claim="Where the gradient vanishes, the Hessian's eigenvalues decide: all positive is "
        "a local minimum, mixed signs a saddle with a way down along the eigenvector of the "
        "most negative eigenvalue.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        verdict="reproduced"
        if c.kind == "saddle"
        and agree == len(points)
        and stalled.reason == "saddle"
        and abs(product - 1.0) < 1e-3
        else "partly",
        verdict_note="The Hessian tells the saddle from the minima on both surfaces, and "
        "the escape direction leads to the valley; gradient descent stops at the saddle "
        "only when started on its attracting line, next to it it slows down and leaves.",
        references=[
            "Nocedal, Wright 2006, 'Numerical Optimization', 2nd ed., second-order conditions",
            "Dauphin et al. 2014 (escape along negative curvature)",
        ],
        alt=[
            "Two contour maps. Left: three gradient-descent paths on the tiny network's "
            "loss, one ending at the central saddle, two reaching the curved valley. Right: "
            "Himmelblau's function with its nine critical points marked.",
        ],
    )
