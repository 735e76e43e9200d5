"""``saddlepoint fixes NAME|CONFIG.toml``: which of the lecture's fixes works on a surface,
ranked against plain GD with the Monitor's verdict on it."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import CLIError
from ._sweep import _load_toml

_EXAMPLE = """examples:
  saddlepoint fixes tiny_network --x0 0.011 -0.01   # near the saddle at the origin
  saddlepoint fixes ill_conditioned --steps 100
  saddlepoint fixes fixes.toml

config format (TOML; every key but surface optional):
  surface = "tiny_network"
  x0 = [0.011, -0.01]
  steps = 100
  lrs = [0.001, 0.01, 0.1, 1.0]
  target = 0.01        # or target_fraction = 0.9
  seed = 0
  budget = 90
"""

NAME = "fixes"
HELP = "rank the lecture's fixes (momentum, Adam, schedules...) against plain GD"
DESCRIPTION = (
    "Run plain GD, momentum, Nesterov, Adagrad, RMSprop and Adam, each with a constant, "
    "decaying and warming-up learning rate and tuned over a small learning-rate grid, on a "
    "built-in surface; print them ranked by steps to a target loss and best loss, with the "
    "Monitor's verdict on plain GD."
)
EPILOG = _EXAMPLE

_KEYS = {"surface", "x0", "steps", "lrs", "target", "target_fraction", "seed", "budget"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("problem", help="a built-in surface name or a TOML config (format below)")
    p.add_argument("--steps", type=int, default=None, help="steps per run (default 200)")
    p.add_argument("--x0", type=float, nargs="+", default=None, help="the start point")
    p.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    p.add_argument("--target", type=float, default=None, help="the target loss")
    p.add_argument("--budget", type=int, default=None, help="largest number of runs")


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from .. import surfaces

    if args.problem.endswith(".toml"):
        config = _load_toml(args.problem)
        unknown = sorted(set(config) - _KEYS)
        if unknown:
            raise CLIError(f"unknown config key {unknown[0]!r}; expected {sorted(_KEYS)}")
        if "surface" not in config:
            raise CLIError("the config needs 'surface'")
        kwargs = dict(config)
    elif args.problem in surfaces.available():
        kwargs = {"surface": args.problem}
    else:
        raise CLIError(
            f"unknown surface {args.problem!r} (and not a .toml file); available: "
            f"{', '.join(sorted(surfaces.available()))}"
        )
    for key in ("steps", "x0", "seed", "target", "budget"):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    return kwargs


def run(args: argparse.Namespace) -> int:
    from ..experiments import compare_fixes, format_fixes

    kwargs = _kwargs(args)
    df = compare_fixes(kwargs.pop("surface"), **kwargs)
    print(format_fixes(df))
    return 0
