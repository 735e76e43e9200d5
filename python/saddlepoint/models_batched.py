"""N independent runs of one :class:`~saddlepoint.models.MLP` as the rows of an (N, P) array.

:class:`BatchedMLP` is the run axis added to an MLP: parameters ``P`` of shape
``(n_runs, n_params)`` (row ``r`` is one flat parameter vector of the MLP), forward and
backward passes batched over the runs (one ``numpy.matmul`` per layer over a stack of
``(samples, fan_in) @ (fan_in, fan_out)`` products), each run on its own mini-batch
(``idx[r]`` are run ``r``'s sample indices). Stepping all runs is then one optimizer call
on the 2-D array, with one hyper-parameter value per row (see :mod:`saddlepoint.optim`).

Row ``r`` of every result equals the MLP's own result for ``P[r]`` on ``X[idx[r]]`` to
rounding: the same products and reductions per row, measured bit for bit in float64
(tests/test_sweep_models.py holds rtol 1e-12; a BLAS may order a stacked product's sums
differently on other builds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .models import MLP, _activation, _activation_derivatives, _log_softmax, _softmax

__all__ = ["BatchedMLP"]


class BatchedMLP:
    """``n_runs`` independent copies of `model`, parameters as rows of one 2-D array.

    Parameters
    ----------
    model : saddlepoint.models.MLP
        The architecture, activation, loss and ``l2`` of every run.
    n_runs : int
        Rows of the parameter arrays (>= 1).

    Examples
    --------
    >>> from saddlepoint.models import MLP
    >>> batched = BatchedMLP(MLP([2, 4, 3]), 5)
    >>> P = batched.init([0, 1, 2, 3, 4])
    >>> X = np.zeros((6, 2)); y = np.array([0, 1, 2, 0, 1, 2])
    >>> loss, grad = batched.loss_and_grad(P, X, y, np.zeros((5, 3), dtype=int))
    >>> loss.shape, grad.shape
    ((5,), (5, 27))
    """

    def __init__(self, model: MLP, n_runs: int) -> None:
        if not isinstance(model, MLP):
            raise TypeError(
                f"model: expected a saddlepoint.models.MLP, got {type(model).__name__}"
            )
        if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
            raise ValueError(f"n_runs: expected an int >= 1, got {n_runs!r}")
        self.model = model
        self.n_runs = int(n_runs)
        self.n_params = model.n_params

    def __repr__(self) -> str:
        return f"BatchedMLP({self.model!r}, n_runs={self.n_runs})"

    def init(self, seeds: Any) -> np.ndarray:
        """``(n_runs, n_params)`` float64: row ``r`` is ``model.init(seeds[r])``."""
        seeds = list(seeds)
        if len(seeds) != self.n_runs:
            raise ValueError(f"seeds: expected {self.n_runs} seeds, got {len(seeds)}")
        return np.stack([self.model.init(s) for s in seeds])

    # ------------------------------------------------------------------------ checks
    def _check(self, P: Any, X: Any, y: Any, idx: Any) -> tuple[np.ndarray, Any, Any]:
        P = np.asarray(P)
        if P.dtype not in (np.float32, np.float64):
            raise TypeError(f"P: expected a float32 or float64 array, got {P.dtype}")
        if P.shape != (self.n_runs, self.n_params):
            raise ValueError(f"P: expected shape ({self.n_runs}, {self.n_params}), got {P.shape}")
        # the single model's checks of X and y (on the first row)
        _, X, y = self.model._check_data(P[0], X, y)
        if idx is None:
            return P, X, y
        idx = np.asarray(idx)
        if (
            idx.ndim != 2
            or idx.shape[0] != self.n_runs
            or not np.issubdtype(idx.dtype, np.integer)
        ):
            raise ValueError(
                f"idx: expected an integer array of shape ({self.n_runs}, batch), got "
                f"{idx.dtype} array of shape {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= X.shape[0]):
            raise ValueError(f"idx: expected sample indices in [0, {X.shape[0]})")
        if idx.shape[1] == 0:
            raise ValueError("idx: expected at least one sample per run, got 0")
        return P, X[idx], y[idx]

    def _layers(self, P: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        n = P.shape[0]
        return [
            (P[:, s:w].reshape(n, *ws), P[:, w:e])
            for (s, w, e), (ws, _) in zip(self.model._offsets, self.model._shapes)
        ]

    # ------------------------------------------------------------------------- maths
    def _forward(self, P: np.ndarray, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        act = self.model.activation
        acts, zs = [X], []
        layers = self._layers(P)
        for i, (W, b) in enumerate(layers):
            z = acts[-1] @ W + b[:, None, :]  # (n_runs, samples, fan_out)
            zs.append(z)
            if i < len(layers) - 1:
                acts.append(_activation(act, z))
        return zs, acts

    def _targets(self, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Float targets of the outputs ``z`` (one-hot for labels), broadcast over runs."""
        if np.issubdtype(y.dtype, np.integer):
            t = np.zeros((*y.shape, z.shape[-1]), dtype=z.dtype)
            np.put_along_axis(t, y[..., None], 1.0, axis=-1)
            return t
        return y

    def _loss_rows(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        labels = np.issubdtype(y.dtype, np.integer)
        if self.model.loss_name == "cross_entropy":
            picked = np.take_along_axis(
                _log_softmax(z), np.broadcast_to(y, z.shape[:-1])[..., None], axis=-1
            )[..., 0]
            return -np.mean(picked, axis=-1)
        diff = (_softmax(z) if labels else z) - self._targets(y, z)
        return np.mean(diff * diff, axis=(-2, -1))

    def _output_grad(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        n, k = z.shape[-2:]
        if self.model.loss_name == "cross_entropy":
            return (_softmax(z) - self._targets(y, z)) / n
        scale = 2.0 / (n * k)
        if not np.issubdtype(y.dtype, np.integer):
            return scale * (z - y)
        p = _softmax(z)
        u = scale * (p - self._targets(y, z))
        return p * u - p * np.sum(p * u, axis=-1, keepdims=True)

    def _penalty(self, P: np.ndarray) -> np.ndarray | float:
        return 0.5 * self.model.l2 * np.einsum("rp,rp->r", P, P) if self.model.l2 else 0.0

    def loss(self, P: Any, X: Any, y: Any, idx: Any = None) -> np.ndarray:
        """Mean loss of each run on its samples ``X[idx[r]]`` (all of ``X`` when idx is None),
        shape ``(n_runs,)``."""
        P, X, y = self._check(P, X, y, idx)
        return self._loss_rows(self._forward(P, X)[0][-1], y) + self._penalty(P)

    def accuracy(self, P: Any, X: Any, y: Any, idx: Any = None) -> np.ndarray:
        """Share of each run's samples whose predicted class is the label, shape ``(n_runs,)``."""
        P, X, y = self._check(P, X, y, idx)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError("y: accuracy expects integer class labels")
        logits = self._forward(P, X)[0][-1]
        return np.mean(np.argmax(logits, axis=-1) == y, axis=-1)

    def loss_and_grad(
        self, P: Any, X: Any, y: Any, idx: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each run's loss ``(n_runs,)`` and exact gradient ``(n_runs, n_params)`` on its own
        mini-batch ``X[idx[r]], y[idx[r]]`` (``idx`` of shape ``(n_runs, batch)``; None: the
        whole of ``X`` for every run): backpropagation as :meth:`MLP.loss_and_grad`, batched
        over the runs."""
        P, X, y = self._check(P, X, y, idx)
        zs, acts = self._forward(P, X)
        loss = self._loss_rows(zs[-1], y) + self._penalty(P)
        delta = self._output_grad(zs[-1], y)
        grad = np.empty_like(P)
        layers = self._layers(P)
        n = P.shape[0]
        for i in range(self.model.n_layers - 1, -1, -1):
            s, w, e = self.model._offsets[i]
            grad[:, s:w] = (np.swapaxes(acts[i], -1, -2) @ delta).reshape(n, -1)
            grad[:, w:e] = delta.sum(axis=-2)
            if i > 0:
                d1, _ = _activation_derivatives(self.model.activation, zs[i - 1], acts[i])
                delta = (delta @ np.swapaxes(layers[i][0], -1, -2)) * d1
        if self.model.l2:
            grad += self.model.l2 * P
        return loss, grad
