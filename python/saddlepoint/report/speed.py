"""Section 7: the fused kernels against NumPy (and PyTorch) on this machine."""

from __future__ import annotations

from typing import Any

from .. import benchmark
from .page import Section
from .runner import Context


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt
    import numpy as np

    sizes = (1_000, 100_000, 1_000_000) if ctx.quick else (1_000, 100_000, 10_000_000)
    results = benchmark.run(
        sizes=sizes,
        dtypes=("float32",),
        threads=(1,),
        kinds=("adam", "momentum"),
        budget=0.05 if ctx.quick else 0.25,
        model_like=not ctx.quick,
        torch=not ctx.quick,
    )
    rows: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {}
    for m in results:
        label = f"{m.kind} n={m.n:,}" + (f" ({m.arrays} arrays)" if m.arrays > 1 else "")
        row = {
            "step": label,
            "saddlepoint µs": round(m.us["object"], 3),
            "NumPy in place µs": round(m.us["numpy_inplace"], 3),
            "x NumPy in place": round(m.ratio("numpy_inplace", "object") or 0, 2),
        }
        if "copy" in m.gbps:
            row["% of copy GB/s"] = round(100 * m.gbps["object"] / m.gbps["copy"])
        if "torch_fused" in m.us:
            row["x torch fused"] = round(m.ratio("torch_fused", "object") or 0, 2)
        rows.append(row)
        numbers[label] = row

    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    labels = [str(r["step"]) for r in rows]
    y = np.arange(len(rows))
    ax.barh(y, [float(r["x NumPy in place"]) for r in rows], color="#3a6ea5")
    ax.set_yticks(y, labels)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("speed-up over NumPy in place (same run, float32, one thread)")
    ax.invert_yaxis()
    figure = ctx.save(fig, "speed", "Fused optimizer steps against NumPy written in place.")

    adam = [m for m in results if m.kind == "adam" and m.arrays == 1]
    findings = [
        f"Adam at n={m.n:,}: {m.us['object']:.2f} µs per step, "
        f"{m.ratio('numpy_inplace', 'object'):.1f}x NumPy in place"
        + (
            f", {m.ratio('torch_fused', 'object'):.2f}x torch fused"
            if "torch_fused" in m.us
            else ""
        )
        for m in adam
    ]
    return Section(
        key="speed",
        title="7. Speed: one pass over memory",
        claim="An optimizer step is memory-bound: a fused step that reads and writes each array "
        "once beats NumPy's dozen passes, and per-call overhead decides small models.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        table=rows,
    )
