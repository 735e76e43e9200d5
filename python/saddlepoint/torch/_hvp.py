"""Hessian-vector products of a torch model's loss on the flattened parameters.

:func:`hvp` turns ``(model, loss_fn, data)`` into the callable every matrix-free tool of the
package takes (``v -> H v`` on a NumPy vector: :func:`saddlepoint.hessian.lowest_eigenpairs`,
``saddlepoint.Monitor(hvp=...)``), evaluated at the model's parameters *as they are when it is
called*, so one object follows a whole training run.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._checks import is_int

Batch = tuple[Any, Any]
_METHODS = ("auto", "jvp", "vjp", "double_backward")
_MODES = ("eval", "train")


@dataclass(frozen=True)
class Layout:
    """Where each parameter lives in the flat vector: ``vector[offsets[i]:offsets[i + 1]]``
    is ``names[i]`` (of ``shapes[i]``), in ``model.named_parameters()`` order, parameters
    that do not require a gradient left out."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]

    @property
    def dim(self) -> int:
        """Length of the flat vector."""
        return self.offsets[-1]

    def unflatten(self, vector: Any) -> dict[str, np.ndarray]:
        """The flat ``vector`` as a dict ``name -> array of that parameter's shape`` (views)."""
        v = np.asarray(vector)
        if v.shape != (self.dim,):
            raise ValueError(f"vector: expected shape ({self.dim},), got {v.shape}")
        return {
            name: v[a:b].reshape(shape)
            for name, shape, a, b in zip(self.names, self.shapes, self.offsets, self.offsets[1:])
        }


