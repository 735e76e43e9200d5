"""Section 3: batch size — time per update and per epoch, accuracy and sharpness."""

from __future__ import annotations

from .page import Section
from .runner import Context


def run(ctx: Context) -> Section:
    from .. import data, experiments, models
    from ..experiments import plot_batch_size_study

    sizes = (4, 32, 256, 1024) if ctx.quick else (1, 4, 16, 64, 256, 1024)
    df = experiments.batch_size_study(
        models.MLP([64, 32, 10]),
        data.digits(seed=ctx.seed),
        sizes,
        epochs=1 if ctx.quick else 4,
        seed=ctx.seed,
        sharpness=not ctx.quick,
        blas_threads=1,
    )
    fig = plot_batch_size_study(df)
    fig = getattr(fig, "figure", fig)
    figure = ctx.save(
        fig,
        "batch_size",
        "Digits (8x8), MLP 64-32-10, SGD: time per update and "
        "per epoch, accuracy, and sharpness at the end against batch size.",
    )
    table = [
        {
            "batch": int(r["batch_size"]),
            "updates/epoch": int(r["updates_per_epoch"]),
            "µs/update": 1e6 * float(r["seconds_per_update"]),
            "ms/epoch": 1e3 * float(r["seconds_per_epoch"]),
            "train acc": float(r["train_accuracy"]),
            "val acc": float(r["val_accuracy"]),
            "top eigenvalue": float(r["top_eigenvalue"]),
            "sharpness %": float(r["sharpness"]),
        }
        for _, r in df.iterrows()
    ]
    small, large = table[0], table[-1]
    growth = large["µs/update"] / small["µs/update"]
    batch_growth = large["batch"] / small["batch"]
    numbers = {"rows": table, "update_time_growth": growth, "batch_growth": batch_growth}
    findings = [
        f"From batch {small['batch']} to {large['batch']} ({batch_growth:.0f}x more samples) "
        f"the time per update grows only {growth:.1f}x, so an epoch takes "
        f"{small['ms/epoch']:.1f} ms against {large['ms/epoch']:.1f} ms: vectorized code, "
        "like a GPU, is cheaper per sample in large batches.",
        f"Validation accuracy after the same epochs: {small['val acc']:.3f} with batch "
        f"{small['batch']} and {large['val acc']:.3f} with batch {large['batch']} "
        "(more, noisier updates per epoch).",
    ]
    if not ctx.quick:
        findings.append(
            f"Top Hessian eigenvalue at the end: {small['top eigenvalue']:.3g} (batch "
            f"{small['batch']}) against {large['top eigenvalue']:.3g} (batch {large['batch']}); "
            "compare sharpness at similar training loss (Keskar et al. 2017)."
        )
    return Section(
        key="batch_size",
        title="Batch size: speed per epoch against noise",
        claim="Large batches cost little more per update on parallel hardware, so an epoch is "
        "faster; small batches give noisy gradients that help escape critical points and tend "
        "to flatter minima that generalise better.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        table=table,
    )
