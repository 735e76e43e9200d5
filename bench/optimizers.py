"""Fused optimizer steps against NumPy and PyTorch: ``python bench/optimizers.py [--quick]``.

Prints microseconds per step, GB/s and ratios for every kind of step at n = 1e2, 1e3, 1e5,
1e7, float32/float64, 1 and 2 threads, plus a model-like list of 100 arrays; writes the
same as JSON to bench/results/optimizers.json. Ratios are what to read: all contenders of
a row run interleaved in one process.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import saddlepoint
from saddlepoint import benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Adam and SGD only, short budget")
    parser.add_argument("--kinds", nargs="*", default=None, help=f"subset of {benchmark.KINDS}")
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per configuration")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--sizes", nargs="+", type=int, default=[100, 1_000, 100_000, 10_000_000])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument(
        "--out", default=str(Path(__file__).with_name("results") / "optimizers.json")
    )
    args = parser.parse_args(argv)
    kinds = args.kinds or (("adam", "momentum") if args.quick else benchmark.KINDS)
    results = benchmark.run(
        sizes=args.sizes,
        dtypes=args.dtypes,
        threads=args.threads,
        kinds=kinds,
        budget=0.15 if args.quick else args.budget,
        torch=not args.no_torch,
        progress=lambda s: print(f"  {s}", file=sys.stderr, flush=True),
    )
    print(benchmark.format_table(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"platform": platform.platform(), "config": saddlepoint._core.build_config()}
    out.write_text(json.dumps({"meta": meta, "results": benchmark.to_json(results)}, indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
