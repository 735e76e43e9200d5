"""The sweep a subprocess runs in the kill -9 and two-process tests: 48 NumPy runs in chunks
of 4 (a chunk of 4 runs of 4,000 steps takes ~0.1 s, so a kill lands mid-sweep).
``python -c SCRIPT OUT [STEPS]``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
GRID = {"lr": np.logspace(-4, 0, 24).tolist(), "beta1": [0.8, 0.9]}
STEPS = 4000
CHUNK = 4
SCRIPT = textwrap.dedent(
    f"""
    import sys
    sys.path.insert(0, {str(HERE)!r})
    from saddlepoint import sweep
    from _sweep_script import GRID, STEPS, CHUNK
    from _sweep_surfaces import Rosen
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else STEPS
    sweep(Rosen(), GRID, steps=steps, out=sys.argv[1], chunk_size=CHUNK, progress=False)
    """
)
