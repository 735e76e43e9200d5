"""The optional libraries the studies need, imported on first use with a message naming
the extra."""

from __future__ import annotations

from typing import Any


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            'saddlepoint.experiments returns DataFrames: pip install "saddlepoint[sweep]"'
        ) from exc
    return pd


def _scipy_optimize() -> Any:
    try:
        from scipy import optimize
    except ImportError as exc:
        raise ImportError(
            'this experiment uses SciPy\'s L-BFGS-B: pip install "saddlepoint[scipy]"'
        ) from exc
    return optimize
