"""Section 3: batch size, like with like (every batch size trained to the same training
loss) and the lecture's same-epochs comparison with its timings."""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import Section
from .runner import Context, cpu_model


def _mean_sd(values: Any) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def _larger(a: list[float], b: list[float]) -> bool:
    """Mean of ``b`` above the mean of ``a`` by more than the two standard deviations
    together: a difference the seeds' spread does not explain."""
    (ma, sa), (mb, sb) = _mean_sd(a), _mean_sd(b)
    return mb - ma > sa + sb


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import data, experiments, models

    model = models.MLP([64, 32, 10])
    ds = data.digits(seed=ctx.seed)
    # like with like: the same training loss for every batch size
    target_sizes = (16, 128, 1024) if ctx.quick else (1, 4, 16, 64, 256, 1024)
    lr_grid = (0.1, 0.3, 1.0) if ctx.quick else (0.03, 0.1, 0.3, 1.0, 3.0)
    seeds = tuple(ctx.seed + s for s in ((0, 1) if ctx.quick else (0, 1, 2, 3, 4)))
    target = 0.05
    like = experiments.batch_size_target_study(
        model,
        ds,
        target_sizes,
        target_loss=target,
        seeds=seeds,
        lr_grid=lr_grid,
        blas_threads=1,
    )
    # the lecture's comparison: the same epochs, timed at one and at two BLAS threads
    sizes = (4, 32, 256, 1024) if ctx.quick else (1, 4, 16, 64, 256, 1024)
    epochs = 1 if ctx.quick else 4
    same: dict[int, Any] = {}
    for threads in (1, 2):
        same[threads] = experiments.batch_size_study(
            model, ds, sizes, epochs=epochs, seed=ctx.seed, sharpness=False,
            blas_threads=threads,
        )  # fmt: skip

    per_batch: dict[int, dict[str, Any]] = {}
    for b, g in like.groupby("batch_size", sort=True):
        per_batch[int(b)] = {
            "lr": float(g["lr"].iloc[0]),
            "seeds": [int(s) for s in g["seed"]],
            "updates": [int(v) for v in g["updates"]],
            "epochs": [int(v) for v in g["epochs"]],
            "reached": [bool(v) for v in g["reached"]],
            "train_loss": [float(v) for v in g["train_loss"]],
            "val_loss": [float(v) for v in g["val_loss"]],
            "train_accuracy": [float(v) for v in g["train_accuracy"]],
            "val_accuracy": [float(v) for v in g["val_accuracy"]],
            "top_eigenvalue": [float(v) for v in g["top_eigenvalue"]],
            "sharpness": [float(v) for v in g["sharpness"]],
        }
    small, large = min(per_batch), max(per_batch)
    S, L = per_batch[small], per_batch[large]
    gap = {b: [t - v for t, v in zip(p["train_accuracy"], p["val_accuracy"])]
           for b, p in per_batch.items()}  # fmt: skip
    comparison = {
        "top_eigenvalue_larger_at_large_batch": _larger(S["top_eigenvalue"], L["top_eigenvalue"]),
        "sharpness_larger_at_large_batch": _larger(S["sharpness"], L["sharpness"]),
        "val_accuracy_lower_at_large_batch": _larger(L["val_accuracy"], S["val_accuracy"]),
        "gap_larger_at_large_batch": _larger(gap[small], gap[large]),
    }
    held = sum(comparison.values())
    # the same test the other way round: a difference beyond the spread against the claim
    opposite = {
        "top_eigenvalue_larger_at_large_batch": _larger(L["top_eigenvalue"], S["top_eigenvalue"]),
        "sharpness_larger_at_large_batch": _larger(L["sharpness"], S["sharpness"]),
        "val_accuracy_lower_at_large_batch": _larger(S["val_accuracy"], L["val_accuracy"]),
        "gap_larger_at_large_batch": _larger(gap[large], gap[small]),
    }
    names = {
        "top_eigenvalue_larger_at_large_batch": "larger λmax",
        "sharpness_larger_at_large_batch": "larger ε-sharpness",
        "val_accuracy_lower_at_large_batch": "lower validation accuracy",
        "gap_larger_at_large_batch": "larger train-validation gap",
    }

    def outcome(key: str) -> str:
        if comparison[key]:
            return "holds"
        return "the opposite holds" if opposite[key] else "no difference beyond the spread"

    outcomes = {names[k]: outcome(k) for k in comparison}

    # figure 1: like with like
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    bs = np.array(sorted(per_batch))
    for ax, key, label in (
        (axes[0], "top_eigenvalue", "λmax of the training-loss Hessian"),
        (axes[1], "sharpness", "ε-sharpness (%), ε = 1e-3"),
    ):
        for b in bs:
            v = per_batch[b][key]
            ax.plot([b] * len(v), v, "o", color="C0", alpha=0.45, ms=5)
        means = [_mean_sd(per_batch[b][key]) for b in bs]
        ax.errorbar(bs, [m for m, _ in means], yerr=[s for _, s in means], fmt="s-",
                    color="k", capsize=4, label="mean ± sd over seeds")  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_xticks(bs, [str(b) for b in bs])
        ax.set(xlabel="batch size", ylabel=label, title=label.split(" (")[0].split(" of")[0])
        ax.legend(loc="upper left", fontsize="small")
    for key, label, marker in (("train_accuracy", "training", "o"),
                               ("val_accuracy", "validation", "s")):  # fmt: skip
        means = [_mean_sd(per_batch[b][key]) for b in bs]
        axes[2].errorbar(bs, [m for m, _ in means], yerr=[s for _, s in means],
                         fmt=marker + "-", capsize=4, label=label)  # fmt: skip
    axes[2].set_xscale("log", base=2)
    axes[2].set_xticks(bs, [str(b) for b in bs])
    axes[2].set(xlabel="batch size", ylabel="accuracy", ylim=(0.9, 1.005),
                title=f"accuracy at training loss < {target}")  # fmt: skip
    axes[2].legend(loc="lower left", fontsize="small")
    fig1 = ctx.save(
        fig,
        "batch_size_target",
        f"Like with like: each batch size trained by plain SGD until the full training loss "
        f"is below {target} (cross-entropy), lr tuned per batch size on the first seed "
        f"(grid {', '.join(f'{v:g}' for v in lr_grid)}), then {len(seeds)} seeds (different "
        "initialisations and orders). Dots "
        "are seeds, squares their mean with one standard deviation. Digits 8x8, MLP "
        f"64-32-10 (ReLU, {model.n_params} parameters), {ds.n_train} training and "
        f"{ds.n_val} validation images.",
    )

    # figure 2: the same epochs (the lecture's comparison), timed
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for threads, ls in ((1, "-"), (2, "--")):
        df = same[threads]
        axes[0].loglog(
            df["batch_size"],
            1e3 * df["seconds_per_update"],
            "o" + ls,
            color="C0",
            label=f"ms per update, {threads} BLAS thread{'s' * (threads > 1)}",
        )
        axes[0].loglog(
            df["batch_size"],
            1e3 * df["seconds_per_epoch"],
            "s" + ls,
            color="C1",
            label=f"ms per epoch, {threads} BLAS thread{'s' * (threads > 1)}",
        )
    axes[0].set(xlabel="batch size", ylabel="milliseconds", title="time (this CPU)")
    axes[0].legend(fontsize="small")
    df = same[1]
    axes[1].semilogx(df["batch_size"], df["train_accuracy"], "o-", label="training")
    axes[1].semilogx(df["batch_size"], df["val_accuracy"], "s--", label="validation")
    axes[1].axhline(0.1, color="0.5", lw=0.8, ls=":", label="chance (10 classes)")
    axes[1].set(xlabel="batch size", ylabel="accuracy", ylim=(0, 1.02),
                title=f"accuracy after the same {epochs} epoch{'s' * (epochs > 1)}")  # fmt: skip
    axes[1].legend(fontsize="small", loc="lower left")
    fig2 = ctx.save(
        fig,
        "batch_size_same_epochs",
        f"The lecture's comparison, the same {epochs} epoch{'s' * (epochs > 1)} for every "
        "batch size (lr 0.05, one start): large batches make few updates and are barely "
        "trained, so their accuracy says nothing about sharp or flat minima. Left: median "
        f"time per update and per epoch on {cpu_model()}, with NumPy's BLAS held at one and "
        "at two threads (gradient included, evaluation excluded).",
    )

    timing = {}
    for threads, df in same.items():
        timing[str(threads)] = [
            {
                "batch": int(r["batch_size"]),
                "updates_per_epoch": int(r["updates_per_epoch"]),
                "us_per_update": 1e6 * float(r["seconds_per_update"]),
                "ms_per_epoch": 1e3 * float(r["seconds_per_epoch"]),
                "train_accuracy": float(r["train_accuracy"]),
                "val_accuracy": float(r["val_accuracy"]),
            }
            for _, r in df.iterrows()
        ]
    t1 = timing["1"]
    growth = t1[-1]["us_per_update"] / t1[0]["us_per_update"]
    batch_growth = t1[-1]["batch"] / t1[0]["batch"]
    table = []
    for b in bs:
        p = per_batch[b]
        row: dict[str, Any] = {"batch": int(b), "lr": p["lr"],
                               "updates (median)": int(np.median(p["updates"]))}  # fmt: skip
        for key, name in (("train_loss", "train loss"), ("val_accuracy", "val acc"),
                          ("top_eigenvalue", "λmax"), ("sharpness", "ε-sharpness %")):  # fmt: skip
            m, s = _mean_sd(p[key])
            row[name] = f"{m:.3g} ± {s:.2g}"
        m, s = _mean_sd(gap[b])
        row["train - val acc"] = f"{m:.3f} ± {s:.3f}"
        table.append(row)
    numbers = {
        "target_train_loss": target,
        "seeds": list(seeds),
        "lr_tuning": like.attrs["lr_tuning"],
        "per_batch": {str(b): v for b, v in per_batch.items()},
        "comparison_smallest_vs_largest": comparison,
        "opposite_smallest_vs_largest": opposite,
        "smallest_batch": int(small),
        "largest_batch": int(large),
        "same_epochs": epochs,
        "same_epochs_lr": 0.05,
        "timing_by_blas_threads": timing,
        "update_time_growth": growth,
        "batch_growth": batch_growth,
        "cpu": cpu_model(),
    }

    def ms(key: str, b: int) -> str:
        m, s = _mean_sd(per_batch[b][key])
        return f"{m:.3g} ± {s:.2g}"

    t2 = timing["2"]
    findings = [
        f"Trained to training loss < {target}: batch {small} needs a median "
        f"{int(np.median(S['updates']))} updates at lr {S['lr']:g}, batch {large} "
        f"{int(np.median(L['updates']))} at lr {L['lr']:g}; every run reached the target: "
        f"{all(all(p['reached']) for p in per_batch.values())}.",
        f"λmax (mean ± sd over {len(seeds)} seeds): {ms('top_eigenvalue', small)} at batch "
        f"{small}, {ms('top_eigenvalue', large)} at batch {large}; ε-sharpness "
        f"{ms('sharpness', small)} % against {ms('sharpness', large)} %.",
        f"Validation accuracy {ms('val_accuracy', small)} (batch {small}) against "
        f"{ms('val_accuracy', large)} (batch {large}); train minus validation accuracy "
        f"{_mean_sd(gap[small])[0]:.3f} against {_mean_sd(gap[large])[0]:.3f}.",
        f"Of the four predictions (larger λmax, larger ε-sharpness, lower validation accuracy, "
        f"larger gap at batch {large} than at {small}, each by more than the seeds' spread) "
        f"{held} hold here: " + "; ".join(f"{k}: {v}" for k, v in outcomes.items()) + ".",
        f"Same {epochs} epoch{'s' * (epochs > 1)}, one BLAS thread: from batch {t1[0]['batch']} "
        f"to {t1[-1]['batch']} ({batch_growth:.0f}x the samples) the time per update grows "
        f"{growth:.1f}x, so an epoch takes {t1[0]['ms_per_epoch']:.3g} ms against "
        f"{t1[-1]['ms_per_epoch']:.3g} ms. With two BLAS threads: "
        f"{t2[0]['ms_per_epoch']:.3g} ms against {t2[-1]['ms_per_epoch']:.3g} ms (the second "
        f"thread is {'faster' if t2[-1]['ms_per_epoch'] < t1[-1]['ms_per_epoch'] else 'slower'}"
        f" at batch {t1[-1]['batch']} on these small matrices).",
        f"After the same epochs batch {t1[-1]['batch']} reaches training accuracy "
        f"{t1[-1]['train_accuracy']:.2f} (chance 0.10): too few updates to compare minima, "
        "hence the like-with-like runs above.",
    ]
    if held == 4:
        verdict = "reproduced"
    elif held > 0:
        verdict = "partly"
    else:
        verdict = "partly" if growth < batch_growth else "not at this scale"
    return Section(
        key="batch_size",
        title="Batch size: speed per epoch against noise",
        claim="Large batches cost little more per update on parallel hardware, so an epoch is "
        "faster; small batches give noisy gradients that help escape critical points and tend "
        "to flatter minima that generalise better.",
        figures=[fig1, fig2],
        numbers=numbers,
        findings=findings,
        table=table,
        verdict=verdict,
        verdict_note=f"Speed per epoch: {'reproduced' if growth < batch_growth else 'not here'}. "
        "Sharp minima and worse generalisation at "
        f"large batch: {held} of 4 predictions hold at equal training loss on this small "
        "problem ("
        + "; ".join(f"{k}: {v}" for k, v in outcomes.items())
        + ")"
        + (" (not at this scale)." if held == 0 else "."),
        alt=[
            "Three panels against batch size on a log axis: top eigenvalue, epsilon-sharpness, "
            "and training and validation accuracy, each with one dot per seed and a mean "
            "with error bars.",
            "Two panels: time per update rising slowly and time per epoch falling with batch "
            "size at one and two BLAS threads; accuracy after the same epochs falling to "
            "chance at large batches.",
        ],
        references=[
            "Keskar, Mudigere, Nocedal, Smelyanskiy, Tang 2017, 'On large-batch training for "
            "deep learning: generalization gap and sharp minima'",
        ],
        notes=[
            "ε-sharpness (Keskar et al., metric 2.1): the largest rise of the training loss "
            "within the box |δᵢ| ≤ ε(|θᵢ| + 1) around the end point θ, relative to 1 + L(θ), "
            "in percent: 100 · (max L(θ + δ) - L(θ)) / (1 + L(θ)), the maximum "
            "approximated by 10 L-BFGS-B iterations from two starts. λmax: the largest "
            "eigenvalue of the exact training-loss Hessian (Lanczos on Hessian-vector "
            "products).",
        ],
    )
