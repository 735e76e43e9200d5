"""Small classification data sets with a seeded train/validation split.

Nothing is downloaded: :func:`digits` reads the 8x8 handwritten digits that scikit-learn
ships inside its package (``pip install "saddlepoint[data]"``), :func:`spirals` and
:func:`blobs` are generated with NumPy. Every function is deterministic for a given seed
(``numpy.random.default_rng``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import finite_number, int_at_least

__all__ = ["Dataset", "blobs", "digits", "spirals", "split"]


@dataclass(frozen=True, repr=False)
class Dataset:
    """A classification data set already split into training and validation parts.

    Attributes
    ----------
    X_train, y_train : ndarray
        Training features ``(n_train, n_features)`` (float64) and integer labels.
    X_val, y_val : ndarray
        Validation features and labels (possibly empty).
    n_classes : int
        Number of classes; labels are ``0 .. n_classes - 1``.
    name : str
        Where the data came from, for reports.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    name: str = ""

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation samples."""
        return int(self.X_val.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {self.n_train} train + {self.n_val} validation samples, "
            f"{self.n_features} features, {self.n_classes} classes)"
        )


def _check_fraction(val_fraction: Any) -> float:
    if (
        isinstance(val_fraction, bool)
        or not isinstance(val_fraction, (int, float, np.floating))
        or not 0.0 <= float(val_fraction) < 1.0
    ):
        raise ValueError(f"val_fraction: expected a number in [0, 1), got {val_fraction!r}")
    return float(val_fraction)


def split(
    X: Any,
    y: Any,
    *,
    val_fraction: float = 0.2,
    seed: int | None = 0,
    stratify: bool = True,
    name: str = "",
) -> Dataset:
    """Split ``(X, y)`` into a :class:`Dataset` with a seeded random validation part.

    With ``stratify=True`` each class contributes ``round(val_fraction * count)`` samples
    to the validation part, so small data sets keep every class on both sides. The same
    seed gives the same split.
    """
    val_fraction = _check_fraction(val_fraction)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n, n_features), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected {X.shape[0]} labels like X, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
        raise ValueError(f"y: expected non-negative integer labels, got {y.dtype}")
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    if stratify:
        val_parts = []
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            take = round(val_fraction * members.size)
            val_parts.append(rng.permutation(members)[:take])
        val_idx = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, np.intp)
    else:
        val_idx = np.sort(rng.permutation(n)[: round(val_fraction * n)])
    is_val = np.zeros(n, dtype=bool)
    is_val[val_idx] = True
    # The training part is shuffled once too, so that an unshuffled pass is not class-sorted.
    train_idx = rng.permutation(np.flatnonzero(~is_val))
    n_classes = int(y.max()) + 1 if y.size else 0
    y = y.astype(np.int64, copy=False)
    return Dataset(
        X_train=X[train_idx],
        y_train=y[train_idx],
        X_val=X[val_idx],
        y_val=y[val_idx],
        n_classes=n_classes,
        name=name,
    )


def digits(
    *,
    val_fraction: float = 0.2,
    seed: int | None = 0,
    n_classes: int = 10,
    n_samples: int | None = None,
) -> Dataset:
    """The 8x8 handwritten digits bundled with scikit-learn (1,797 images, 64 features).

    Pixels (0..16) are scaled to [0, 1]. ``n_classes`` keeps only the digits
    ``0 .. n_classes - 1``; ``n_samples`` keeps a seeded random subset (for quick runs).
    Read from the installed scikit-learn package (``sklearn.datasets.load_digits``), never
    downloaded.
    """
    n_classes = int_at_least("n_classes", n_classes, 2)
    if n_classes > 10:
        raise ValueError(f"n_classes: expected an int in [2, 10], got {n_classes}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError('digits() needs scikit-learn: pip install "saddlepoint[data]"') from exc
    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    keep = y < n_classes
    X, y = X[keep], y[keep]
    if n_samples is not None:
        n_samples = int_at_least("n_samples", n_samples, 2 * n_classes)
        pick = np.random.default_rng(seed).permutation(y.size)[: min(n_samples, y.size)]
        X, y = X[np.sort(pick)], y[np.sort(pick)]
    return split(X, y, val_fraction=val_fraction, seed=seed, name="digits")


def spirals(
    n: int = 300,
    noise: float = 0.2,
    seed: int | None = 0,
    *,
    n_classes: int = 2,
    turns: float = 1.5,
    val_fraction: float = 0.2,
) -> Dataset:
    r"""Interleaved spirals in the plane, one arm per class: a problem a linear model cannot fit.

    Arm ``k`` has points :math:`r(\cos(\theta + 2\pi k/K), \sin(\theta + 2\pi k/K))` with
    :math:`r = t` and :math:`\theta = 2\pi\,\text{turns}\,t` for ``t`` uniform in
    (0.05, 1], plus Gaussian noise of standard deviation ``noise * 0.1`` on each
    coordinate. ``n`` points in total, split as evenly as possible between the arms.
    """
    n = int_at_least("n", n, 2)
    noise = finite_number("noise", noise)
    n_classes = int_at_least("n_classes", n_classes, 2)
    turns = finite_number("turns", turns)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    t = rng.uniform(0.05, 1.0, size=n)
    theta = 2.0 * np.pi * turns * t + 2.0 * np.pi * labels / n_classes
    X = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1)
    X += rng.normal(scale=0.1 * noise, size=X.shape)
    return split(X, labels, val_fraction=val_fraction, seed=seed, name="spirals")


def blobs(
    n: int = 300,
    centers: int = 3,
    n_features: int = 2,
    *,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-5.0, 5.0),
    seed: int | None = 0,
    val_fraction: float = 0.2,
) -> Dataset:
    """Gaussian blobs: ``centers`` isotropic clusters, one class each (like sklearn's).

    Centers are uniform in ``center_box`` on every axis; each point is its center plus
    Gaussian noise of standard deviation ``cluster_std``. ``n`` points in total, split as
    evenly as possible between the clusters.
    """
    n = int_at_least("n", n, 2)
    centers = int_at_least("centers", centers, 2)
    n_features = int_at_least("n_features", n_features, 1)
    cluster_std = finite_number("cluster_std", cluster_std)
    lo, hi = (float(v) for v in center_box)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(
            f"center_box: expected finite (low, high) with low < high, got {center_box}"
        )
    rng = np.random.default_rng(seed)
    middles = rng.uniform(lo, hi, size=(centers, n_features))
    labels = np.arange(n) % centers
    X = middles[labels] + rng.normal(scale=cluster_std, size=(n, n_features))
    return split(X, labels, val_fraction=val_fraction, seed=seed, name="blobs")
