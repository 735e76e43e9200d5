"""Runs the report's sections in order and writes the page."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .page import Figure, Section, write

# section modules, in the order of the lecture
SECTIONS = (
    "critical_points",
    "minimum_ratio",
    "batch_size",
    "momentum",
    "adaptive",
    "loss_functions",
    "edge_of_stability",
    "own_run",
    "which_fix",
    "speed",
)


@dataclass
class Context:
    """What a section needs: where to write, how long it may take, a seed."""

    out: Path
    quick: bool
    seed: int = 0

    def save(self, fig: Any, name: str, caption: str) -> Figure:
        """Write a matplotlib figure as figures/NAME.png and close it."""
        import matplotlib.pyplot as plt

        path = self.out / "figures" / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return Figure(path=f"figures/{name}.png", caption=caption)


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; else platform.processor()) and the
    number of cores this process may use."""
    import os

    name = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    name = name or platform.processor() or platform.machine() or "unknown CPU"
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return f"{name}, {cores} core{'s' if cores != 1 else ''}"


def build_report(
    out: str | Path = "saddlepoint-report",
    *,
    quick: bool = False,
    progress: bool = True,
    sections: tuple[str, ...] = SECTIONS,
    seed: int = 0,
) -> Path:
    """Run every section and write ``out/index.html`` and ``out/summary.json``.

    ``quick`` uses small settings (under a minute on 2 cores); the full report takes a few
    minutes. Matplotlib renders off-screen (the Agg backend), so no display is needed.
    Returns the path of index.html.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "the demo needs matplotlib (and pandas, scipy, scikit-learn, tqdm): "
            'pip install "saddlepoint[demo]"'
        ) from None
    matplotlib.use("Agg", force=True)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"sections: unknown {unknown}; expected some of {list(SECTIONS)}")
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    ctx = Context(out=out, quick=quick, seed=seed)
    start = time.perf_counter()
    done: list[Section] = []
    bar = _progress(len(sections), progress)
    # figures are shown scaled down to the page's width: larger type than matplotlib's 10 pt,
    # for these figures only (the caller's rcParams are restored afterwards)
    # NumPy's BLAS at one thread: these matrices are small, and on two shared cores a second
    # BLAS thread made the Monitor's Hessian-vector products over 10x slower (measured: 5.6 s
    # against 0.44 s for one loop); the batch-size section times 1 and 2 threads itself
    blas = _blas_one_thread()
    try:
        with matplotlib.rc_context({"font.size": 11.5, "legend.fontsize": 10.5}), blas:
            for key in sections:
                bar.set_description(key.replace("_", " "))
                module = importlib.import_module(f".{key}", __package__)
                t0 = time.perf_counter()
                section: Section = module.run(ctx)
                section.seconds = time.perf_counter() - t0
                done.append(section)
                bar.update(1)
    finally:
        bar.close()
    from .. import __version__

    meta = {
        "version": __version__,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "quick": quick,
        "seed": seed,
        "seconds": time.perf_counter() - start,
        "blas_threads": 1 if not isinstance(blas, contextlib.nullcontext) else None,
    }
    return write(out, done, meta)


def _blas_one_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _NoBar:
    def set_description(self, _: str) -> None:
        pass

    def update(self, _: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit="section")
