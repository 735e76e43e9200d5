"""Section 5: adaptive learning rates and schedules on elongated bowls."""

from __future__ import annotations

from typing import Any

import numpy as np

from .page import Section
from .runner import Context

_TARGET = 1e-6  # "converged": the loss stays below this for the rest of the budget
_BUDGET = 1000
_START = (-9.0, 1.0)

# label -> (minimize keywords without lr, learning-rate grid, line style); a grid given as a
# fraction multiplies 2 / kappa, the stability limit of plain GD on that bowl
_METHODS: dict[str, tuple[dict[str, Any], tuple[float, ...], bool, Any]] = {
    "GD": ({"optimizer": "sgd"}, (0.975, 0.75, 0.5), True, "-"),
    "momentum 0.9": ({"optimizer": "sgd", "momentum": 0.9}, (0.975, 0.5, 0.25, 0.1), True, "--"),
    "Adagrad": ({"optimizer": "adagrad"}, (0.1, 0.3, 1.0, 3.0), False, "-."),
    "RMSprop": ({"optimizer": "rmsprop"}, (0.003, 0.01, 0.03, 0.1, 0.3), False, ":"),
    "Adam β1=0.9": ({"optimizer": "adam"}, (0.03, 0.1, 0.3, 1.0), False, (0, (5, 1, 1, 1))),
    "Adam β1=0 (no momentum)": (
        {"optimizer": "adam", "betas": (0.0, 0.999)},
        (0.03, 0.1, 0.3, 1.0),
        False,
        (0, (1, 1)),
    ),
}


def _steps_to_stay_below(loss: np.ndarray, level: float) -> int | None:
    """First step after which the loss never again exceeds ``level`` (None: not within the
    budget)."""
    above = np.flatnonzero(~(loss < level))
    if above.size == 0:
        return 0
    last = int(above[-1])
    return None if last == loss.size - 1 else last + 1


def _tuned(surface: Any, kappa: float) -> dict[str, dict[str, Any]]:
    """For each method the learning rate of its grid that converges in the fewest steps
    (the lowest final loss when none converges), with its whole run."""
    from ..train import minimize

    out = {}
    for label, (kw, grid, relative, _) in _METHODS.items():
        best: dict[str, Any] | None = None
        tried = []
        for g in grid:
            lr = g * 2.0 / kappa if relative else g
            res = minimize(surface, lr=lr, x0=list(_START), steps=_BUDGET, grad_tol=0.0, **kw)
            loss = np.asarray(res.history["loss"], dtype=float)
            steps = _steps_to_stay_below(loss, _TARGET)
            tried.append({"lr": lr, "steps_to_target": steps, "final_loss": float(loss[-1])})
            key = (steps is None, steps if steps is not None else 0, float(loss[-1]))
            if best is None or key < best["key"]:
                best = {"key": key, "lr": lr, "steps": steps, "loss": loss, "res": res}
        assert best is not None
        best["grid"] = tried
        out[label] = best
    return out


