"""``saddlepoint sweep CONFIG.toml``: run a sweep described in a TOML file, print the best
settings per optimizer."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ._common import CLIError

_EXAMPLE = """config format (TOML):
  surface = "rosenbrock"          # a built-in surface name (saddlepoint.surfaces.available())
  steps = 1000
  optimizer = "adam"              # default for runs whose grid entry names none
  x0 = [-1.5, 2.0]                # start point (default: the surface's own), or "random"
  out = "rosenbrock.sqlite"       # optional: results saved per chunk; rerun to resume
  backend = "local"               # or "dask" (pip install "saddlepoint[dask]")
  dtype = "float64"               # or "float32"
  threshold = 1e-6                # optional: loss counted as reached
  chunk_size = 4096

  [surface_kw]                    # optional arguments of the surface, e.g. n = 5
  [grid]                          # a dict of lists: the full product
  optimizer = ["sgd", "adam"]
  lr = [1e-4, 1e-3, 1e-2, 1e-1]
  momentum = [0.0, 0.9]           # an axis for sgd only: adam runs once per lr

  # or a list of runs instead of [grid]:
  # [[runs]]
  # optimizer = "sgd"
  # lr = 0.01

example:
  saddlepoint sweep rosenbrock.toml
"""

_TOP_KEYS = {
    "surface",
    "surface_kw",
    "steps",
    "optimizer",
    "x0",
    "out",
    "backend",
    "dtype",
    "threshold",
    "divergence",
    "chunk_size",
    "grid",
    "runs",
    "seeds",
    "overwrite",
}


NAME = "sweep"
HELP = "run a hyper-parameter sweep from a TOML file"
DESCRIPTION = (
    "Run every setting of a grid on a loss surface (natively for built-in "
    "surfaces, thousands of runs at once), optionally saving results per chunk so an "
    "interrupted sweep resumes, and print the best settings per optimizer."
)
EPILOG = _EXAMPLE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="the sweep's TOML file (format below)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--overwrite", action="store_true", help="discard an out file that holds a different sweep"
    )
    p.add_argument("--csv", metavar="PATH", help="also write the full table as CSV")


def _load_toml(path: str) -> dict[str, Any]:

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise CLIError("reading TOML needs Python >= 3.11 or `pip install tomli`") from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CLIError(f"{path} is not valid TOML: {exc}") from None


def config_to_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The arguments of :func:`saddlepoint.sweep` from a parsed config."""

    unknown = sorted(set(config) - _TOP_KEYS)
    if unknown:
        raise CLIError(f"unknown config key {unknown[0]!r}; expected {sorted(_TOP_KEYS)}")
    for key in ("surface", "steps"):
        if key not in config:
            raise CLIError(f"the config needs {key!r}")
    if not isinstance(config["surface"], str):
        raise CLIError(f"surface: expected a built-in surface name, got {config['surface']!r}")
    if ("grid" in config) == ("runs" in config):
        raise CLIError("the config needs exactly one of [grid] (a dict of lists) or [[runs]]")
    kwargs = {k: v for k, v in config.items() if k not in ("surface", "grid", "runs")}
    kwargs["surface"] = config["surface"]
    kwargs["grid"] = config.get("grid", config.get("runs"))
    if "dtype" in kwargs and kwargs["dtype"] not in ("float32", "float64"):
        raise CLIError(f"dtype: expected 'float32' or 'float64', got {kwargs['dtype']!r}")
    return kwargs


def summary(df: Any) -> Any:
    """The best run (lowest best_loss) per optimizer, one row each."""
    key = "optimizer" if "optimizer" in df.columns else None
    ok = df[df["best_loss"].map(lambda v: isinstance(v, float) and math.isfinite(v))]
    if len(ok) == 0:
        return ok
    if key is None:
        return ok.loc[[ok["best_loss"].idxmin()]]
    return ok.loc[ok.groupby(key)["best_loss"].idxmin()]


def run(args: argparse.Namespace) -> int:
    from ..sweeps import sweep

    config = _load_toml(args.config)
    kwargs = config_to_kwargs(config)
    if args.overwrite:
        kwargs["overwrite"] = True
    surface = kwargs.pop("surface")
    grid = kwargs.pop("grid")
    optimizer = kwargs.get("optimizer", "adam")
    df = sweep(surface, grid, progress=not args.no_progress, **kwargs)
    if args.csv:
        df.to_csv(args.csv)
    best = summary(df)
    if "optimizer" not in best.columns:
        best = best.assign(optimizer=optimizer)
    shown = [c for c in best.columns if not c.startswith("x_final_")]
    print(f"{len(df)} runs, {int(df['diverged'].sum())} diverged; best per optimizer:")
    print(best[shown].to_string(index=False) if len(best) else "(no run with a finite loss)")
    return 0
