"""The rules that turn the monitor's instruments into verdicts, one function per event kind.

Each rule reads the last ``window`` rows of the history (:class:`Window`) and returns the
event's message and numbers, or None. A verdict fires when its condition starts to hold and
not again until it has stopped holding (the monitor keeps which are active), so a long
plateau is one event, not one per check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._curvature import CurvatureCheck
from ._stability import StepRule
from ._thresholds import Thresholds

Verdict = tuple[str, dict[str, Any]]  # message, details


@dataclass
class Window:
    """The numbers every rule reads at one check (the sums over the window from one C++ pass
    over the history's columns, saddlepoint._core.MonitorLog.window_stats)."""

    step: int
    loss: np.ndarray  # the last W losses
    grad_norm: np.ndarray
    cos_update: np.ndarray
    grad_dot_update: np.ndarray
    improvement: float  # relative drop of the loss over the window, by least squares
    improvement_upper: float  # the same plus two standard errors (noise in the losses)
    first_loss: float
    max_grad_norm: float
    rule: StepRule
    curvature: CurvatureCheck | None  # the latest check, if any
    stability_ratio: float  # from the latest check (nan without one)
    noise_scale: float  # over the window: mean tr(Sigma) / mean |G|^2 (nan without batch grads)
    noise_trace: float  # mean tr(Sigma) over the window
    batch_size: int
    effective_lr: float  # ||dtheta|| / ||g||, median over the window
    first_effective_lr: float
    has_hvp: bool
    param_scale: float  # ||theta|| (or the distance travelled, when the parameters are unknown)
    t: Thresholds
    mean_cosine: float  # mean of the finite cosines between successive updates
    promised_drop: float  # -sum(g . dtheta) over the window (NaN left out): the first-order drop

    @cached_property
    def loss_now(self) -> float:
        return float(self.loss[-1])

    @cached_property
    def scale(self) -> float:
        return abs(self.loss_now) + self.t.loss_atol

    @cached_property  # the rules read these several times per check: computed once
    def flat(self) -> bool:
        """The loss is not improving by ``t.flat`` per window, beyond doubt: even the upper
        end of the improvement's two-standard-error band is below it (so a noisy mini-batch
        loss that only looks flat is not called flat)."""
        return math.isfinite(self.improvement_upper) and self.improvement_upper < self.t.flat

    @cached_property
    def sensitivity(self) -> float:
        """``||g|| * max(||theta||, 1) / |loss|``: the relative loss change, to first order, of
        moving the parameters by their own size."""
        return float(self.grad_norm[-1]) * max(self.param_scale, 1.0) / self.scale

    @cached_property
    def small_gradient(self) -> bool:
        g = float(self.grad_norm[-1])
        tiny = g <= max(self.t.grad_atol, self.t.grad_rtol * self.max_grad_norm)
        return tiny or self.sensitivity < self.t.grad_rtol


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _pct(x: float) -> str:
    """``x`` as a percentage in the digits people read: 180%, 21%, 3.2%, 0.041%."""
    v = 100 * x
    a = abs(v)
    if not math.isfinite(v) or a >= 10:
        return f"{v:.0f}%" if math.isfinite(v) else f"{v}%"
    return f"{v:.1f}%" if a >= 1 else f"{v:.2g}%"


def _loss_change(improvement: float, only: bool = True) -> str:
    """'improved by only 3.2%' ("only" when ``only`` and below 10%: an oscillation at the
    edge of stability can still be making progress), 'improved by 202%' (the drop is
    relative to the loss now, so it can exceed 100%), or 'rose by 21%'."""
    if math.isfinite(improvement) and improvement < 0:
        return f"rose by {_pct(-improvement)}"
    small = only and math.isfinite(improvement) and improvement < 0.1
    return f"improved by {'only ' if small else ''}{_pct(improvement)}"


def _ratio_text(w: Window) -> str:
    if math.isfinite(w.stability_ratio):
        return f"stability ratio {w.stability_ratio:.4g}"
    return "stability ratio unknown (pass hvp= to measure the curvature)"


def diverged(w: Window, bad_array: int | None, nonfinite: int) -> Verdict | None:
    loss = w.loss_now
    limit = w.t.blowup * max(abs(w.first_loss), w.t.loss_atol)
    if math.isfinite(loss) and nonfinite == 0 and abs(loss) <= limit:
        return None
    if not math.isfinite(loss) or nonfinite:
        what = (
            f"the loss is {loss}"
            if not math.isfinite(loss)
            else f"{nonfinite} entries are not finite"
        )
        if bad_array is not None:
            what += f" (first non-finite parameter array: params[{bad_array}])"
    else:
        growth = abs(loss) / max(abs(w.first_loss), w.t.loss_atol)
        what = f"the loss grew to {_fmt(loss)}, {_fmt(growth)}x its start"
    fix = "lower the learning rate"
    if math.isfinite(w.stability_ratio) and w.stability_ratio > 1:
        fix += f" below 2/lambda_max (the step was {w.stability_ratio:.3g}x the stability limit)"
    if w.rule.adaptive and w.step <= 2 * max(len(w.loss), 20):
        fix += ", or warm the learning rate up over the first steps"
    return (
        f"diverged at step {w.step}: {what}; {_ratio_text(w)}. Fix: {fix}.",
        {"loss": loss, "nonfinite": nonfinite, "first_nonfinite_array": bad_array,
         "stability_ratio": w.stability_ratio, "lr": w.rule.lr},
    )  # fmt: skip


def unstable_start(w: Window, start_steps: int, diverging: bool) -> Verdict | None:
    if not w.rule.adaptive or w.step > start_steps:
        return None
    losses = w.loss[-start_steps:]
    if diverging:
        peak = float(np.max(np.abs(losses))) if np.all(np.isfinite(losses)) else math.inf
    elif np.all(np.isfinite(losses)):
        # a rise that lasts: the median of three successive losses (one noisy mini-batch is
        # not a spike), against the lowest loss up to the first of the three (a rise comes
        # after what it rises from: a fast descent is no spike)
        if losses.size < 3:
            return None
        # the middle of each three by sorting: np.median costs ~100 us a call (and ~10 ms
        # on its first), more than the steps it watches
        runs = np.sort(np.stack((losses[:-2], losses[1:-1], losses[2:])), axis=0)[1]
        before = np.maximum(np.abs(np.minimum.accumulate(losses[: runs.size])), w.t.loss_atol)
        worst = int(np.argmax(runs / before))
        peak, base = float(runs[worst]), float(before[worst])
    else:
        peak, base = math.inf, w.first_loss
    if diverging:
        base = w.first_loss
    if not diverging and peak <= w.t.spike_factor * max(abs(base), w.t.loss_atol):
        return None
    return (
        f"unstable start: within the first {w.step} steps of {w.rule.kind} the loss rose to "
        f"{_fmt(peak)} from {_fmt(base)}. Adaptive steps are largest at the start, "
        "before the second-moment estimate has seen enough gradients. Fix: warm the learning "
        f"rate up, e.g. sp.schedules.linear_warmup(peak_value={w.rule.base_lr:.3g}, "
        f"warmup_steps={max(start_steps, 100)}), or start from a smaller learning rate.",
        {"peak_loss": peak, "start_loss": base, "lr": w.rule.base_lr},
    )


def oscillation(w: Window) -> Verdict | None:
    cosine = w.mean_cosine
    if not (cosine < w.t.oscillation_cosine):
        return None
    known = math.isfinite(w.stability_ratio)
    if known and w.stability_ratio < w.t.oscillation_ratio:
        return None
    details = {"mean_cosine": cosine, "stability_ratio": w.stability_ratio, "lr": w.rule.lr}
    if known and w.curvature is not None:
        lam = w.curvature.lambda_max
        details["lambda_max"] = lam
        where = f"{_ratio_text(w)}: lr = {w.rule.lr:.4g} against lambda_max = {lam:.4g}"
        if w.rule.kind == "SGD" and not w.rule.nesterov:
            where += f" (stable for lr < {2.0 * (1 + w.rule.momentum) / lam:.4g})"
    else:
        where = _ratio_text(w)
    fix = "lower the learning rate below 2/lambda_max (or decay it)"
    if w.rule.kind == "SGD" and w.rule.momentum == 0:
        fix += (
            ", add momentum (it damps the bouncing direction), or use an adaptive method "
            "(Adam, RMSprop)"
        )
    return (
        f"oscillation: successive updates point in opposite directions (mean cosine "
        f"{cosine:.3f} over the last {len(w.loss)} steps), the step bounces across a valley "
        f"at the edge of stability; {where}; the loss "
        f"{_loss_change(w.improvement)} over the window (relative to the loss now). "
        f"Fix: {fix}.",
        details,
    )  # fmt: skip


def plateau(w: Window) -> Verdict | None:
    if not w.flat or w.small_gradient or w.mean_cosine < w.t.oscillation_cosine:
        return None
    if w.noise_scale > w.t.noise_factor * w.batch_size:
        return None  # the gradient is large only by its noise: not a plateau's large gradient
    fix = "use a larger learning rate, momentum, or an adaptive optimizer (Adam, RMSprop)"
    if math.isfinite(w.stability_ratio) and w.stability_ratio >= w.t.oscillation_ratio:
        # a larger step would cross the stability limit along the sharpest direction
        fix = (
            "momentum or an adaptive optimizer (Adam, RMSprop), which move faster along the "
            "flat directions without a larger step along the sharpest one; not a larger "
            f"learning rate: the step already uses {_pct(w.stability_ratio)} of its "
            "stability limit"
        )
    elif math.isfinite(w.stability_ratio) and w.stability_ratio > 0:
        fix += f" (the step uses {_pct(w.stability_ratio)} of its stability limit)"
    return (
        f"plateau: the loss {_loss_change(w.improvement)} over the last "
        f"{len(w.loss)} steps while the gradient stayed large (norm {_fmt(w.grad_norm[-1])}, "
        f"steps promised a drop of {_fmt(w.promised_drop)}) and the steps do not bounce (mean "
        f"cosine {w.mean_cosine:.2f}): the optimizer is creeping along a valley floor. "
        f"Fix: {fix}.",
        {"improvement": w.improvement, "grad_norm": float(w.grad_norm[-1]),
         "mean_cosine": w.mean_cosine, "stability_ratio": w.stability_ratio},
    )  # fmt: skip


def noise_floor(w: Window) -> Verdict | None:
    # (an infinite noise scale, no signal left, passes: the excess-loss test below tells a
    # noise floor from an optimum where the noise costs nothing)
    if math.isnan(w.noise_scale):
        return None
    if not (w.noise_scale > w.t.noise_factor * w.batch_size):
        return None
    # not shown to improve: even the lower end of its two-standard-error band is below
    if not (2.0 * w.improvement - w.improvement_upper < w.t.noise_flat):
        return None
    # what the noise costs: SGD's stationary excess loss on a quadratic is lr tr(Sigma) / (4 B)
    # whatever the Hessian; at an optimum it is a sliver of the loss and no remedy matters
    excess = w.effective_lr * w.noise_trace / (4.0 * max(w.batch_size, 1))
    share = excess / (abs(float(np.mean(w.loss))) + w.t.loss_atol)
    if not (share > w.t.noise_excess):
        return None
    return (
        f"noise floor: the gradient noise scale B_simple = {_fmt(w.noise_scale)} is far above "
        f"the batch size {w.batch_size}, the loss {_loss_change(w.improvement)} over the "
        f"window, and the noise holds the loss about {_fmt(excess)} ({_pct(share)}) above "
        "where it would settle without it: each step's gradient is mostly noise. "
        f"Fix: a larger batch (towards {_fmt(min(w.noise_scale, 1e12))} examples, the critical "
        "batch size), or decay the learning rate to average the noise out.",
        {"noise_scale": w.noise_scale, "batch_size": w.batch_size,
         "improvement": w.improvement, "noise_excess": excess},
    )  # fmt: skip


def adagrad_stall(w: Window) -> Verdict | None:
    if w.rule.kind != "Adagrad" or not (w.first_effective_lr > 0) or w.small_gradient:
        return None
    share = w.effective_lr / w.first_effective_lr
    if not (share < w.t.adagrad_collapse):
        return None
    if not (math.isfinite(w.improvement) and w.improvement < w.t.noise_flat):
        return None
    return (
        f"Adagrad stall: the effective step ||dtheta||/||g|| fell to {_pct(share)} of its "
        f"first value ({_fmt(w.effective_lr)} from {_fmt(w.first_effective_lr)}) because the "
        f"sum of squared gradients only grows; the loss "
        f"{_loss_change(w.improvement, only=False)} over the window. Fix: RMSprop or Adam (a "
        "moving average instead of a sum), or a larger learning rate.",
        {"effective_lr": w.effective_lr, "first_effective_lr": w.first_effective_lr,
         "share": share, "improvement": w.improvement},
    )  # fmt: skip


def stall_kind(w: Window, immediate: bool = False) -> str | None:
    """The critical-point verdict for a flat loss with a small gradient (None: no stall);
    ``immediate``: the gradient is below ``grad_atol`` at the point (Monitor.check_point), a
    critical point by that tolerance whatever the loss did before."""
    if not immediate and not (w.flat and w.small_gradient):
        return None
    c = w.curvature
    progress = (w.first_loss - w.loss_now) / (abs(w.first_loss) + w.t.loss_atol)
    if c is None:
        return "vanishing_gradient" if progress < 0.5 else "minimum"
    largest = max(abs(c.lambda_min), abs(c.lambda_max))
    # curvature too small to matter at this learning rate: a flat region, whatever its sign
    reach = w.stability_ratio if w.rule.adaptive else w.rule.ratio(largest)
    if not (reach >= w.t.flat_ratio) and progress < 0.5:
        return "vanishing_gradient"
    tol = w.t.curvature_rtol * largest
    if c.lambda_min < -max(tol, c.residual_min):
        return "saddle" if c.lambda_max > -tol else "maximum"
    if c.lambda_min > max(tol, c.residual_min):
        return "minimum"
    return "degenerate"


def stall(
    w: Window, kind: str, escape_step: float, x: np.ndarray | None, immediate: bool = False
) -> Verdict:
    """Message and numbers of a critical-point verdict found by :func:`stall_kind`."""
    c = w.curvature
    gnorm = float(w.grad_norm[-1])
    head = (
        f"the loss stopped improving ({_loss_change(w.improvement, only=False)} over the last "
        f"{len(w.loss)} steps) with a small gradient (norm {_fmt(gnorm)}) at loss {w.loss_now:.6g}"
    )
    if immediate:
        head = (
            f"the gradient norm {_fmt(gnorm)} is below grad_atol = {_fmt(w.t.grad_atol)} at "
            f"loss {w.loss_now:.6g}"
        )
    details: dict[str, Any] = {
        "loss": w.loss_now,
        "grad_norm": gnorm,
        "improvement": w.improvement,
    }
    if x is not None:
        details["x"] = x
    if c is None:
        details["confirmed"] = False
        if kind == "minimum":
            return (
                f"probably a minimum: {head}, after the loss fell by "
                f"{_pct(1 - w.loss_now / (w.first_loss or 1))}. Unconfirmed: pass hvp= so "
                "the Hessian can tell a minimum from a saddle.",
                details,
            )
        return (
            f"vanishing gradient: {head}, still near its starting value {_fmt(w.first_loss)}: a "
            "flat region (saturated units, or MSE on softmax outputs). Unconfirmed: pass hvp= to "
            "tell a flat region from a critical point. Fix: cross-entropy instead of MSE for "
            "classification, re-initialise (smaller weights), or non-saturating activations.",
            details,
        )
    details.update(
        confirmed=True,
        eigenvalues=np.array([c.lambda_min, c.lambda_max]),
        lambda_min=c.lambda_min,
        lambda_max=c.lambda_max,
        residuals=np.array([c.residual_min, c.residual_max]),
        stability_ratio=w.stability_ratio,
    )
    curv = f"Hessian lambda_min = {_fmt(c.lambda_min)}, lambda_max = {_fmt(c.lambda_max)}"
    if kind in ("saddle", "maximum"):
        drop = 0.5 * abs(c.lambda_min) * escape_step**2
        details.update(escape_direction=c.v_min.copy(), escape_step=escape_step,
                       expected_drop=drop)  # fmt: skip
    if kind == "saddle":
        return (
            f"saddle point: {head}; {curv}: negative curvature, so a way down exists along its "
            f"eigenvector. A step of s = {_fmt(escape_step)} (a tenth of the parameters' scale) "
            f"along +-escape_direction lowers the loss by about 0.5*|lambda_min|*s^2 = "
            f"{_fmt(drop)}. "
            "Fix: step along the escape direction (sp.escape, or minimize(escape_saddles=True)), "
            "add momentum or gradient noise (smaller batches) to leave it.",
            details,
        )
    if kind == "minimum":
        return (f"local minimum: {head}; {curv}: all curvature positive, nothing better nearby. "
                "If the loss is too high, change the model or the data, not the optimizer.",
                details)  # fmt: skip
    if kind == "maximum":
        return (f"local maximum: {head}; {curv}: every direction goes down. Fix: move off it "
                "along any direction (a random perturbation).", details)  # fmt: skip
    if kind == "vanishing_gradient":
        return (
            f"vanishing gradient: {head}, still near its start {_fmt(w.first_loss)}, and almost "
            f"no curvature ({curv}, {_ratio_text(w)}): a flat region, not a critical point that "
            "matters. Fix: cross-entropy instead of MSE for classification, re-initialise "
            "(smaller weights), non-saturating activations, or a larger learning rate.",
            details,
        )
    fix = (
        "Fix: higher-order information, or keep training with noise (smaller batches) to see "
        "whether it leaves."
    )
    if w.loss_now >= w.first_loss - w.t.loss_atol:
        # never below its start: zero curvature there is more likely dead or saturated units
        # (a too-large first step can kill ReLUs) than a critical point worth deciding
        fix = (
            f"The loss never fell below its start ({_fmt(w.first_loss)}), so the zero "
            "curvature more likely comes from dead or saturated units than from a critical "
            "point worth deciding. Fix: re-initialise, lower the learning rate (a too-large "
            "step can kill ReLU units), or use non-saturating activations."
        )
    return (
        f"degenerate critical point: {head}; {curv}: the lowest curvature is zero within "
        f"tolerance (residual {_fmt(c.residual_min)}), so the Hessian cannot decide between a "
        f"minimum and a saddle. {fix}",
        details,
    )
