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
    direction = c.escape_direction
    assert direction is not None, "the tiny network's origin is a saddle"
    esc = hessian.escape(lambda w: float(tiny.value(w)), origin, direction)

    # Gradient descent started next to the saddle crawls; started on it, it never moves.
    steps = 200 if ctx.quick else 400
    near = np.array([1e-4, -1e-4])
    stalled = minimize(tiny, "sgd", lr=0.05, x0=near, steps=steps, grad_tol=1e-3)
    escaped = minimize(
        tiny, "sgd", lr=0.05, x0=near, steps=steps, grad_tol=1e-3, escape_saddles=True
    )
    product = float(np.prod(escaped.x))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    plot_surface(
        tiny,
        {"GD (stalls)": stalled.trajectory, "GD + saddle escape": escaped.trajectory},
        ax=axes[0],
        bounds=((-1.6, 1.6), (-1.6, 1.6)),
    )
    axes[0].set_title("L(w1, w2) = (1 - w1 w2)^2")

    # Himmelblau: every listed critical point, classified from its exact Hessian.
    him = surfaces.get("himmelblau")
    points = [cp.point for cp in him.critical_points]
    kinds = [hessian.classify(him.hessian(p)).kind for p in points]
    agree = sum(k == cp.kind for k, cp in zip(kinds, him.critical_points))
    plot_surface(him, ax=axes[1])
    axes[1].set_title("Himmelblau: critical points by Hessian")
    figure = ctx.save(
        fig,
        "critical_points",
        "Left: gradient descent next to the tiny "
        "network's saddle, with and without escape along negative curvature. "
        "Right: Himmelblau's critical points (circle minimum, cross saddle, "
        "triangle maximum).",
    )
    counts = {k: kinds.count(k) for k in ("minimum", "saddle", "maximum", "degenerate")}
    stall_event = next((e for e in stalled.events if e.kind == "saddle"), None)
    numbers = {
        "tiny_network_origin_eigenvalues": [float(w) for w in c.eigenvalues],
        "tiny_network_origin_kind": c.kind,
        "tiny_network_origin_minimum_ratio": float(c.minimum_ratio),
        "escape_direction": [float(v) for v in direction],
        "escape_point": [float(v) for v in esc.x],
        "escape_loss_drop": float(esc.loss_drop),
        "escape_reached_valley": bool(abs(float(np.prod(esc.x)) - 1.0) < 1e-6),
        "gd_stalled_reason": stalled.reason,
        "gd_stalled_x": [float(v) for v in stalled.x],
        "gd_stalled_loss": float(stalled.loss),
        "gd_stall_step": None if stall_event is None else int(stall_event.step),
        "gd_escaped_x": [float(v) for v in escaped.x],
        "gd_escaped_loss": float(escaped.loss),
        "gd_escaped_w1w2": product,
        "gd_escaped_reached_valley": bool(abs(product - 1.0) < 1e-3),
        "himmelblau_points": [[float(v) for v in p] for p in points],
        "himmelblau_point_kinds": kinds,
        "himmelblau_kinds": counts,
        "himmelblau_classification_agrees": agree,
        "himmelblau_critical_points": len(points),
    }
    findings = [
        f"At the origin the Hessian is [[0, -2], [-2, 0]]: eigenvalues "
        f"{c.eigenvalues[0]:.3g} and {c.eigenvalues[1]:.3g}, a {c.kind} "
        f"(minimum ratio {c.minimum_ratio:.2f}); the escape direction is "
        f"±({direction[0]:.3f}, {direction[1]:.3f}).",
        f"A line search along it lowers the loss by {esc.loss_drop:.3g} and lands at "
        f"({esc.x[0]:.4f}, {esc.x[1]:.4f}), on the valley w1*w2 = 1.",
        f"Gradient descent started 1e-4 from the saddle: {stalled.message} "
        f"(loss {stalled.loss:.4g}).",
        f"With escape_saddles=True the same run ends at loss {escaped.loss:.3g} with "
        f"w1*w2 = {product:.6f}.",
        f"Himmelblau: {counts['minimum']} minima, {counts['saddle']} saddles, "
        f"{counts['maximum']} maximum, classified from the Hessian; {agree} of {len(points)} "
        "agree with the known kinds.",
    ]
    return Section(
        key="critical_points",
        title="1. Critical points: a small gradient is not a minimum",
        claim="Where the gradient vanishes, the Hessian's eigenvalues decide: all positive is "
        "a local minimum, mixed signs a saddle with a way down along the eigenvector of the "
        "most negative eigenvalue.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
    )
