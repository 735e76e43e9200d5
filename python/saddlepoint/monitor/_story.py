"""Monitor.explain(): the run told in words, from its own numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _g(x: float) -> str:
    return f"{x:.4g}"


def _median(values: Any) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(np.median(arr)) if arr.size else math.nan


def _mean(values: Any) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else math.nan


def explain(mon: Any) -> str:
    c = mon.columns()
    n = c["step"].size
    if n == 0:
        return "No steps observed yet: call Monitor.observe(loss, grad) once per step."
    who = type(mon.optimizer).__name__ if mon.optimizer is not None else "a loop of its own"
    loss = c["loss"]
    finite = loss[np.isfinite(loss)]
    lines = [
        f"Watched {n} steps of {who} on {mon.dim:,} parameters.",
        (
            f"Loss {_g(loss[0])} at the start, {_g(loss[-1])} at the end"
            + (f" (best {_g(float(finite.min()))})." if finite.size else ".")
        ),
    ]
    w = min(mon.window, n)
    tail = slice(n - w, n)
    measured = [
        f"gradient norm {_g(c['grad_norm'][0])} -> {_g(c['grad_norm'][-1])}",
        f"mean cosine between successive updates over the last {w} steps "
        f"{_g(_mean(c['cos_update'][tail]))}",
        f"median step-size quality alpha {_g(_median(c['alpha'][tail]))} "
        "(-1 too short, 0 onto the valley floor, +1 across the valley)",
        f"distance from the start {_g(c['distance'][-1])}",
    ]
    sr = c["stability_ratio"][np.isfinite(c["stability_ratio"])]
    if sr.size:
        checks = np.flatnonzero(np.isfinite(c["lambda_max"]))
        products = c["curvature_products"][checks]
        measured.append(
            f"{checks.size} curvature checks: lambda_min {_g(c['lambda_min'][checks[-1]])}, "
            f"lambda_max {_g(c['lambda_max'][checks[-1]])}, stability ratio {_g(sr[-1])} at the "
            f"last; {int(products[0])} Hessian-vector products for the first check, median "
            f"{_g(float(np.median(products[1:])) if products.size > 1 else products[0])} after"
        )
    else:
        measured.append("curvature not measured (no hvp given)")
    noise = c["noise_scale"][np.isfinite(c["noise_scale"]) | np.isinf(c["noise_scale"])]
    if noise.size:
        measured.append(f"gradient noise scale B_simple {_g(float(np.median(noise)))} (median)")
    lines.append("Measured: " + "; ".join(measured) + ".")
    events = mon.events
    if not events:
        lines.append(
            "No problem found: no verdict fired (see saddlepoint.monitor.EVENT_KINDS and "
            "Thresholds for what each would need)."
        )
    for e in events:
        lines.append(f"Step {e.step}: [{e.kind}] {e.message}")
    return "\n".join(lines)
