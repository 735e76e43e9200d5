"""Optimizers and schedules compared from the same start on one surface, and the lecture's
set of comparisons (saddle, bump, ill-conditioned valley, RMS variants)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..train import minimize
from ._common import _pandas


def _run_specs(optimizers: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, Sequence) and not isinstance(optimizers, str):
        items = [(o, o) if isinstance(o, str) else (o.get("label"), o) for o in optimizers]
    else:
        raise TypeError(
            "optimizers: expected a mapping label -> name or keyword dict, or a list of "
            f"names / dicts with 'label', got {type(optimizers).__name__}"
        )
    if not items:
        raise ValueError("optimizers: expected at least one optimizer, got none")
    specs = []
    for label, spec in items:
        if isinstance(spec, str):
            spec = {"optimizer": spec}
        elif isinstance(spec, Mapping):
            spec = {k: v for k, v in spec.items() if k != "label"}
            spec.setdefault("optimizer", "adam")
        else:
            raise TypeError(
                f"optimizers[{label!r}]: expected an optimizer name or a dict of minimize "
                f"keywords, got {type(spec).__name__}"
            )
        specs.append((str(label if label is not None else spec["optimizer"]), spec))
    labels = [label for label, _ in specs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"optimizers: labels must be unique, got {labels}")
    return specs


def optimizer_comparison(
    surface: Any,
    optimizers: Any,
    *,
    x0: Any = None,
    steps: int = 300,
    seed: int = 0,
    **common: Any,
) -> Any:
    """Run several optimizers (and schedules) from the same start on one surface.

    Parameters
    ----------
    surface : str or surface
        As for :func:`saddlepoint.train.minimize`.
    optimizers : mapping or list
        ``{label: spec}`` where ``spec`` is an optimizer name or a dict of
        :func:`~saddlepoint.train.minimize` keywords (``optimizer``, ``lr``, ``schedule``,
        hyper-parameters such as ``momentum`` or ``betas``, ``noise``...), e.g.
        ``{"GD": {"optimizer": "sgd", "lr": 0.01}, "momentum": {"optimizer": "sgd",
        "lr": 0.01, "momentum": 0.9}, "Adam": {"optimizer": "adam", "lr": 0.1}}``.
    x0, steps, seed, **common
        Shared by every run (a spec's own keywords win).

    Returns
    -------
    pandas.DataFrame
        Long format, one row per recorded point of every run: ``label``, ``optimizer``,
        ``step``, ``loss``, ``grad_norm``, ``lr`` and the coordinates ``x0 .. x{dim-1}``
        (the path). ``df.attrs["reason"]`` maps each label to why its run ended and
        ``df.attrs["events"]`` to its event messages.

    Examples
    --------
    >>> from saddlepoint.experiments import (
    ...     lecture_comparisons, optimizer_comparison, plot_optimizer_comparison)
    >>> presets = lecture_comparisons()
    >>> df = optimizer_comparison(**presets["bump"])
    >>> df.attrs["reason"]
    {'GD': 'minimum', 'momentum': 'minimum'}
    >>> {label: round(float(x), 2) for label, x in df.groupby("label")["x0"].last().items()}
    {'GD': 0.93, 'momentum': -1.06}
    >>> fig = plot_optimizer_comparison(df, presets["bump"]["surface"])  # needs matplotlib
    >>> import matplotlib.pyplot as plt; plt.close(fig)
    """
    pd = _pandas()
    specs = _run_specs(optimizers)
    frames, reasons, messages = [], {}, {}
    for label, spec in specs:
        kwargs = {"x0": x0, "steps": steps, "seed": seed, **common, **spec}
        res = minimize(surface, **kwargs)
        hist = res.history
        frame = pd.DataFrame(
            {
                "label": label,
                "optimizer": str(spec["optimizer"])
                if isinstance(spec["optimizer"], str)
                else type(spec["optimizer"]).__name__,
                "step": np.asarray(hist["step"]),
                "loss": np.asarray(hist["loss"]),
                "grad_norm": np.asarray(hist["grad_norm"]),
                "lr": np.asarray(hist["lr"]),
            }
        )
        for i in range(res.trajectory.shape[1]):
            frame[f"x{i}"] = res.trajectory[:, i]
        frames.append(frame)
        reasons[label] = res.reason
        messages[label] = [f"step {e.step}: {e.message}" for e in res.events]
    df = pd.concat(frames, ignore_index=True)
    df.attrs["reason"] = reasons
    df.attrs["events"] = messages
    return df


class LectureRMS:
    r"""Learning rate that turns PyTorch's Adagrad into the lecture's, with optional taming.

    PyTorch's Adagrad divides by the root of the *sum* of squared gradients; the lecture's
    by their root *mean* square :math:`\sigma_t = \sqrt{\frac{1}{t+1}\sum_{i\le t} g_i^2}`.
    Multiplying the learning rate by :math:`\sqrt{t+1}` makes one the other:
    ``lr(t) = eta * sqrt(t + 1) * warm(t) / (1 + t / decay)`` with
    ``warm(t) = min(1, (t + 1) / warmup)``. Without decay the step grows again once the
    gradients of a direction have been small for long: the lecture's late burst.
    """

    def __init__(self, eta: float, *, decay: float | None = None, warmup: int = 0) -> None:
        self.eta, self.decay, self.warmup = float(eta), decay, int(warmup)

    def __call__(self, step: Any) -> Any:
        t = np.asarray(step, dtype=np.float64)
        lr = self.eta * np.sqrt(t + 1.0)
        if self.warmup > 0:
            lr = lr * np.minimum(1.0, (t + 1.0) / self.warmup)
        if self.decay:
            lr = lr / (1.0 + t / float(self.decay))
        return float(lr) if lr.ndim == 0 else lr

    def __repr__(self) -> str:
        extra = (f", decay={self.decay:g}" if self.decay else "") + (
            f", warmup={self.warmup}" if self.warmup else ""
        )
        return f"LectureRMS({self.eta:g}{extra})"


def lecture_comparisons() -> dict[str, dict[str, Any]]:
    """Ready-made :func:`optimizer_comparison` settings for the lecture's stories.

    Each value is a dict of keyword arguments: ``optimizer_comparison(**preset)``. All run
    in well under a second.

    - ``"saddle"``: ``tiny_network`` from its default start next to the saddle at the
      origin; plain GD lingers near the saddle (loss 1) about four times longer than
      momentum or Adam before reaching the valley ``w1 * w2 = 1``.
    - ``"bump"``: ``bumpy_1d`` from ``x = 2``; plain GD stops in the shallow local minimum
      near 0.93, momentum rolls over the bump into the global minimum near -1.06.
    - ``"ill_conditioned"``: the elongated bowl ``(x^2 + 100 y^2) / 2``; GD with
      ``lr = 0.0195`` zig-zags across the valley (each step flips ``y``), momentum and the
      adaptive methods (Adagrad, RMSprop, Adam) go down the valley.
    - ``"adagrad_burst"``: Adagrad in the lecture's root-mean-square form
      (:class:`LectureRMS`) on the same bowl: after ~300 steps of tiny ``y`` gradients the
      effective step in ``y`` has grown past stability and the loss bursts from 1e-6 back to
      about 10; a ``1/(1 + t/50)`` decay, or PyTorch's sum form (an implicit
      ``1/sqrt(t+1)`` decay), tames it.
    """
    return {
        "saddle": {
            "surface": "tiny_network",
            "optimizers": {**_gd_and_momentum(0.02), "Adam": {"optimizer": "adam", "lr": 0.02}},
            "steps": 1000,
        },
        "bump": {"surface": "bumpy_1d", "optimizers": _gd_and_momentum(0.005), "steps": 3000},
        "ill_conditioned": {
            "surface": "ill_conditioned",
            "optimizers": {
                **_gd_and_momentum(0.0195),
                "Adagrad": {"optimizer": "adagrad", "lr": 0.5},
                "RMSprop": {"optimizer": "rmsprop", "lr": 0.05},
                "Adam": {"optimizer": "adam", "lr": 0.3},
            },
            "steps": 600,
        },
        "adagrad_burst": {
            "surface": "ill_conditioned",
            "optimizers": {
                "Adagrad, lecture RMS": {"optimizer": "adagrad", "schedule": LectureRMS(0.5)},
                "lecture RMS + decay": {
                    "optimizer": "adagrad",
                    "schedule": LectureRMS(0.5, decay=50.0),
                },
                "lecture RMS + warm-up + decay": {
                    "optimizer": "adagrad",
                    "schedule": LectureRMS(0.5, decay=50.0, warmup=20),
                },
                "Adagrad, PyTorch sum": {"optimizer": "adagrad", "lr": 0.5},
            },
            "steps": 600,
            "grad_tol": 1e-10,
        },
    }


def _gd_and_momentum(lr: float) -> dict[str, dict[str, Any]]:
    """Plain GD and heavy-ball momentum 0.9 at the same learning rate: the lecture's pair."""
    return {
        "GD": {"optimizer": "sgd", "lr": lr},
        "momentum": {"optimizer": "sgd", "lr": lr, "momentum": 0.9},
    }
