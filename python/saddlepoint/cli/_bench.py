"""``saddlepoint bench``: a short run of the optimizer-step benchmark on this machine."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import CLIError

NAME = "bench"
HELP = "time the fused optimizer steps against NumPy (and PyTorch if installed)"
DESCRIPTION = (
    "Time the fused optimizer steps against NumPy (and PyTorch when installed) "
    "on this machine and print ratios. The full table: python bench/optimizers.py."
)


# The axes of the benchmark (every combination is timed): one list option each, passed to
# benchmark.run under the same name.
_AXES: dict[str, dict[str, Any]] = {
    "kinds": {
        "default": ["adam", "momentum"],
        "help": "steps to time: sgd momentum nesterov adagrad rmsprop adam adamw",
    },
    "sizes": {"type": int, "default": [1_000, 100_000, 10_000_000]},
    "dtypes": {"default": ["float32"], "choices": ["float32", "float64"]},
    "threads": {"type": int, "default": [1, 2]},
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    for axis, spec in _AXES.items():
        p.add_argument(f"--{axis}", nargs="+", **spec)
    p.add_argument("--budget", type=float, default=0.15, help="seconds per configuration")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    p.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")


def run(args: argparse.Namespace) -> int:
    from .. import benchmark

    bad = [k for k in args.kinds if k not in benchmark.KINDS]
    if bad:
        raise CLIError(f"--kinds: unknown {bad}; expected some of {list(benchmark.KINDS)}")
    if any(n < 1 for n in args.sizes) or any(t < 1 for t in args.threads):
        raise CLIError("--sizes and --threads must be positive")
    results = benchmark.run(
        **{axis: getattr(args, axis) for axis in _AXES},
        budget=args.budget,
        torch=not args.no_torch,
        progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True),
    )
    print(benchmark.format_table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(benchmark.to_json(results), f, indent=1)
    return 0
