"""What the loops return: :class:`MinimizeResult` and :class:`TrainResult`, with the
:class:`saddlepoint.Monitor` that watched the run and its :class:`~saddlepoint.monitor.Event`
verdicts (``saddlepoint.train.Event`` is that class), and their history tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..monitor import EVENT_KINDS as _MONITOR_KINDS
from ..monitor import Event

# The event kinds minimize() and train() report: the monitor's (one diagnosis engine).
EVENT_KINDS = tuple(_MONITOR_KINDS)

__all__ = ["EVENT_KINDS", "Event", "MinimizeResult", "TrainResult"]


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
        ``"vanishing_gradient"``, ``"plateau"``, ``"oscillation"``, ``"noise_floor"``,
        ``"adagrad_stall"`` (these four only with ``stop_on_plateau=True``), ``"diverged"``,
        ``"callback"`` or ``"max_steps"``.
    message : str
        The same, in words.
    events : list of saddlepoint.monitor.Event
        The monitor's verdicts, in order (``monitor.events``), with what minimize did about
        them added (an escape: ``details["loss_drop"]``, ``details["escaped_to"]``).
    history : pandas.DataFrame or dict of ndarray
        Columns ``step``, ``loss``, ``grad_norm`` (exact, noise-free), ``lr`` (the learning
        rate of the next step), one row every ``record_every`` steps, plus the final point
        and the points before and after every escape; then the monitor's columns
        (:data:`saddlepoint.monitor.COLUMNS` after ``step``, ``loss``, ``lr`` and
        ``grad_norm``; the monitor's ``grad_norm`` is the gradient the step used, noise
        included, ``monitor_grad_norm``) for the step taken from that row's point (NaN where
        none was: the final point, the point before an escape). A DataFrame when pandas is
        installed; ``monitor.history`` has every step.
    trajectory : ndarray, shape (rows, dim)
        The points of the history rows.
    optimizer : saddlepoint.optim.Optimizer
        The optimizer, with its state at the end.
    monitor : saddlepoint.Monitor
        The monitor that watched the run: ``monitor.history`` (one row per step),
        ``monitor.explain()``, ``monitor.plot()``, ``monitor.report()``.
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
    monitor: Any = None

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
        Whether training stopped at the monitor's ``"diverged"`` verdict.
    events : list of saddlepoint.monitor.Event
        The monitor's verdicts, in order (``monitor.events``).
    monitor : saddlepoint.Monitor
        The monitor that watched every update.
    """

    params: np.ndarray
    history: Any
    batch_losses: np.ndarray
    optimizer: Any
    diverged: bool
    events: list[Event]
    monitor: Any = None

    @property
    def step_history(self) -> Any:
        """The monitor's history: one row per update, one column per instrument
        (:data:`saddlepoint.monitor.COLUMNS`); a DataFrame with pandas, else a dict of
        arrays. ``history`` stays one row per epoch."""
        return _table(self.monitor.columns())

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


def _join_monitor(
    columns: dict[str, list[Any]], rows: list[int], monitor: dict[str, np.ndarray]
) -> dict[str, Any]:
    """``columns`` with the monitor's columns of ``rows`` appended (NaN for row -1 or past
    the monitor's end); its ``grad_norm`` as ``monitor_grad_norm``."""
    n = len(monitor["step"])
    index = np.asarray(rows, dtype=np.int64)
    valid = (index >= 0) & (index < n)
    out: dict[str, Any] = dict(columns)
    for name, values in monitor.items():
        if name in ("step", "loss", "lr"):
            continue
        picked = np.full(index.shape, np.nan)
        picked[valid] = values[index[valid]]
        out["monitor_grad_norm" if name == "grad_norm" else name] = picked
    return out


def _columns(table: Any) -> dict[str, Any]:
    if isinstance(table, dict):
        return table
    return {c: table[c].to_numpy() for c in table.columns}