def run(ctx: Context) -> Section:
    import matplotlib.pyplot as plt

    from .. import experiments, schedules, surfaces
    from ..train import minimize

    presets = experiments.lecture_comparisons()
    kappas = (100.0, 1e4)
    bowls = {k: surfaces.ill_conditioned(k) for k in kappas}
    tuned = {k: _tuned(bowls[k], k) for k in kappas}
    # Plain GD at lr = 2/L exactly (L = 100, the steep axis' curvature): y <- (1 - 100 lr) y
    # = -y every step, so the loss stays at 50 y0^2 and the gradient at 100 |y0|: it bounces.
    bounce_lr = 0.02
    bounce = minimize(
        bowls[100.0], "sgd", lr=bounce_lr, x0=list(_START), steps=_BUDGET, grad_tol=0.0
    )
    verdict = next((e for e in bounce.events if e.kind in ("oscillation", "plateau")), None)
    bounce_loss = np.asarray(bounce.history["loss"], dtype=float)
    burst = experiments.optimizer_comparison(**presets["adagrad_burst"])

    burst_peak = {}
    for label, run in burst.groupby("label", sort=False):
        loss = run["loss"].to_numpy()
        low = np.minimum.accumulate(loss)
        burst_peak[str(label)] = float(np.max(loss / np.maximum(low, 1e-300)))
    lecture = burst[burst["label"] == "Adagrad, lecture RMS"]
    lec_loss = lecture["loss"].to_numpy(float)
    jumps = np.flatnonzero(lec_loss > 10.0 * np.minimum.accumulate(lec_loss))
    first_burst = int(lecture["step"].to_numpy()[jumps[0]]) if jumps.size else None
    fig, axes = plt.subplots(1, 3, figsize=(15, 6.4), layout="constrained")
    for ax, kappa in zip(axes[:2], kappas):
        for label, best in tuned[kappa].items():
            ls = _METHODS[label][3]
            ax.semilogy(
                np.maximum(best["loss"], 1e-30),
                ls=ls,
                lw=1.8,
                label=f"{label}, lr {best['lr']:.3g}",
            )
        ax.axhline(_TARGET, color="0.5", lw=0.8)
        ax.set(
            xlabel="step",
            ylabel="loss",
            ylim=(1e-30, 1e4),
            title=f"bowl (x² + {kappa:g} y²)/2, lr tuned per method",
        )
    axes[0].semilogy(
        np.maximum(bounce_loss, 1e-30),
        color="k",
        lw=2.5,
        label=f"GD, lr {bounce_lr} = 2/L (bounces)",
    )
    for ax in axes[:2]:
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    for (label, run), ls in zip(burst.groupby("label", sort=False), ("-", "--", "-.", ":")):
        axes[2].semilogy(
            run["step"], np.maximum(run["loss"], 1e-30), ls=ls, lw=1.8, label=str(label)
        )
    axes[2].set(xlabel="step", ylabel="loss", title="Adagrad's late burst and its fixes (κ 100)")
    axes[2].legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    figure = ctx.save(
        fig,
        "adaptive",
        f"Left and middle: every method from ({_START[0]:g}, {_START[1]:g}) for {_BUDGET} "
        "steps (no early stop), each at the learning rate of its small grid (listed in "
        "summary.json) that keeps the loss below 1e-6 soonest; the grey line is 1e-6. On the "
        "condition-100 bowl (left) the black line is plain GD at lr 0.02 = 2/L: the loss "
        "stays at 50. On the condition-10,000 bowl (middle), where GD and momentum must stay "
        "below 2/L of the steep axis: "
        + ", ".join(
            f"{k} {'reaches' if v['steps'] is not None else 'does not reach'} 1e-6"
            for k, v in tuned[1e4].items()
        )
        + " within the budget. Right: Adagrad in the lecture's root-mean-square form on the "
        "condition-100 bowl "
        + (
            f"bursts (the loss 10x above its best so far) first at step {first_burst}"
            if first_burst is not None
            else "does not burst here"
        )
        + "; largest rise above the best loss so far: "
        + ", ".join(f"{k} {v:.2g}x" for k, v in burst_peak.items())
        + " (decay is 1/(1 + t/50)).",
    )

    steps = np.arange(100)
    shown = {
        "step_decay(0.1, 30, gamma 0.5)": schedules.step_decay(0.1, step_size=30, gamma=0.5),
        "cosine(0.1, T_max=100)": schedules.cosine(0.1, T_max=100, eta_min=1e-3),
        "warmup_cosine(0.1, 10 warm-up)": schedules.warmup_cosine(
            0.1, warmup_steps=10, decay_steps=100
        ),
        "one_cycle(max 0.1, 100)": schedules.one_cycle(max_lr=0.1, total_steps=100),
        "noam(d=64, warm-up 10) / 3": schedules.noam(64, 10, factor=1 / 3),
    }
    fig2, ax = plt.subplots(figsize=(9, 3.6), layout="constrained")
    for (label, sched), ls in zip(shown.items(), ("-", "--", "-.", ":", (0, (5, 1, 1, 1)))):
        ax.plot(steps, np.asarray(sched(steps), dtype=float), ls=ls, lw=2, label=label)
    ax.set(xlabel="step", ylabel="learning rate", title="learning-rate schedules")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    figure2 = ctx.save(
        fig2,
        "schedules",
        "The schedules of saddlepoint.schedules over 100 steps: step decay, cosine decay, "
        "linear warm-up then cosine, one-cycle, and the Transformer's noam warm-up (scaled "
        "by 1/3 to share the axis).",
    )

    results: dict[str, Any] = {}
    for kappa in kappas:
        results[f"{kappa:g}"] = {
            label: {
                "lr": best["lr"],
                "steps_to_target": best["steps"],
                "final_loss": float(best["loss"][-1]),
                "loss_curve_every_10": [float(v) for v in best["loss"][::10]],
                "grid": best["grid"],
            }
            for label, best in tuned[kappa].items()
        }
    hard, easy = results["10000"], results["100"]
    numbers: dict[str, Any] = {
        "target_loss": _TARGET,
        "budget_steps": _BUDGET,
        "start": list(_START),
        "conditions": [float(k) for k in kappas],
        "tuned": results,
        "gd_bouncing": {
            "lr": bounce_lr,
            "x0": [float(v) for v in bounce.trajectory[0]],
            "final_x": [float(v) for v in bounce.x],
            "final_loss": float(bounce.loss),
            "final_grad_norm": float(bounce.grad_norm),
            "loss_min": float(bounce_loss.min()),
            "loss_max": float(bounce_loss.max()),
            "steps": int(bounce.steps),
            "verdict_kind": None if verdict is None else verdict.kind,
            "verdict_step": None if verdict is None else int(verdict.step),
            "verdict_grad_norm": None if verdict is None else float(verdict.grad_norm),
            "stability_ratio": None if verdict is None else verdict.details.get("stability_ratio"),
        },
        "burst_factor": burst_peak,
        "lecture_rms_first_burst_step": first_burst,
    }

    def steps_text(v: int | None) -> str:
        return "not within the budget" if v is None else f"{v} steps"

    b = numbers["gd_bouncing"]
    findings = [
        f"Plain GD at lr {bounce_lr} = 2/L on the condition-100 bowl: the steep coordinate "
        f"flips sign every step, the loss stays between {b['loss_min']:.4g} and "
        f"{b['loss_max']:.4g} for {b['steps']} steps and the gradient norm ends at "
        f"{b['final_grad_norm']:.3g}: flat loss, large gradient, no critical point. "
        + (
            f"The Monitor calls it an {b['verdict_kind']} at step {b['verdict_step']} "
            f"(lr·λmax/2 = {b['stability_ratio']:.3g})."
            if b["verdict_kind"]
            else "The Monitor raised no verdict."
        ),
        "Steps until the loss stays below 1e-6 (budget "
        f"{_BUDGET}, lr tuned per method), condition 100: "
        + ", ".join(f"{k} {steps_text(v['steps_to_target'])}" for k, v in easy.items())
        + ".",
        "Condition 10,000: "
        + ", ".join(
            f"{k} {steps_text(v['steps_to_target'])} (final loss {v['final_loss']:.2g})"
            for k, v in hard.items()
        )
        + ".",
        "Adam with β1 = 0 has no momentum at all; it converges on both bowls because it "
        "divides each coordinate's step by that coordinate's gradient size, which is what "
        "makes the condition number of an axis-aligned bowl irrelevant. On the mild bowl "
        "momentum alone is as good: there the figure shows momentum, not adaptivity.",
        "Largest jump of the loss above its best value so far (1 = never goes back up): "
        + ", ".join(f"{k} {v:.3g}" for k, v in burst_peak.items())
        + ".",
    ]
    gd_hard = hard["GD"]["steps_to_target"]
    adaptive_hard = hard["Adam β1=0 (no momentum)"]["steps_to_target"]
    adaptive = ("Adagrad", "RMSprop", "Adam β1=0.9", "Adam β1=0 (no momentum)")
    every_adaptive = all(hard[k]["steps_to_target"] is not None for k in adaptive)
    # the claim holds when GD cannot and every per-coordinate method does (Adam without
    # momentum among them, so the scaling, not momentum, is what converges)
    reproduced = gd_hard is None and adaptive_hard is not None and every_adaptive
    return Section(
        key="adaptive",
        title="Adaptive learning rates and schedules",
        claim="On an elongated bowl one learning rate cannot fit both directions: gradient "
        "descent bounces across the valley with the loss flat but the gradient large. "
        "Adagrad, RMSProp and Adam scale each coordinate by its gradients' size; Adagrad's "
        "accumulated statistics can make it burst late, which decay or warm-up fixes.",
        figures=[figure, figure2],
        numbers=numbers,
        findings=findings,
        verdict="reproduced"
        if reproduced and burst_peak["lecture RMS + decay"] < 1.01
        else "partly",
        verdict_note=f"GD at 2/L: the loss never falls below {b['loss_min']:.3g} while the "
        "gradient stays large. Condition 10,000, within the budget: "
        + ", ".join(
            f"{k} {'converges' if v['steps_to_target'] is not None else 'does not'}"
            for k, v in hard.items()
        )
        + f". The lecture-form Adagrad jumps {burst_peak['Adagrad, lecture RMS']:.2g}x above "
        f"its best loss, with decay {burst_peak['lecture RMS + decay']:.3g}x. Per-coordinate "
        "scaling helps here because these bowls are axis-aligned.",
        alt=[
            "Three panels of loss over steps on a log axis: six optimizers on the mild bowl "
            "with plain GD at 2/L flat at the top; the same on the steep bowl where GD and "
            "momentum stay high; Adagrad's lecture form spiking repeatedly while its fixes "
            "fall smoothly.",
            "Five learning-rate schedules over 100 steps: step decay, cosine, warm-up then "
            "cosine, one-cycle and noam.",
        ],
        references=[
            "Duchi, Hazan, Singer 2011, 'Adaptive subgradient methods' (Adagrad)",
            "Tieleman, Hinton 2012, Coursera lecture 6.5 (RMSProp)",
            "Kingma, Ba 2015, 'Adam: a method for stochastic optimization'",
            "Vaswani et al. 2017, 'Attention is all you need' (warm-up schedule)",
        ],
    )
