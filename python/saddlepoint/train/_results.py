"""What the loops return: :class:`Event` (something noticed, in words), :class:`MinimizeResult`
and :class:`TrainResult`, and their history tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The event kinds minimize() reports.
EVENT_KINDS = ("minimum", "saddle", "maximum", "degenerate", "plateau", "diverged")


@dataclass(frozen=True, repr=False)
class Event:
    """Something :func:`minimize` or :func:`train` noticed, with a human-readable message.

    Attributes
    ----------
    kind : str
        ``"minimum"``, ``"saddle"``, ``"maximum"``, ``"degenerate"`` (a stall: the gradient
        norm fell below ``grad_tol``, classified by the Hessian), ``"plateau"`` (the loss
        stopped decreasing while the gradient stayed large) or ``"diverged"``.
    step : int
        Optimizer steps taken when it happened.
    message : str
        What happened and what to do about it.
    x : ndarray
        The point (a copy).
    loss, grad_norm : float
        Loss and gradient norm there.
    eigenvalues : ndarray or None
        Hessian eigenvalues (ascending) for stall events.
    minimum_ratio : float or None
        Share of positive Hessian eigenvalues for stall events.
    details : dict
        Anything else worth keeping (escape loss drop, new point, window statistics, ...).
    """

    kind: str
    step: int
    message: str
    x: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray | None = None
    minimum_ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Event({self.kind!r}, step={self.step}: {self.message})"


@dataclass(repr=False)
class MinimizeResult:
    """What :func:`minimize` returns.

    Attributes
    ----------
    x : ndarray
        The final point.
    loss, grad_norm : float
        Loss and (noise-free) gradient norm at ``x``.
    steps : int
        Optimizer steps taken.
    reason : str
        Why the run ended: ``"minimum"``, ``"saddle"``, ``"maximum"``, ``"degenerate"``,
        ``"plateau"`` (only with ``stop_on_plateau=True``), ``"diverged"``, ``"callback"`` or
        ``"max_steps"``.
    message : str
        The same, in words.
    events : list of Event
        Everything noticed on the way, in order.
    history : pandas.DataFrame or dict of ndarray
        Columns ``step``, ``loss``, ``grad_norm``, ``lr`` (the learning rate of the next
        step), one row every ``record_every`` steps, plus the final point and the points
        before and after every escape. A DataFrame when pandas is installed.
    trajectory : ndarray, shape (rows, dim)
        The points of the history rows.
    optimizer : saddlepoint.optim.Optimizer
        The optimizer, with its state at the end.
    """

    x: np.ndarray
    loss: float
    grad_norm: float
    steps: int
    reason: str
    message: str
    events: list[Event]
    history: Any
    trajectory: np.ndarray
    optimizer: Any

    def __repr__(self) -> str:
        return (
            f"MinimizeResult(reason={self.reason!r}, steps={self.steps}, loss={self.loss:.6g}, "
            f"grad_norm={self.grad_norm:.3g}, events={[e.kind for e in self.events]})"
        )

    def explain(self) -> str:
        """Every event message and the reason the run ended, one per line."""
        lines = [f"step {e.step}: {e.message}" for e in self.events]
        lines.append(f"end after {self.steps} steps: {self.message}")
        return "\n".join(lines)


@dataclass(repr=False)
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    params : ndarray
        The trained flat parameter vector (the optimizer's array, updated in place).
    history : pandas.DataFrame or dict of ndarray
        One row per epoch, epoch 0 being the start: ``epoch``, ``updates`` (optimizer
        steps so far), ``lr`` (of the next update), ``train_loss``, ``train_accuracy``,
        ``val_loss``, ``val_accuracy`` (NaN without validation data or for regression
        targets), ``seconds_per_update`` and ``seconds_per_epoch`` (wall time of the
        epoch's mini-batch updates, gradient included, evaluation excluded; NaN at epoch 0).
    batch_losses : ndarray
        The loss of every mini-batch at the moment it was used, in order (the noisy curve).
    optimizer : saddlepoint.optim.Optimizer
        The optimizer with its final state.
    diverged : bool
        Whether training stopped on a non-finite loss or parameters.
    events : list of Event
        ``"diverged"`` events, if any.
    """

    params: np.ndarray
    history: Any
    batch_losses: np.ndarray
    optimizer: Any
    diverged: bool
    events: list[Event]

    def __repr__(self) -> str:
        last = {k: np.asarray(v)[-1] for k, v in _columns(self.history).items()}
        return (
            f"TrainResult(epochs={int(last['epoch'])}, train_loss={last['train_loss']:.4g}, "
            f"val_accuracy={last['val_accuracy']:.3f}, diverged={self.diverged})"
        )


def _table(columns: dict[str, Any]) -> Any:
    """A pandas DataFrame when pandas is installed, else the dict of NumPy arrays."""
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    try:
        import pandas as pd
    except ImportError:
        return arrays
    return pd.DataFrame(arrays)


def _columns(table: Any) -> dict[str, Any]:
    if isinstance(table, dict):
        return table
    return {c: table[c].to_numpy() for c in table.columns}
