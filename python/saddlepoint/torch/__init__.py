"""saddlepoint on PyTorch models: fused optimizer steps, Hessian checks and the Monitor.

An optional extra (``pip install "saddlepoint[torch]"``); torch is never a core dependency.

- Optimizers: :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`, :class:`Adam`,
  :class:`AdamW` are ``torch.optim.Optimizer`` subclasses with torch's signatures, defaults
  and ``state_dict`` format, stepping CPU tensors in place through saddlepoint's fused
  kernels.
- Curvature: :func:`hvp`, :func:`eigenpairs`, :func:`classify`, :func:`spectral_density`
  and :func:`escape` on a model, a loss function and data, matrix-free.
- Monitor: :func:`watch` connects a :class:`saddlepoint.Monitor` to a plain torch loop.

Names are resolved from their home modules on first use.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401  (fail here, with the fix, rather than deep inside)
except ImportError as exc:  # pragma: no cover - exercised only without torch
    # ModuleNotFoundError naming torch, as the bare import would: code (and the docstring
    # tests) that skips the bridge without torch checks exactly that
    raise ModuleNotFoundError(
        'saddlepoint.torch needs PyTorch: pip install "saddlepoint[torch]" '
        "(or install a torch build for your platform first)",
        name="torch",
    ) from exc

from .._lazy import lazy_attributes

_HOMES = {
    "SGD": "_optim",
    "Adagrad": "_optim",
    "RMSprop": "_optim",
    "Adam": "_optim",
    "AdamW": "_optim",
    "hvp": "_curvature",
    "eigenpairs": "_curvature",
    "classify": "_curvature",
    "spectral_density": "_curvature",
    "escape": "_curvature",
    "watch": "_watch",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'saddlepoint.torch' has no attribute {name!r}")
    return lazy_attributes(__name__, f"{__name__}.{home}", {name: name})(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
