"""The documented thresholds behind every verdict, in one place."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Thresholds:
    """When each verdict fires. ``W`` is the monitor's ``window``. A rule's "improvement" is the
    relative drop of the loss over the last ``W`` steps from a least-squares line,
    ``-slope * (W - 1) / (|mean loss| + loss_atol)``; the loss is *flat* only when the
    improvement plus two standard errors of the slope is below ``flat``, so that the noise of
    mini-batch losses never passes for a plateau. (The history's ``improvement`` column is
    the per-step smoothed form: an exponential moving average over ``W / 5`` steps, compared
    with its value ``W`` steps before.)

    Attributes
    ----------
    flat : float
        The loss is *flat* when its improvement over the window is below this (0.1%), beyond
        two standard errors.
    grad_rtol, grad_atol : float
        The gradient is *small* when ``||g|| <= max(grad_atol, grad_rtol * max ||g|| so
        far)``, or when moving the parameters by their own size would change the loss by
        less than ``grad_rtol`` of itself to first order,
        ``||g|| * max(||theta||, 1) / |loss| < grad_rtol`` (a flat region).
    oscillation_cosine : float
        Successive updates are *opposed* when the mean cosine between them over the window
        is below this.
    oscillation_ratio : float
        With curvature known, ``oscillation`` also needs ``stability_ratio >=`` this (the
        step sits near or beyond the stability limit; 1.0 is the limit).
    curvature_rtol : float
        An eigenvalue counts as zero when ``|lambda| <= curvature_rtol * max(|lambda_min|,
        |lambda_max|)`` or within its residual norm (the check cannot tell its sign).
    flat_ratio : float
        ``vanishing_gradient`` needs the curvature too small to matter at this learning rate,
        ``lr * max(|lambda_min|, |lambda_max|) / 2 <`` this (for adaptive methods the
        preconditioned ``stability_ratio``), and the loss still above half its start.
    noise_factor : float
        ``noise_floor``: the window's simple noise scale (mean ``tr(Sigma)`` over mean
        ``|G|^2``) is above ``noise_factor`` times the batch size while the loss is not shown
        to improve by ``noise_flat`` per window (the improvement minus two standard errors is
        below it).
    noise_flat : float
        See ``noise_factor``.
    noise_excess : float
        ``noise_floor`` also needs the loss the noise costs to matter: SGD's stationary excess
        loss ``lr_eff * tr(Sigma) / (4 B)`` (``lr_eff = ||dtheta|| / ||g||``) above this share
        of the window's mean loss (at an optimum the noise is all that is left, but it costs
        nothing).
    spike_factor : float
        ``unstable_start``: within the first ``max(W, 20)`` steps of an adaptive optimizer the
        median of three successive losses exceeds ``spike_factor`` times the lowest loss up
        to the first of them (or a loss is not finite).
    adagrad_collapse : float
        ``adagrad_stall``: Adagrad's effective step ``||dtheta|| / ||g||`` fell below this
        share of its first value while the gradient is not small and the loss improves by
        less than ``noise_flat`` per window (a plateau that Adagrad's shrinking step explains
        is reported as this instead).
    blowup : float
        ``diverged``: the loss or a parameter is not finite, or the loss exceeds ``blowup``
        times ``max(|first loss|, loss_atol)``.
    loss_atol : float
        Added to loss magnitudes in relative tests, so that a loss at exactly 0 is flat.
    """

    flat: float = 1e-3
    grad_rtol: float = 1e-3
    grad_atol: float = 0.0
    oscillation_cosine: float = -0.5
    oscillation_ratio: float = 0.8
    curvature_rtol: float = 1e-6
    flat_ratio: float = 1e-2
    noise_factor: float = 5.0
    noise_flat: float = 1e-2
    noise_excess: float = 1e-2
    spike_factor: float = 2.0
    adagrad_collapse: float = 0.2
    blowup: float = 1e3
    loss_atol: float = 1e-12

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"thresholds.{f.name}: expected a real number, got {value!r}")
            if f.name != "oscillation_cosine" and not value >= 0:
                raise ValueError(f"thresholds.{f.name}: expected a value >= 0, got {value!r}")
        if not -1.0 <= self.oscillation_cosine <= 0.0:
            raise ValueError(
                "thresholds.oscillation_cosine: expected a value in [-1, 0], got "
                f"{self.oscillation_cosine!r}"
            )
