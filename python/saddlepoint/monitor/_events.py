"""What the monitor reports: an :class:`Event` per verdict, of one of :data:`EVENT_KINDS`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every verdict the monitor can give, with what it means (thresholds in :class:`Thresholds`).
EVENT_KINDS: dict[str, str] = {
    "saddle": "the gradient vanished where the Hessian has a negative eigenvalue: a way down "
    "exists along its eigenvector",
    "minimum": "the gradient vanished where the curvature is positive: nothing better nearby",
    "maximum": "the gradient vanished where every curvature is negative",
    "degenerate": "the gradient vanished where the lowest curvature is zero within tolerance: "
    "the Hessian cannot decide",
    "oscillation": "successive updates point in opposite directions: the step bounces across a "
    "valley at or near the stability limit lr = 2 / lambda_max",
    "plateau": "the loss stopped improving while the gradient stayed large and the steps do not "
    "bounce: creeping along a valley floor",
    "vanishing_gradient": "the gradient vanished with the loss still high and almost no "
    "curvature: a flat region (saturated units, MSE on softmax outputs)",
    "noise_floor": "progress is limited by gradient noise: the noise scale is far above the "
    "batch size",
    "unstable_start": "the loss spiked or diverged in the first steps of an adaptive optimizer",
    "adagrad_stall": "Adagrad's effective step collapsed as its sum of squared gradients grew",
    "diverged": "the loss or the parameters became non-finite, or the loss blew up",
}


def _detail(name: str, doc: str) -> Any:
    """A read-only attribute giving ``details[name]`` (None when absent)."""
    return property(lambda self: self.details.get(name), doc=doc)


@dataclass(frozen=True, repr=False)
class Event:
    """One verdict: what happened at which step, in words with the fix, and its numbers.

    Attributes
    ----------
    kind : str
        One of :data:`EVENT_KINDS`.
    step : int
        The observed step that raised it: the history's ``step`` (1-based, the n-th
        :meth:`Monitor.observe` call).
    message : str
        What happened and what to do about it.
    details : dict
        The numbers behind the verdict (window statistics, eigenvalues, thresholds, ...).
    """

    kind: str
    step: int
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Event({self.kind!r}, step={self.step}: {self.message})"

    # The numbers most verdicts carry, as attributes (None when the verdict has none).
    x = _detail("x", "The point (a copy), when the monitor knows the parameters.")
    loss = _detail("loss", "The loss where the verdict was given.")
    grad_norm = _detail("grad_norm", "The gradient norm there.")
    eigenvalues = _detail("eigenvalues", "Hessian eigenvalues (ascending), critical points.")
    minimum_ratio = _detail("minimum_ratio", "Share of positive Hessian eigenvalues.")
