"""saddlepoint: why gradient-based optimization fails, measured.

Fused in-place optimizer steps with PyTorch's semantics (:mod:`saddlepoint.kernels`,
:mod:`saddlepoint.optim`), Hessian checks that tell minima from saddles
(:mod:`saddlepoint.linalg`, :mod:`saddlepoint.hessian`), learning-rate schedules, analytic
loss surfaces, small NumPy models, a training loop that explains stalls, sweeps and plots.

Submodules are imported on first use, so ``import saddlepoint`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only without a built extension
    raise ImportError(
        "saddlepoint's compiled core (saddlepoint._core) could not be imported. "
        "Build and install the package with `pip install .` (or, for development, "
        "`pip install --no-build-isolation -e .`)."
    ) from exc

# One source, pyproject.toml's project.version: the installed distribution's metadata, which
# the build also compiles into _core (SKBUILD_PROJECT_VERSION); _core's copy serves a run from a
# source tree without installed metadata.
try:
    from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
    from importlib.metadata import version as _metadata_version

    __version__: str = _metadata_version("saddlepoint")
except _PackageNotFoundError:  # pragma: no cover - only in an uninstalled source tree
    __version__ = _core.__version__

_SUBMODULES = (
    "kernels",
    "optim",
    "linalg",
    "hessian",
    "schedules",
    "surfaces",
    "models",
    "data",
    "train",
    "experiments",
    "sweeps",
    "plot",
    "cli",
    "report",
    "monitor",
)

# Functions re-exported at the top level, resolved lazily from their home module.
_FUNCTIONS = {
    "minimize": "train",
    "classify": "hessian",
    "sweep": "sweeps",
    "Monitor": "monitor",
    "compare_fixes": "experiments",
}

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "show_config",
    *_SUBMODULES,
    *_FUNCTIONS,
]


def get_num_threads() -> int:
    """Threads the kernels may use (``OMP_NUM_THREADS`` or :func:`set_num_threads`)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Set how many threads the compiled kernels may use.

    Arrays below ``show_config()["parallel_threshold"]`` elements always run on the calling
    thread: an OpenMP region costs more than a second thread saves there. Without OpenMP in
    the build this is a no-op and :func:`get_num_threads` stays 1.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n: expected an int >= 1, got {type(n).__name__}")
    _core.set_num_threads(n)


def show_config(*, file: Any = None) -> dict[str, Any]:
    """Print and return how the compiled core was built.

    Returns a dict with the compiler, the Eigen version, the instruction-set level the kernels
    run at (``isa``: ``"x86-64-v2"``, ``"x86-64-v3"`` or ``"x86-64-v4"`` in a portable build,
    chosen at import as the best this CPU runs; ``"native"`` in a build tuned to the building
    machine) and every level compiled in with what it needs (``isa_compiled``), Eigen's SIMD at
    that level, whether OpenMP is on and the current thread count. Set ``SADDLEPOINT_ISA``
    before the import to force a lower level (docs/guarantees.md, "Per instruction-set level").
    """
    import sys

    import numpy as np

    config = dict(_core.build_config())
    config["num_threads"] = _core.get_num_threads()
    config["numpy_version"] = np.__version__
    out = sys.stdout if file is None else file
    width = max(len(k) for k in config)
    for key, value in config.items():
        print(f"{key:<{width}} : {value}", file=out)
    return config


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FUNCTIONS:
        module = importlib.import_module(f".{_FUNCTIONS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'saddlepoint' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
