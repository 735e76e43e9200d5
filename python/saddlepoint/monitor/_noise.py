"""Gradient noise from per-example (or per-micro-batch) gradients.

The simple noise scale of McCandlish et al. (2018, "An Empirical Model of Large-Batch
Training", eq. 2.9) is ``B_simple = tr(Sigma) / ||G||^2``: the batch size at which the noise
of a mini-batch gradient is as large as the gradient itself. Batches well below it waste
steps on noise (a larger batch, or a decaying learning rate, helps); batches well above it
waste computation. From ``B`` rows ``g_i`` with mean ``G_hat``:

- ``tr(Sigma) ~ sum_i ||g_i - G_hat||^2 / (B - 1)`` (unbiased);
- ``||G||^2 ~ ||G_hat||^2 - tr(Sigma) / B`` (``E||G_hat||^2 = ||G||^2 + tr(Sigma)/B``); where
  that is not positive the noise drowns the signal and ``B_simple`` is reported as ``inf``.

The gradient signal-to-noise ratio is the mean over coordinates of ``G_hat_j^2 / var_j``
(coordinates with zero variance left out), Cockpit's MeanGSNR.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Noise(NamedTuple):
    noise_scale: float
    gsnr: float
    trace_sigma: float
    signal_sq: float
    batch: int


def gradient_noise(batch_grads: Any, dim: int) -> Noise:
    """Noise instruments of a ``(B, dim)`` array of per-example gradients (``B >= 2``)."""
    g = np.asarray(batch_grads)
    if g.ndim != 2 or g.shape[1] != dim:
        raise ValueError(
            f"batch_grads: expected shape (B, {dim}) (one gradient per example or micro-batch), "
            f"got {g.shape}"
        )
    if g.shape[0] < 2:
        raise ValueError(
            f"batch_grads: expected at least 2 rows to estimate noise, got {g.shape[0]}"
        )
    if not np.issubdtype(g.dtype, np.floating):
        raise TypeError(f"batch_grads: expected a float array, got {g.dtype}")
    g = g.astype(np.float64, copy=False)
    b = g.shape[0]
    mean = g.mean(axis=0)
    centred = g - mean
    var = np.einsum("ij,ij->j", centred, centred) / (b - 1)
    trace = float(var.sum())
    signal = float(mean @ mean) - trace / b
    scale = trace / signal if signal > 0 else float("inf")
    keep = var > 0
    gsnr = float(np.mean(mean[keep] ** 2 / var[keep])) if keep.any() else float("inf")
    return Noise(scale, gsnr, trace, signal, b)


def loss_spread(batch_losses: Any) -> float:
    """Standard error of the mean of per-example losses (how far apart two evaluations of the
    batch loss can be by noise alone)."""
    values = np.asarray(batch_losses, dtype=np.float64).ravel()
    if values.size < 2:
        raise ValueError(f"batch_losses: expected at least 2 values, got {values.size}")
    return float(values.std(ddof=1) / np.sqrt(values.size))
