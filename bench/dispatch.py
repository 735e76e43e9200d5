"""Runtime dispatch: the kernels at each instruction-set level, and a portable build against a
native one.

Run with the interpreter of a portable build (``SADDLEPOINT_NATIVE=OFF pip install .``, the
wheels' setting)::

    python bench/dispatch.py [--native /path/to/native-venv/bin/python] [--quick]

1. **Levels, one process**: each workload at every level this CPU runs (``_core._select_isa``
   switches the table in place), interleaved; the table gives each level's time relative to
   the best level's (> 1: slower).
2. **Portable against native** (with ``--native``): the same workloads in worker processes of
   the two builds, alternated (portable, native, portable, ...) so that a noisy moment of the
   shared host hits both; the ratio is native time / portable time per workload (< 1: the
   portable build is slower). Issue 17's target: within 10% (ratio >= 0.9).

Workloads (one thread, so that the levels' code and not the thread split is compared): an
``sp.optim.Adam`` float32 step at 1e7 and at 1e3 elements, and ``linalg.eigh`` of stacks of
n = 3, 8 and 32 (about 1e6 numbers each, float64). JSON goes to bench/results/dispatch.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import interleaved_medians


def workloads(quick: bool) -> dict:
    """name -> zero-argument callable, on freshly made inputs."""
    import saddlepoint as sp
    from saddlepoint import linalg

    rng = np.random.default_rng(0)
    out = {}
    for label, n in (("Adam f32 1e7", 10_000_000), ("Adam f32 1e3", 1000)):
        p = rng.standard_normal(n).astype(np.float32)
        g = rng.standard_normal(n).astype(np.float32)
        opt = sp.optim.Adam([p], lr=1e-3)
        out[label] = (lambda o, gg: lambda: o.step([gg]))(opt, g)
    numbers = 250_000 if quick else 1_000_000
    for n in (3, 8, 32):
        b = rng.standard_normal((max(1, numbers // (n * n)), n, n))
        a = (b + np.swapaxes(b, 1, 2)) / 2
        out[f"eigh n={n}"] = (lambda m: lambda: linalg.eigh(m))(a)
    return out


def levels_table(quick: bool) -> dict:
    import saddlepoint as sp
    from saddlepoint import _core

    sp.set_num_threads(1)
    config = _core.build_config()
    runnable = [lv["name"] for lv in config["isa_compiled"] if lv["supported"]]
    before = config["isa"]
    results = {}
    try:
        for label, fn in workloads(quick).items():
            contenders = {
                name: (lambda nm, f: lambda: (_core._select_isa(nm), f()))(name, fn)
                for name in runnable
            }
            results[label] = interleaved_medians(contenders, budget=1.0 if quick else 4.0)
    finally:
        _core._select_isa(before)
    chosen, best_name = config["isa"], runnable[-1]
    print(f"\n1. levels in one process ({chosen} chosen; 1 thread): time / {best_name}'s")
    print(f"{'workload':<14}" + "".join(f"{name:>12}" for name in runnable) + f"{'best, us':>12}")
    for label, times in results.items():
        best = times[runnable[-1]]
        row = "".join(f"{times[name] / best:>11.2f}x" for name in runnable)
        print(f"{label:<14}{row}{best * 1e6:>12.1f}")
    return {"levels": runnable, "seconds": results}


WORKER = """
import json, sys
sys.path.insert(0, {bench!r})
import saddlepoint as sp
from dispatch import workloads
from _timing import interleaved_medians
sp.set_num_threads(1)
fns = workloads({quick!r})
print(json.dumps({{"isa": sp._core.build_config()["isa"],
                   "seconds": {{k: interleaved_medians({{k: f}}, budget={budget!r})[k]
                               for k, f in fns.items()}}}}))
"""


def builds_table(native_python: str, quick: bool) -> dict:
    bench = str(Path(__file__).resolve().parent)
    code = WORKER.format(bench=bench, quick=quick, budget=0.5 if quick else 1.5)
    runs: dict[str, list[dict]] = {"portable": [], "native": []}
    for _ in range(2 if quick else 4):
        for build, python in (("portable", sys.executable), ("native", native_python)):
            done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
            runs[build].append(json.loads(done.stdout.strip().splitlines()[-1]))
    isa = {build: r[0]["isa"] for build, r in runs.items()}
    med = {
        build: {k: statistics.median(r["seconds"][k] for r in rs) for k in rs[0]["seconds"]}
        for build, rs in runs.items()
    }
    print(
        f"\n2. portable ({isa['portable']}) against native ({isa['native']}), 1 thread, "
        f"{len(runs['native'])} alternations: native time / portable time"
    )
    print(f"{'workload':<14}{'native, us':>12}{'portable, us':>14}{'ratio':>8}")
    for label in med["native"]:
        n, p = med["native"][label], med["portable"][label]
        print(f"{label:<14}{n * 1e6:>12.1f}{p * 1e6:>14.1f}{n / p:>8.2f}")
    return {"isa": isa, "seconds": med}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--native", help="python of a native build, for the comparison")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import os

    print(f"host load: {os.getloadavg()[0]:.2f} (1 min); {os.cpu_count()} CPUs")
    out = {"levels": levels_table(args.quick)}
    if args.native:
        out["builds"] = builds_table(args.native, args.quick)
    path = Path(__file__).resolve().parent / "results" / "dispatch.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
