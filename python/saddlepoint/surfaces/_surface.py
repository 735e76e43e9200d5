"""The :class:`Surface` interface, its checked public methods, surfaces from plain functions,
and the registry of built-in factories (:func:`get`, :func:`available`)."""

from __future__ import annotations

import abc
import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import int_at_least

KINDS = ("minimum", "maximum", "saddle", "degenerate")


Array = NDArray[np.floating[Any]]


@dataclass(frozen=True, eq=False)
class CriticalPoint:
    """A point where the gradient vanishes.

    Attributes
    ----------
    point
        Coordinates, float64 array of shape ``(dim,)`` (read-only).
    value
        The surface's value there.
    kind
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` (a zero Hessian
        eigenvalue: second order cannot decide), as :func:`saddlepoint.hessian.classify`
        decides it.
    note
        What the point is when the Hessian alone cannot tell, e.g. ``"global minimum"``.
    """

    point: NDArray[np.float64]
    value: float
    kind: str
    note: str = field(default="")

    def __post_init__(self) -> None:
        p = np.array(self.point, dtype=np.float64)
        p.flags.writeable = False
        object.__setattr__(self, "point", p)
        object.__setattr__(self, "value", float(self.value))
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")


def _as_points(X: ArrayLike, dim: int, name: str) -> Array:
    """``X`` as a float32/float64 array of shape ``(..., dim)``; other reals become float64."""
    X = np.asarray(X)
    if X.dtype != np.float32 and X.dtype != np.float64:
        if X.dtype.kind not in "iuf":
            raise TypeError(f"X: expected a real (float or int) array, got dtype {X.dtype}")
        X = X.astype(np.float64)
    if X.ndim == 0 or X.shape[-1] != dim:
        raise ValueError(f"X: {name} expects points of shape (..., {dim}), got shape {X.shape}")
    return X


class Surface(abc.ABC):
    """A loss surface ``f: R^dim -> R`` with its gradient and Hessian.

    Subclasses implement ``_value``, ``_grad`` and ``_hessian`` on an array already checked
    to be float32/float64 of shape ``(..., dim)``; the public methods do the checking. Any
    object with ``dim``, ``value``, ``grad`` and ``hessian`` works wherever a surface is
    expected; :meth:`from_functions` wraps plain functions.

    Parameters
    ----------
    name
        Registry name, used in plots and reprs.
    dim
        Number of coordinates.
    bounds
        ``(low, high)`` for every coordinate: the plotting window.
    start
        A default starting point, shape ``(dim,)``.
    critical_points
        The known critical points.
    """

    def __init__(
        self,
        name: str,
        dim: int,
        bounds: Sequence[tuple[float, float]],
        start: ArrayLike,
        critical_points: Sequence[CriticalPoint] = (),
    ) -> None:
        int_at_least("dim", dim)
        self.name = str(name)
        self.dim = int(dim)
        self.bounds = tuple((float(lo), float(hi)) for lo, hi in bounds)
        if len(self.bounds) != self.dim or any(lo >= hi for lo, hi in self.bounds):
            raise ValueError(
                f"bounds: expected {self.dim} pairs (low, high) with low < high, got {bounds!r}"
            )
        s = np.array(start, dtype=np.float64)
        if s.shape != (self.dim,):
            raise ValueError(f"start: expected shape ({self.dim},), got shape {s.shape}")
        s.flags.writeable = False
        self.start = s
        self.critical_points = tuple(critical_points)

    # -- public, checked -----------------------------------------------------------------
    def value(self, X: ArrayLike) -> Array:
        """``f(X)``: shape ``X.shape[:-1]``."""
        return self._value(_as_points(X, self.dim, self.name))

    def grad(self, X: ArrayLike) -> Array:
        """The gradient at ``X``: shape ``X.shape``."""
        return self._grad(_as_points(X, self.dim, self.name))

    def hessian(self, X: ArrayLike) -> Array:
        """The Hessian at ``X``: shape ``X.shape + (dim,)``, symmetric."""
        return self._hessian(_as_points(X, self.dim, self.name))

    def __call__(self, X: ArrayLike) -> Array:
        return self.value(X)

    def __repr__(self) -> str:
        return f"<Surface {self.name!r} dim={self.dim}>"

    # -- what a subclass implements, on checked points of shape (..., dim) ----------------
    @abc.abstractmethod
    def _value(self, X: Array) -> Array:
        """Values, shape ``X.shape[:-1]``."""

    @abc.abstractmethod
    def _grad(self, X: Array) -> Array:
        """Gradients, shape ``X.shape``."""

    @abc.abstractmethod
    def _hessian(self, X: Array) -> Array:
        """Hessians, shape ``X.shape + (dim,)``."""

    @classmethod
    def from_functions(
        cls,
        value: Callable[[Any], Any],
        grad: Callable[[Any], Any],
        hessian: Callable[[Any], Any] | None = None,
        *,
        dim: int,
        name: str = "custom",
        bounds: Sequence[tuple[float, float]] | None = None,
        start: ArrayLike | None = None,
        critical_points: Sequence[CriticalPoint] = (),
        vectorized: bool = False,
    ) -> Surface:
        """A surface from plain functions of one point.

        Parameters
        ----------
        value, grad, hessian
            ``value(x) -> float``, ``grad(x) -> (dim,)`` and ``hessian(x) -> (dim, dim)``
            for one point ``x`` of shape ``(dim,)``. They are called once per point unless
            ``vectorized=True`` promises they accept ``(..., dim)`` like a built-in
            surface. Without ``hessian``, Hessians come from central differences of
            ``grad`` (:func:`saddlepoint.hessian.hessian`, one point at a time: ``2 dim``
            gradient calls per point, accurate to its documented error bound, not exact).
        dim
            Number of coordinates.
        name, bounds, start, critical_points
            As for :class:`Surface`; bounds default to ``(-2, 2)`` per coordinate and
            start to the origin.
        """
        if not callable(value) or not callable(grad):
            raise TypeError("value and grad: expected callables of one point")
        if hessian is not None and not callable(hessian):
            raise TypeError(f"hessian: expected a callable or None, got {type(hessian).__name__}")
        int_at_least("dim", dim)
        return _FunctionSurface(
            value,
            grad,
            hessian,
            bool(vectorized),
            name=name,
            dim=dim,
            bounds=bounds if bounds is not None else ((-2.0, 2.0),) * int(dim),
            start=start if start is not None else np.zeros(int(dim)),
            critical_points=critical_points,
        )


