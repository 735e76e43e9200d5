"""Section 7: the fused kernels against NumPy (and PyTorch) on this machine."""

from __future__ import annotations

from typing import Any

from .. import benchmark
from .page import Section
from .runner import Context, cpu_model

# Arrays of n float32 values a step reads or writes, as the benchmark counts them: Adam reads
# the parameters, gradient and both moments and writes three of them back (7 passes), momentum
# reads parameters, gradient and velocity and writes two (5); np.copyto reads one and writes one.
PASSES = {"adam": 7, "momentum": 5, "copy": 2}


def _sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant figures (one format for every number shown)."""
    return float(f"{x:.{digits}g}")


def _show(x: float) -> str:
    """Three significant figures, never in exponent notation: 1.95, 20.2, 1,380."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:#.3g}"


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
    numbers: dict[str, Any] = {"passes_over_n_floats": PASSES}
    for m in results:
        label = f"{m.kind} n={m.n:,}" + (f" ({m.arrays} arrays)" if m.arrays > 1 else "")
        row: dict[str, Any] = {
            "step": label,
            "saddlepoint µs": _sig(m.us["object"]),
            "NumPy in place µs": _sig(m.us["numpy_inplace"]),
            "x NumPy in place": _sig(m.ratio("numpy_inplace", "object") or 0),
        }
        if "copy" in m.gbps:
            row["step GB/s"] = _sig(m.gbps["object"])
            row["copy GB/s"] = _sig(m.gbps["copy"])
            row["% of copy GB/s"] = round(100 * m.gbps["object"] / m.gbps["copy"])
        if "torch_fused" in m.us:
            row["x torch fused"] = _sig(m.ratio("torch_fused", "object") or 0)
        rows.append(row)
        numbers[label] = {
            **row,
            "us": {k: float(v) for k, v in m.us.items()},
            "gbps": {k: float(v) for k, v in m.gbps.items()},
            "n": m.n,
            "arrays": m.arrays,
        }

    fig, ax = plt.subplots(figsize=(7.5, 3.6), layout="constrained")
    labels = [str(r["step"]) for r in rows]
    y = np.arange(len(rows))
    ratios = [float(r["x NumPy in place"]) for r in rows]
    ax.barh(y, ratios, color="#3a6ea5")
    for yi, r in zip(y, ratios):
        ax.text(r * 1.03, float(yi), f"{_show(r)}x", va="center", fontsize="small")
    ax.set_yticks(y, labels)
    ax.set_xscale("log")
    hi = max([*ratios, 1.0]) * 2
    ax.set_xlim(0.5, hi)
    ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100) if t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xlabel("speed-up over NumPy in place, log scale (same run, float32, one thread)")
    ax.invert_yaxis()
    figure = ctx.save(
        fig,
        "speed",
        "Fused optimizer steps against the same update written in place with NumPy, as "
        "time per NumPy step over time per fused step; 1 (black line) is equal speed. "
        f"float32, one thread, on {cpu_model()}.",
    )

    adam = [m for m in results if m.kind == "adam" and m.arrays == 1]
    over = [
        (str(r["step"]), m.n) for r, m in zip(rows, results) if r.get("% of copy GB/s", 0) > 100
    ]
    findings = [
        f"Adam at n={m.n:,}: {_show(m.us['object'])} µs per step, "
        f"{_show(m.ratio('numpy_inplace', 'object') or 0)}x NumPy in place"
        + (
            f", {_show(m.ratio('torch_fused', 'object') or 0)}x torch fused"
            if "torch_fused" in m.us
            else ""
        )
        + "."
        for m in adam
    ]
    findings.append(
        "GB/s counts the bytes a step must move: 7 passes over n float32 values for Adam "
        "(reads parameters, gradient and both moments, writes three back), 5 for momentum, "
        "2 for np.copyto (one read, one write). '% of copy' is the step's GB/s over np.copyto's "
        "GB/s at the same n in the same run: near 100% the fused step moves its bytes as fast "
        "as a plain copy, the memory-bound limit."
    )
    if over:
        findings.append(
            "Above 100% ("
            + ", ".join(label for label, _ in over)
            + "): the step moved its counted bytes faster than a copy of the same n. Not "
            "measured here, but likely: a copy writes to a destination it has not read, which "
            "costs the CPU an extra read of each line (write-allocate) that the count leaves "
            "out, while an in-place step writes only lines it has just read"
            + (
                "; and at small n the arrays sit in cache and a call's fixed overhead weighs "
                "more on the copy's fewer bytes."
                if any(n <= 100_000 for _, n in over)
                else "."
            )
        )
    return Section(
        key="speed",
        title="Speed: one pass over memory",
        claim="An optimizer step is memory-bound: a fused step that reads and writes each array "
        "once beats NumPy's dozen passes, and per-call overhead decides small models.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        # shown as text in one format (the page's default would print 21300 as 2.13e+04)
        table=[{k: _show(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows],
        verdict="reproduced"
        if all(float(m.ratio("numpy_inplace", "object") or 0) > 1.0 for m in adam)
        else "partly",
        verdict_note="The fused Adam step is faster than NumPy's in-place update at every "
        "size measured ("
        + ", ".join(f"{_show(m.ratio('numpy_inplace', 'object') or 0)}x" for m in adam)
        + ")"
        + (
            f"; at n={adam[-1].n:,} it moves its counted bytes at "
            f"{round(100 * adam[-1].gbps['object'] / adam[-1].gbps['copy'])}% of a copy's rate."
            if adam and "copy" in adam[-1].gbps
            else "."
        ),
        references=["McCalpin, STREAM benchmark (copy bandwidth as the yardstick)"],
        alt=[
            "Horizontal bars on a log axis: how many times faster each fused step is than "
            "NumPy in place, one bar per optimizer and array size, with a line at 1x.",
        ],
    )
