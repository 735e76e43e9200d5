"""Small NumPy models with a flat parameter vector: exact gradients, Hessians and HVPs.

A model here is a loss function of one flat float vector ``params``, so that everything the
rest of the package does to analytic surfaces (optimizer steps, Hessian checks, escapes
along negative curvature) applies unchanged to a network. The only model is the multilayer
perceptron :class:`MLP`; its derivatives are exact:

- :meth:`MLP.grad` is backpropagation, vectorized over the samples (matrix products per
  layer, no Python loop over samples);
- :meth:`MLP.hvp` is Pearlmutter's R-operator (forward-over-reverse), an exact
  Hessian-vector product that costs about two gradients (Pearlmutter, "Fast exact
  multiplication by the Hessian", Neural Computation 6, 1994);
- :meth:`MLP.hessian` is the full Hessian, the R-operator applied to every unit vector at
  once (in chunks): exact to rounding, never block-diagonal, never Gauss-Newton.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._checks import finite_number, is_int

__all__ = ["ACTIVATIONS", "LOSSES", "MLP"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
LOSSES = ("cross_entropy", "mse")

# Directions pushed through the R-operator at once by MLP.hessian: bounds the temporaries
# (directions x samples x widest layer doubles) to about 32 MB.
_HESSIAN_CHUNK_ELEMENTS = 4_000_000


def _activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        # 0.5 * (1 + tanh(z / 2)) is the logistic function without overflow in exp(-z).
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    return z


def _activation_derivatives(
    name: str, z: np.ndarray, a: np.ndarray
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """First and second derivative of the activation at ``z`` (``a`` is its value there).

    ReLU's derivative at exactly 0 is taken as 0 and its second derivative as 0 everywhere,
    as PyTorch's autograd does.
    """
    if name == "relu":
        return (z > 0).astype(z.dtype), 0.0
    if name == "tanh":
        d1 = 1.0 - a * a
        return d1, -2.0 * a * d1
    if name == "sigmoid":
        d1 = a * (1.0 - a)
        return d1, d1 * (1.0 - 2.0 * a)
    return 1.0, 0.0


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    # log-sum-exp with the row maximum taken out: exact for logits of any size.
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class MLP:
    r"""Multilayer perceptron of layer widths ``sizes`` (``sizes[0] -> sizes[-1]``), flat params.

    Each layer computes :math:`z_l = a_{l-1} W_l + b_l`, hidden layers apply the activation
    :math:`a_l = \sigma(z_l)` and the last layer's :math:`z_L` are the outputs (logits).
    ``params`` holds, layer after layer, :math:`W_l` (shape ``(fan_in, fan_out)``, row-major)
    followed by :math:`b_l`; :meth:`unflatten` gives views of the pieces. (PyTorch's
    ``nn.Linear.weight`` is :math:`W_l^T`.)

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, at least two entries, each >= 1.
    activation : {"relu", "tanh", "sigmoid", "linear"}
        Hidden-layer nonlinearity ("linear" gives a deep linear network, whose loss surface
        is full of saddles).
    loss : {"cross_entropy", "mse"}
        ``"cross_entropy"``: PyTorch's ``CrossEntropyLoss`` on the logits, with integer class
        labels ``y``: :math:`\frac1n\sum_i \left(\log\sum_k e^{z_{ik}} - z_{i y_i}\right)`,
        computed with a stable log-sum-exp.
        ``"mse"``: PyTorch's ``MSELoss`` (mean over all elements). With integer labels ``y``
        it compares the softmax probabilities to one-hot targets, the classification set-up
        of the lecture (whose surface is flat where the loss is large); with float targets
        ``y`` of shape ``(n, sizes[-1])`` it compares the raw outputs (regression).
    l2 : float
        Adds :math:`\tfrac{l_2}{2}\|\theta\|^2` (all parameters) to the loss, and
        :math:`l_2\theta` / :math:`l_2 I` to its derivatives. Cross-entropy on separable
        data has no finite minimum (the gradient only vanishes at infinity); a small
        ``l2`` makes every critical point finite, which Hessian studies need.

    Examples
    --------
    >>> model = MLP([2, 16, 3], activation="tanh")
    >>> params = model.init(seed=0)
    >>> X = np.zeros((5, 2)); y = np.array([0, 1, 2, 0, 1])
    >>> loss, grad = model.loss_and_grad(params, X, y)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        loss: str = "cross_entropy",
        *,
        l2: float = 0.0,
    ) -> None:
        sizes = list(sizes) if not isinstance(sizes, (str, bytes)) else sizes
        if (
            not isinstance(sizes, list)
            or len(sizes) < 2
            or not all(is_int(s) and s >= 1 for s in sizes)
        ):
            raise ValueError(
                f"sizes: expected a sequence of at least two ints >= 1, got {sizes!r}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
        self.l2 = finite_number("l2", l2)
        self.sizes: tuple[int, ...] = tuple(int(s) for s in sizes)
        self.activation = activation
        self.loss_name = loss
        shapes: list[tuple[tuple[int, int], tuple[int]]] = []
        offsets: list[tuple[int, int, int]] = []
        start = 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            w_end = start + fan_in * fan_out
            shapes.append(((fan_in, fan_out), (fan_out,)))
            offsets.append((start, w_end, w_end + fan_out))
            start = w_end + fan_out
        self._shapes = shapes
        self._offsets = offsets
        self.n_params: int = start

    def __repr__(self) -> str:
        l2 = f", l2={self.l2:g}" if self.l2 else ""
        return (
            f"MLP({list(self.sizes)}, activation={self.activation!r}, "
            f"loss={self.loss_name!r}{l2}) with {self.n_params} parameters"
        )

    # ----------------------------------------------------------------------------- layout
    @property
    def n_layers(self) -> int:
        """Number of affine layers."""
        return len(self.sizes) - 1

    def unflatten(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views ``[(W_1, b_1), ..., (W_L, b_L)]`` into ``params`` (writes go through)."""
        params = self._check_params(params)
        return self._layers(params)

    def _layers(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        # flat: (..., n_params); the views keep the leading axes.
        lead = flat.shape[:-1]
        return [
            (
                flat[..., s:w].reshape(*lead, *w_shape),
                flat[..., w:e].reshape(*lead, *b_shape),
            )
            for (s, w, e), (w_shape, b_shape) in zip(self._offsets, self._shapes)
        ]

    def flatten(self, layers: Sequence[tuple[Any, Any]]) -> np.ndarray:
        """Inverse of :meth:`unflatten`: one float64 vector from ``[(W_l, b_l), ...]``."""
        if len(layers) != self.n_layers:
            raise ValueError(f"layers: expected {self.n_layers} (W, b) pairs, got {len(layers)}")
        pieces = []
        for i, ((w, b), (w_shape, b_shape)) in enumerate(zip(layers, self._shapes)):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != w_shape or b.shape != b_shape:
                raise ValueError(
                    f"layers[{i}]: expected W of shape {w_shape} and b of shape {b_shape}, "
                    f"got {w.shape} and {b.shape}"
                )
            pieces += [w.ravel(), b.ravel()]
        return np.concatenate(pieces)

    def init(self, seed: int | None = None, *, dtype: Any = np.float64) -> np.ndarray:
        r"""Fresh parameters, as PyTorch's ``nn.Linear`` initialises them.

        Every weight and bias is drawn from :math:`U(-1/\sqrt{\text{fan\_in}},
        1/\sqrt{\text{fan\_in}})` with ``numpy.random.default_rng(seed)``: the same seed
        gives the same vector.
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
        rng = np.random.default_rng(seed)
        params = np.empty(self.n_params, dtype=np.float64)
        for (s, _, e), ((fan_in, _), _) in zip(self._offsets, self._shapes):
            bound = 1.0 / math.sqrt(fan_in)
            params[s:e] = rng.uniform(-bound, bound, size=e - s)
        return params.astype(dtype, copy=False)

    # ---------------------------------------------------------------------- input checks
    def _check_params(self, params: Any) -> np.ndarray:
        params = np.asarray(params)
        if params.dtype not in (np.float32, np.float64):
            raise TypeError(f"params: expected a float32 or float64 array, got {params.dtype}")
        if params.shape != (self.n_params,):
            raise ValueError(
                f"params: expected shape ({self.n_params},) for {self!r}, got {params.shape}"
            )
        return params

    def _check_data(
        self, params: np.ndarray, X: Any, y: Any = None, *, need_y: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        params = self._check_params(params)
        dtype = params.dtype
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X: expected an array of shape (n, {self.sizes[0]}), got shape {X.shape}"
            )
        if X.shape[0] == 0:
            raise ValueError("X: expected at least one sample, got 0")
        if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
            raise TypeError(f"X: expected a real numeric array, got {X.dtype}")
        X = X.astype(dtype, copy=False)
        if not need_y:
            return params, X, None
        if y is None:
            raise ValueError("y: expected labels or targets, got None")
        y = np.asarray(y)
        n, k = X.shape[0], self.sizes[-1]
        if y.ndim == 1 and (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
            if y.shape[0] != n:
                raise ValueError(f"y: expected {n} labels like X, got {y.shape[0]}")
            if n and (y.min() < 0 or y.max() >= k):
                raise ValueError(
                    f"y: expected class labels in [0, {k}), got values in [{y.min()}, {y.max()}]"
                )
            return params, X, y.astype(np.intp, copy=False)
        if self.loss_name == "cross_entropy":
            raise TypeError(
                f"y: cross_entropy expects a 1-D integer array of class labels, got "
                f"{y.dtype} array of shape {y.shape}"
            )
        if y.shape != (n, k) or not np.issubdtype(y.dtype, np.floating):
            raise ValueError(
                f"y: mse expects integer labels of shape ({n},) or float targets of shape "
                f"({n}, {k}), got {y.dtype} array of shape {y.shape}"
            )
        return params, X, y.astype(dtype, copy=False)

    # --------------------------------------------------------------------------- forward
    def _forward(
        self, params: np.ndarray, X: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations ``zs[l]`` and activations ``acts[l]`` (``acts[0] = X``)."""
        acts, zs = [X], []
        layers = self._layers(params)
        for i, (W, b) in enumerate(layers):
            z = acts[-1] @ W + b
            zs.append(z)
            if i < len(layers) - 1:
                acts.append(_activation(self.activation, z))
        return zs, acts

    def forward(self, params: np.ndarray, X: Any) -> np.ndarray:
        """Outputs (logits) of shape ``(n, sizes[-1])``."""
        params, X, _ = self._check_data(params, X, need_y=False)
        return self._forward(params, X)[0][-1]

    def predict(self, params: np.ndarray, X: Any) -> np.ndarray:
        """Predicted class labels (argmax of the outputs), shape ``(n,)``."""
        return np.argmax(self.forward(params, X), axis=1)

    def predict_proba(self, params: np.ndarray, X: Any) -> np.ndarray:
        """Softmax probabilities of the outputs, shape ``(n, sizes[-1])``."""
        return _softmax(self.forward(params, X))

    def accuracy(self, params: np.ndarray, X: Any, y: Any) -> float:
        """Share of samples whose predicted class equals the integer label ``y``."""
        params, X, y = self._check_data(params, X, y)
        if y is None or y.ndim != 1:
            raise TypeError("y: accuracy expects a 1-D integer array of class labels")
        logits = self._forward(params, X)[0][-1]
        return float(np.mean(np.argmax(logits, axis=1) == y))

    # ---------------------------------------------------------------------- loss pieces
    def _loss_from_outputs(self, z: np.ndarray, y: np.ndarray) -> float:
        n, k = z.shape
        if self.loss_name == "cross_entropy":
            return float(-np.mean(_log_softmax(z)[np.arange(n), y]))
        if y.ndim == 1:
            diff = _softmax(z) - self._one_hot(y, k, z.dtype)
        else:
            diff = z - y
        return float(np.mean(diff * diff))

    @staticmethod
    def _one_hot(y: np.ndarray, k: int, dtype: Any) -> np.ndarray:
        t = np.zeros((y.shape[0], k), dtype=dtype)
        t[np.arange(y.shape[0]), y] = 1.0
        return t

    def _output_grad(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, dict]:
        """dLoss/dz for the outputs ``z`` and what the R-operator needs to go on."""
        n, k = z.shape
        if self.loss_name == "cross_entropy":
            p = _softmax(z)
            delta = p.copy()
            delta[np.arange(n), y] -= 1.0
            return delta / n, {"p": p}
        scale = 2.0 / (n * k)
        if y.ndim == 2:
            return scale * (z - y), {}
        # Softmax then squared error: dL/dz = J_p^T u with u = 2 (p - t)/(n k) and the
        # softmax Jacobian J_p = diag(p) - p p^T (symmetric).
        p = _softmax(z)
        u = scale * (p - self._one_hot(y, k, z.dtype))
        delta = p * u - p * np.sum(p * u, axis=-1, keepdims=True)
        return delta, {"p": p, "u": u}

    def _output_grad_r(self, r: np.ndarray, y: np.ndarray, cache: dict) -> np.ndarray:
        """R{dLoss/dz}: the output-layer Hessian applied to the direction ``r`` of ``z``."""
        n, k = r.shape[-2:]
        if self.loss_name == "cross_entropy":
            p = cache["p"]
            return (p * r - p * np.sum(p * r, axis=-1, keepdims=True)) / n
        scale = 2.0 / (n * k)
        if y.ndim == 2:
            return scale * r
        p, u = cache["p"], cache["u"]
        rp = p * r - p * np.sum(p * r, axis=-1, keepdims=True)  # R{p}
        ru = scale * rp  # R{u}
        pu = np.sum(p * u, axis=-1, keepdims=True)
        return (
            rp * u
            + p * ru
            - rp * pu
            - p * (np.sum(rp * u, axis=-1, keepdims=True) + np.sum(p * ru, axis=-1, keepdims=True))
        )

    # --------------------------------------------------------------------- public maths
    def loss(self, params: np.ndarray, X: Any, y: Any) -> float:
        """Mean loss over the samples (see the class docstring for the formulas)."""
        params, X, y = self._check_data(params, X, y)
        return self._loss_from_outputs(self._forward(params, X)[0][-1], y) + self._penalty(params)

    def _penalty(self, params: np.ndarray) -> float:
        return 0.5 * self.l2 * float(params @ params) if self.l2 else 0.0

    def grad(self, params: np.ndarray, X: Any, y: Any) -> np.ndarray:
        """Exact gradient of :meth:`loss` by backpropagation, shape ``(n_params,)``."""
        return self.loss_and_grad(params, X, y)[1]

    def loss_and_grad(self, params: np.ndarray, X: Any, y: Any) -> tuple[float, np.ndarray]:
        r"""Loss and its exact gradient in one forward and one backward pass.

        Backpropagation: :math:`\delta_L = \partial L/\partial z_L`,
        :math:`\nabla_{W_l} = a_{l-1}^T\delta_l`, :math:`\nabla_{b_l} = \sum_i \delta_{l,i}`,
        :math:`\delta_{l-1} = (\delta_l W_l^T)\odot\sigma'(z_{l-1})`.
        """
        params, X, y = self._check_data(params, X, y)
        zs, acts = self._forward(params, X)
        loss = self._loss_from_outputs(zs[-1], y) + self._penalty(params)
        delta, _ = self._output_grad(zs[-1], y)
        grad = np.empty_like(params)
        layers = self._layers(params)
        for i in range(self.n_layers - 1, -1, -1):
            s, w, e = self._offsets[i]
            grad[s:w] = (acts[i].T @ delta).ravel()
            grad[w:e] = delta.sum(axis=0)
            if i > 0:
                d1, _ = _activation_derivatives(self.activation, zs[i - 1], acts[i])
                delta = (delta @ layers[i][0].T) * d1
        if self.l2:
            grad += self.l2 * params
        return loss, grad

    def hvp(self, params: np.ndarray, X: Any, y: Any, v: Any) -> np.ndarray:
        """Exact Hessian-vector product ``H @ v`` (Pearlmutter's R-operator).

        ``v`` may be one vector of shape ``(n_params,)`` or a stack ``(m, n_params)``, which
        gives ``(m, n_params)``: the rows ``H @ v_j`` (the Hessian is symmetric).
        """
        params, X, y = self._check_data(params, X, y)
        v = np.asarray(v)
        if v.shape[-1:] != (self.n_params,) or v.ndim not in (1, 2):
            raise ValueError(
                f"v: expected shape ({self.n_params},) or (m, {self.n_params}), got {v.shape}"
            )
        if not np.issubdtype(v.dtype, np.floating):
            raise TypeError(f"v: expected a float array, got {v.dtype}")
        zs, acts = self._forward(params, X)
        return self._hvp(params, zs, acts, y, v.astype(params.dtype, copy=False))

    def _hvp(
        self,
        params: np.ndarray,
        zs: list[np.ndarray],
        acts: list[np.ndarray],
        y: np.ndarray,
        v: np.ndarray,
    ) -> np.ndarray:
        r"""R-operator with directions ``v`` of shape ``(..., n_params)``.

        Forward: :math:`R\{z_l\} = R\{a_{l-1}\}W_l + a_{l-1}V_l + c_l`,
        :math:`R\{a_l\} = \sigma'(z_l)\odot R\{z_l\}`. Backward:
        :math:`R\{\delta_{l-1}\} = (R\{\delta_l\}W_l^T + \delta_l V_l^T)\odot\sigma'(z_{l-1})
        + (\delta_l W_l^T)\odot\sigma''(z_{l-1})\odot R\{z_{l-1}\}` and
        :math:`R\{\nabla_{W_l}\} = R\{a_{l-1}\}^T\delta_l + a_{l-1}^T R\{\delta_l\}`.
        """
        layers = self._layers(params)
        dirs = self._layers(v)
        L = self.n_layers
        derivs = [
            _activation_derivatives(self.activation, zs[i], acts[i + 1]) for i in range(L - 1)
        ]
        r_acts: list[np.ndarray | None] = [None]  # R{a_0} = R{X} = 0
        r_zs = []
        for i in range(L):
            W = layers[i][0]
            V, c = dirs[i]
            rz = acts[i] @ V + c[..., None, :]
            r_prev = r_acts[i]
            if r_prev is not None:
                rz = rz + r_prev @ W
            r_zs.append(rz)
            if i < L - 1:
                r_acts.append(derivs[i][0] * rz)
        delta, cache = self._output_grad(zs[-1], y)
        r_delta = self._output_grad_r(r_zs[-1], y, cache)
        out = np.empty(v.shape, dtype=params.dtype)
        for i in range(L - 1, -1, -1):
            s, w, e = self._offsets[i]
            rgw = np.swapaxes(acts[i], -1, -2) @ r_delta
            r_act = r_acts[i]
            if r_act is not None:
                rgw = rgw + np.swapaxes(r_act, -1, -2) @ delta
            out[..., s:w] = rgw.reshape(*v.shape[:-1], -1)
            out[..., w:e] = r_delta.sum(axis=-2)
            if i > 0:
                W = layers[i][0]
                V = dirs[i][0]
                d1, d2 = derivs[i - 1]
                back = delta @ W.T
                r_back = r_delta @ W.T + delta @ np.swapaxes(V, -1, -2)
                r_delta = r_back * d1
                if not np.isscalar(d2):
                    r_delta = r_delta + back * d2 * r_zs[i - 1]
                delta = back * d1
        if self.l2:
            out += self.l2 * v
        return out

    def hessian(self, params: np.ndarray, X: Any, y: Any, *, max_params: int = 5000) -> np.ndarray:
        """The exact full Hessian, shape ``(n_params, n_params)``.

        Every column is an exact Hessian-vector product (:meth:`hvp` with a unit vector),
        computed in chunks of directions at once, then symmetrized (the two triangles agree
        to rounding). Memory and time grow with ``n_params**2``; models above
        ``max_params`` parameters raise ValueError: use :meth:`hvp` with
        :func:`saddlepoint.hessian.lowest_eigenpairs` there.
        """
        params, X, y = self._check_data(params, X, y)
        if self.n_params > max_params:
            raise ValueError(
                f"params: the full Hessian of {self.n_params} parameters exceeds "
                f"max_params={max_params}; use MLP.hvp with matrix-free eigensolvers"
            )
        zs, acts = self._forward(params, X)
        n = X.shape[0]
        per_direction = n * max(self.sizes)
        chunk = max(1, min(self.n_params, _HESSIAN_CHUNK_ELEMENTS // max(1, per_direction)))
        H = np.empty((self.n_params, self.n_params), dtype=params.dtype)
        eye = np.eye(self.n_params, dtype=params.dtype)
        for start in range(0, self.n_params, chunk):
            stop = min(start + chunk, self.n_params)
            H[start:stop] = self._hvp(params, zs, acts, y, eye[start:stop])
        return 0.5 * (H + H.T)

    def batched(self, n_runs: int) -> Any:
        """``n_runs`` independent copies of this model as the rows of one parameter array:
        :class:`saddlepoint.models_batched.BatchedMLP` (batched loss, gradient, accuracy)."""
        from .models_batched import BatchedMLP

        return BatchedMLP(self, n_runs)

    # ------------------------------------------------------------- convenience closures
    def functions(self, X: Any, y: Any) -> tuple[Any, Any]:
        """``(f, grad_fn)`` of the parameters alone on fixed data, for Hessian tools."""
        return (lambda p: self.loss(p, X, y)), (lambda p: self.grad(p, X, y))