class _FunctionSurface(Surface):
    def __init__(
        self,
        value: Callable[[Any], Any],
        grad: Callable[[Any], Any],
        hessian: Callable[[Any], Any] | None,
        vectorized: bool,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self._f, self._g, self._h, self._vectorized = value, grad, hessian, vectorized

    def _per_point(self, fn: Callable[[Any], Any], X: Array, tail: tuple[int, ...]) -> Array:
        flat = X.reshape(-1, self.dim)
        out = np.empty((flat.shape[0], *tail), dtype=X.dtype)
        for i, x in enumerate(flat):
            out[i] = fn(x)
        return out.reshape(X.shape[:-1] + tail)

    def _vectorized_call(self, fn: Callable[[Any], Any], X: Array, tail: tuple[int, ...]) -> Array:
        out = np.asarray(fn(X))
        expected = X.shape[:-1] + tail
        if out.shape != expected:
            raise ValueError(
                f"{getattr(fn, '__name__', 'function')}: with vectorized=True expected a "
                f"result of shape {expected} for points of shape {X.shape}, got {out.shape}"
            )
        return out

    def _value(self, X: Array) -> Array:
        if self._vectorized:
            return self._vectorized_call(self._f, X, ())
        return self._per_point(self._f, X, ())

    def _grad(self, X: Array) -> Array:
        if self._vectorized:
            return self._vectorized_call(self._g, X, (self.dim,))
        return self._per_point(self._g, X, (self.dim,))

    def _hessian(self, X: Array) -> Array:
        if self._h is not None:
            if self._vectorized:
                return self._vectorized_call(self._h, X, (self.dim, self.dim))
            return self._per_point(self._h, X, (self.dim, self.dim))
        # Imported here: the finite-difference Hessian lives with the Hessian checks.
        from ..hessian import hessian as fd_hessian

        return self._per_point(lambda x: fd_hessian(self._grad, x), X, (self.dim, self.dim))


def _cp(point: ArrayLike, value: float, kind: str, note: str = "") -> CriticalPoint:
    return CriticalPoint(np.asarray(point, dtype=np.float64), value, kind, note)


class _Formula(Surface):
    """A built-in surface whose formulas are passed as functions of a checked ``X``."""

    def __init__(
        self,
        value: Callable[[Array], Array],
        grad: Callable[[Array], Array],
        hessian: Callable[[Array], Array],
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self._fv, self._fg, self._fh = value, grad, hessian

    def _value(self, X: Array) -> Array:
        return self._fv(X)

    def _grad(self, X: Array) -> Array:
        return self._fg(X)

    def _hessian(self, X: Array) -> Array:
        return self._fh(X)

    def __reduce__(self) -> tuple[Any, ...]:
        # The formulas are closures: pickle the factory call instead (set by _builtin).
        spec = getattr(self, "_spec", None)
        if spec is None:  # pragma: no cover - every built-in goes through _builtin
            raise TypeError(f"cannot pickle surface {self.name!r}: not built by its factory")
        return (_rebuild, spec)


def _rebuild(name: str, kwargs: dict[str, Any]) -> Surface:
    return _REGISTRY[name](**kwargs)


_REGISTRY: dict[str, Callable[..., Surface]] = {}


F = TypeVar("F", bound=Callable[..., Surface])


def _builtin(factory: F) -> F:
    """Register a factory under its name and record each call, so surfaces pickle (to
    worker processes of a sweep) as the factory call that rebuilds them."""
    signature = inspect.signature(factory)

    @functools.wraps(factory)
    def build(*args: Any, **kwargs: Any) -> Surface:
        surface = factory(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        surface._spec = (factory.__name__, dict(bound.arguments))  # type: ignore[attr-defined]
        return surface

    _REGISTRY[factory.__name__] = build
    return build  # type: ignore[return-value]


def available() -> list[str]:
    """Names of the built-in surfaces, sorted (``get(name)`` builds one)."""
    return sorted(_REGISTRY)


def get(name: str, **kwargs: Any) -> Surface:
    """Build the built-in surface ``name`` with keyword arguments, e.g.
    ``get("rosenbrock", n=10)`` or ``get("quadratic", A=[[1, 0], [0, 10]])``."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected a str, got {type(name).__name__}")
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"name: unknown surface {name!r}; available: {', '.join(available())}"
        ) from None
    return factory(**kwargs)