def parameters_of(model: Any, name: str = "model") -> list[tuple[str, torch.Tensor]]:
    """The model's trainable ``(name, parameter)`` pairs, checked: a ValueError naming the
    model (and the parameter) for none at all, a meta-device or complex parameter."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name}: expected a torch.nn.Module, got {type(model).__name__}")
    pairs: list[tuple[str, torch.Tensor]] = [
        (n, p) for n, p in model.named_parameters() if p.requires_grad
    ]
    if not pairs:
        raise ValueError(
            f"{name}: {type(model).__name__} has no parameters that require a gradient"
        )
    for n, p in pairs:
        if p.is_meta:
            raise ValueError(
                f"{name}: parameter {n!r} is on the meta device (no values); materialise the "
                "model first (model.to_empty(device='cpu') and load its weights)"
            )
        if not p.is_floating_point():
            raise TypeError(f"{name}: parameter {n!r} is {p.dtype}; expected a real float dtype")
    return pairs


def layout_of(pairs: list[tuple[str, torch.Tensor]]) -> Layout:
    offsets = [0]
    for _, p in pairs:
        offsets.append(offsets[-1] + p.numel())
    return Layout(
        tuple(n for n, _ in pairs), tuple(tuple(p.shape) for _, p in pairs), tuple(offsets)
    )


def _batches(data: Any) -> list[Batch] | Iterable[Any]:
    """One batch ``(X, y)`` as a one-element list; any other re-iterable as it is."""
    one = isinstance(data, (tuple, list)) and len(data) == 2
    if one and isinstance(data[0], (torch.Tensor, np.ndarray)):
        return [(data[0], data[1])]
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise TypeError(
            "data: expected a batch (X, y) of tensors or an iterable of batches such as a "
            f"DataLoader, got {type(data).__name__}"
        )
    if iter(data) is data:
        raise TypeError(
            "data: an iterator is used up after one pass, and every product passes over the "
            "data; pass a list of batches or a DataLoader"
        )
    return data


class HessianVectorProduct:
    """``v -> H v`` for the mean loss of a torch model over ``data``, at its current parameters.

    Built by :func:`hvp`; see there. Attributes: :attr:`layout` (names, shapes, offsets),
    :attr:`dim`, :attr:`method` (``"jvp"``, ``"vjp"`` or ``"double_backward"``: the one in use),
    :attr:`n_products` (products so far), :attr:`mode`.
    """

    def __init__(
        self, model: Any, loss_fn: Any, data: Any, *, mode: str = "eval", method: str = "auto",
        seed: int = 0,
    ) -> None:  # fmt: skip
        pairs = parameters_of(model)
        if not callable(loss_fn):
            raise TypeError(
                f"loss_fn: expected a callable (output, target) -> scalar loss, got "
                f"{type(loss_fn).__name__}"
            )
        if mode not in _MODES:
            raise ValueError(f"mode: expected 'eval' or 'train', got {mode!r}")
        if method not in _METHODS:
            raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
        if not is_int(seed):
            raise TypeError(f"seed: expected an int, got {type(seed).__name__}")
        self.model, self.loss_fn, self.mode, self.seed = model, loss_fn, mode, int(seed)
        self.layout = layout_of(pairs)
        self._data = _batches(data)
        self._dtype = pairs[0][1].dtype
        # "auto" tries these in order, keeping the first that differentiates the model
        self._methods = ["vjp", "double_backward"] if method == "auto" else [method]
        self.n_products = 0
        # a first pass checks the data and the loss before any product is asked for
        self._sizes = [self._size(X, i) for i, (X, _) in enumerate(self._each())]
        if not self._sizes:
            raise ValueError("data: expected at least one batch, got none")
        self.loss()

    @property
    def dim(self) -> int:
        """Number of (trainable) parameters: the length of the vectors."""
        return self.layout.dim

    @property
    def eps(self) -> float:
        """Machine epsilon of the least precise parameter: what the products are exact to,
        relative to ``|H|``, up to a small factor."""
        return max(float(torch.finfo(p.dtype).eps) for p in self._current().values())

    # ----------------------------------------------------------------------------------
    # the data and the model's state

    def _each(self) -> Iterable[Batch]:
        for i, batch in enumerate(self._data):
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise TypeError(
                    f"data: batch {i} is a {type(batch).__name__}; expected (X, y), the input "
                    "and the target loss_fn takes"
                )
            yield self._tensor(batch[0]), self._tensor(batch[1])

    def _tensor(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
            if value.is_floating_point():  # NumPy's float64 data for a float32 model
                value = value.to(self._dtype)
        return value

    @staticmethod
    def _size(X: Any, i: int) -> int:
        if not isinstance(X, torch.Tensor) or X.ndim == 0:
            raise TypeError(f"data: batch {i}'s input must be a tensor with a batch dimension")
        return int(X.shape[0])

    def _current(self) -> dict[str, torch.Tensor]:
        """The live parameters by name, checked against the layout (a parameter replaced by
        a new object of another shape since construction is an error, not a wrong answer)."""
        live = dict(self.model.named_parameters())
        out = {}
        for name, shape in zip(self.layout.names, self.layout.shapes):
            p = live.get(name)
            if p is None or tuple(p.shape) != shape:
                raise ValueError(
                    f"model: parameter {name!r} changed since hvp() was built "
                    f"(expected shape {shape}); build a new hvp"
                )
            out[name] = p
        return out

    def _over_data(self, fn: Callable[[Any, Any], Any]) -> list[tuple[float, Any]]:
        """``fn(X, y)`` on every batch with its weight ``n_b / N``, in the requested mode
        (every module's own flag restored afterwards) and, in train mode, with the random
        state fixed per batch, so that dropout draws the same masks at every call and ``H``
        stays one fixed matrix."""
        flags = [(m, m.training) for m in self.model.modules()]
        self.model.train(self.mode == "train")
        out = []
        try:
            for i, (X, y) in enumerate(self._each()):
                n = self._size(X, i)
                if self.mode == "train":
                    with torch.random.fork_rng(devices=[]):
                        torch.manual_seed(self.seed + i)
                        value = fn(X, y)
                else:
                    value = fn(X, y)
                out.append((n, value))
        finally:
            for m, flag in flags:
                m.training = flag
        total = float(sum(n for n, _ in out))
        return [(n / total, value) for n, value in out]

    def _loss_at(self, params: dict[str, torch.Tensor], X: Any, y: Any) -> torch.Tensor:
        buffers = {n: b.clone() for n, b in self.model.named_buffers()}  # running stats stay
        out = torch.func.functional_call(self.model, (params, buffers), (X,))
        loss = self.loss_fn(out, y)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(
                f"loss_fn: expected a scalar loss (the batch mean, e.g. reduction='mean'), got "
                f"{shape}"
            )
        return loss.reshape(())

    # ----------------------------------------------------------------------------------
    # values

    def loss(self) -> float:
        """The mean loss over ``data`` at the current parameters (weighted by batch size)."""
        params = {n: p.detach() for n, p in self._current().items()}
        with torch.no_grad():
            parts = self._over_data(lambda X, y: float(self._loss_at(params, X, y)))
        return math.fsum(w * v for w, v in parts)

    def gradient(self) -> np.ndarray:
        """The gradient of :meth:`loss`, flat (float64)."""
        names = self.layout.names

        def grad(X: Any, y: Any) -> np.ndarray:
            params = {n: p.detach().requires_grad_(True) for n, p in self._current().items()}
            loss = self._loss_at(params, X, y)
            parts = torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)
            return self._flat(parts)

        return sum(w * g for w, g in self._over_data(grad))  # type: ignore[return-value]

    def vector(self) -> np.ndarray:
        """The current parameters, flat (a float64 copy)."""
        return self._flat([p.detach() for p in self._current().values()])

    def assign(self, vector: Any) -> None:
        """Write a flat vector into the parameters, in place (the optimizer keeps its
        references; every parameter keeps its dtype and device)."""
        v = self._vector(vector, "vector")
        with torch.no_grad():
            for p, part in zip(self._current().values(), self._split(v)):
                p.copy_(part)

    # ----------------------------------------------------------------------------------
    # products

    def _vector(self, v: Any, name: str) -> np.ndarray:
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        arr = np.asarray(v)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{name}: expected a real vector, got {arr.dtype}")
        if arr.shape not in ((self.dim,), (self.dim, 1)):
            raise ValueError(
                f"{name}: expected a flat vector of shape ({self.dim},) (the model's trainable "
                f"parameters, layout in hvp.layout), got {arr.shape}"
            )
        return arr.reshape(self.dim)

    def _split(self, v: np.ndarray) -> list[torch.Tensor]:
        live = list(self._current().values())
        offsets = self.layout.offsets
        return [
            torch.from_numpy(np.ascontiguousarray(v[a:b]))
            .reshape(p.shape)
            .to(dtype=p.dtype, device=p.device)
            for p, a, b in zip(live, offsets, offsets[1:])
        ]

    def _flat(self, parts: Any) -> np.ndarray:
        out = np.zeros(self.dim)
        for part, a, b in zip(parts, self.layout.offsets, self.layout.offsets[1:]):
            if part is not None:  # a parameter the loss does not use: zero curvature
                out[a:b] = part.detach().reshape(-1).cpu().double().numpy()
        return out

    def __call__(self, v: Any) -> np.ndarray:
        """``H v`` (float64) for a flat vector ``v`` of length :attr:`dim`."""
        tangents = self._split(self._vector(v, "v"))
        self.n_products += 1
        while True:
            product = getattr(self, f"_{self._methods[0]}_product")
            try:
                return self._weighted(product, tangents)
            except (RuntimeError, NotImplementedError):
                # a transform cannot differentiate this model (forward-mode AD missing for an
                # operation, torch 2.13's mse_loss under jvp-of-grad, a module that mutates
                # state inside the transform): the next method; double backward works for any
                # model autograd can differentiate twice, so its errors are the model's own
                if len(self._methods) == 1:
                    raise
                self._methods.pop(0)

    @property
    def method(self) -> str:
        """The product in use: ``"jvp"``, ``"vjp"`` or ``"double_backward"``."""
        return self._methods[0]

    def _weighted(self, product: Callable[..., np.ndarray], tangents: list[torch.Tensor]):  # type: ignore[no-untyped-def]
        parts = self._over_data(lambda X, y: product(X, y, tangents))
        return sum(w * hv for w, hv in parts)

    def _jvp_product(self, X: Any, y: Any, tangents: list[torch.Tensor]) -> np.ndarray:
        # forward over reverse: the directional derivative of the gradient
        names = self.layout.names
        primals = {n: p.detach() for n, p in self._current().items()}
        grad = torch.func.grad(lambda params: self._loss_at(params, X, y))
        with warnings.catch_warnings():
            # jvp's first call imports torch's jvp decompositions, which torch.jit.script
            # itself and warns that jit.script is deprecated: torch's business, not the user's
            warnings.filterwarnings("ignore", "`torch.jit.script`", DeprecationWarning)
            hv = torch.func.jvp(grad, (primals,), (dict(zip(names, tangents)),))[1]
        return self._flat([hv[n] for n in names])

    def _vjp_product(self, X: Any, y: Any, tangents: list[torch.Tensor]) -> np.ndarray:
        # reverse over reverse: H is symmetric, so v^T H = (H v)^T
        names = self.layout.names
        primals = {n: p.detach() for n, p in self._current().items()}
        grad = torch.func.grad(lambda params: self._loss_at(params, X, y))
        pullback = torch.func.vjp(grad, primals)[1]
        (hv,) = pullback(dict(zip(names, tangents)))
        return self._flat([hv[n] for n in names])

    def _double_backward_product(self, X: Any, y: Any, tangents: list[torch.Tensor]) -> np.ndarray:
        names = self.layout.names
        params = {n: p.detach().requires_grad_(True) for n, p in self._current().items()}
        inputs = [params[n] for n in names]
        with torch.enable_grad():
            loss = self._loss_at(params, X, y)
            grads = torch.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)
            pairs = [(g, t) for g, t in zip(grads, tangents) if g is not None and g.requires_grad]
            if not pairs:  # the loss is linear in every parameter: H = 0
                return np.zeros(self.dim)
            dot = (pairs[0][0] * pairs[0][1]).sum()
            for g, t in pairs[1:]:  # a plain loop: the parameters may differ in dtype
                dot = dot + (g * t).sum()
            hv = torch.autograd.grad(dot, inputs, allow_unused=True)
        return self._flat(hv)

    def __repr__(self) -> str:
        return (
            f"HessianVectorProduct({type(self.model).__name__}, {self.dim} parameters in "
            f"{len(self.layout.names)} tensors, {len(self._sizes)} batches, mode={self.mode!r}, "
            f"method={self.method!r})"
        )


def hvp(
    model: Any, loss_fn: Any, data: Any, *, mode: str = "eval", method: str = "auto",
    seed: int = 0,
) -> HessianVectorProduct:  # fmt: skip
    """The Hessian-vector product of a torch model's loss, on its flattened parameters.

    ``H`` is the Hessian of the mean loss over ``data`` with respect to the model's trainable
    parameters (``model.named_parameters()`` order, those with ``requires_grad``), at the
    parameters as they are at each call; the product takes and returns NumPy vectors
    (float64 out), so it plugs into :func:`saddlepoint.hessian.lowest_eigenpairs` and
    ``saddlepoint.Monitor(hvp=...)``. With batches ``b`` of sizes ``n_b`` (``N`` in all) and
    ``loss_fn`` the batch mean, ``H v = sum_b (n_b / N) H_b v``: the full-data Hessian.

    Parameters
    ----------
    model : torch.nn.Module
        Float parameters on any real device (the products are moved to the CPU).
    loss_fn : callable
        ``loss_fn(model(X), y) -> scalar tensor``, the batch mean (``torch.nn.MSELoss()``,
        ``torch.nn.functional.cross_entropy``, ...).
    data : (X, y) or iterable of (X, y)
        One batch, or a re-iterable of batches (a list, a ``DataLoader``); NumPy inputs are
        converted (float ones to the parameters' dtype).
    mode : {"eval", "train"}
        The module mode for every evaluation (each module's own flag restored afterwards).
        ``"train"`` keeps dropout and batch statistics; the random state is then fixed per
        batch (from ``seed``) so that every product sees the same dropout masks, and batch
        norm's running statistics are never updated.
    method : {"auto", "jvp", "vjp", "double_backward"}
        ``"jvp"``: ``torch.func.jvp`` of ``torch.func.grad`` (forward over reverse);
        ``"vjp"``: ``torch.func.vjp`` of it (reverse over reverse);
        ``"double_backward"``: ``torch.autograd.grad`` twice, for models the transforms
        cannot take. ``"auto"`` is ``"vjp"``, falling back to ``"double_backward"`` for a
        model it cannot differentiate (``.method`` says which is in use). Not ``"jvp"``:
        torch 2.13's ``mse_loss`` fails under it, and it costs more on small models (one
        thread, a 26-parameter MLP on 40 examples: jvp 5.7 ms, vjp 1.6 ms, double backward
        1.6 ms; the 3,658-parameter digits CNN on 1,438 images: about 45 ms each).
    seed : int
        The random state of the train-mode passes.

    Returns
    -------
    HessianVectorProduct
        Callable ``v -> H v``; also ``dim``, ``layout`` (names, shapes, offsets; its
        ``unflatten`` maps a vector back to named arrays), ``loss()``, ``gradient()``,
        ``vector()`` and ``assign(vector)`` at the current parameters, ``n_products``.

    Examples
    --------
    Least squares ``mean((X w - y)^2)`` with a linear model: ``H = 2 X^T X / n``, here
    ``diag(1, 4)`` (classify's example has the lecture's two-weight saddle).

    >>> import numpy as np, torch
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> X, y = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 1)
    >>> h = hvp(model, torch.nn.MSELoss(), (X, y))
    >>> h.dim, h.layout.names
    (2, ('weight',))
    >>> h(np.array([1.0, 0.0])), h(np.array([0.0, 1.0]))
    (array([1., 0.]), array([0., 4.]))
    """
    return HessianVectorProduct(model, loss_fn, data, mode=mode, method=method, seed=seed)
