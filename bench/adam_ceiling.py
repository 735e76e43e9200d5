"""Adam at memory speed: ``python bench/adam_ceiling.py [--n N] [--budget S]``.

The ceiling for an in-place Adam step is a loop that reads p, g, m, v and writes p, m, v
and does nothing else (bench/c/adam_ceiling.c, compiled here with the flags of the
package's native build: -O3 -march=native -fopenmp). Rows, at n = 1e7 by default, float32
and float64, 1 and 2 threads, interleaved in one process (medians): saddlepoint's
functional ``adam_step``, the ``saddlepoint.optim.Adam`` object, torch.optim.Adam(fused=True)
when torch is installed, and the ceiling; GB/s counts the 7 passes (4 reads, 3 writes) and
"% of ceiling" is the ceiling's time over the contender's. The host is shared: read the
percentages, not the times. Also the per-call time of the functional ``adam_step`` at
n = 100 (the call's fixed cost). Writes bench/results/adam_ceiling.json.
"""

from __future__ import annotations

import os

# Idle OpenMP workers spin after a parallel region (libgomp's default): at 2 threads the
# contender that follows another would share its cores with the other's spinning workers.
# Passive waiting costs a wake-up of microseconds, nothing at 1e7. Set before libgomp loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import ctypes
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import saddlepoint
from saddlepoint import _core, kernels, optim
from saddlepoint.benchmark import _time_interleaved

HERE = Path(__file__).resolve().parent


def ceiling_library(workdir: Path) -> ctypes.CDLL:
    lib = workdir / "adam_ceiling.so"
    cmd = ["cc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC",
           str(HERE / "c" / "adam_ceiling.c"), "-o", str(lib)]  # fmt: skip
    subprocess.run(cmd, check=True)
    dll = ctypes.CDLL(str(lib))
    for suffix, ctype in (("f32", ctypes.c_float), ("f64", ctypes.c_double)):
        fn = getattr(dll, f"adam_ceiling_{suffix}")
        ptr = ctypes.POINTER(ctype)
        fn.argtypes = [ptr, ptr, ptr, ptr, ctypes.c_ssize_t, ctypes.c_int]
        fn.restype = None
    return dll


def rows(
    dll: ctypes.CDLL, n: int, dtype: type, threads: int, budget: float, use_torch: bool
) -> dict:
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype) * 1e-3
    m, v = np.zeros_like(p), np.zeros_like(p)
    p2 = p.copy()  # the object's own copy (its state buffers start at zero, like m and v)
    p3, m3, v3 = p.copy(), m.copy(), v.copy()
    ctype = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    fn = dll.adam_ceiling_f32 if dtype == np.float32 else dll.adam_ceiling_f64
    args = [a.ctypes.data_as(ctypes.POINTER(ctype)) for a in (p3, g, m3, v3)]
    opt = optim.Adam([p2], lr=1e-6)
    contenders = {
        "adam_step": lambda: kernels.adam_step(p, g, m, v, step=2, lr=1e-6),
        "Adam object": lambda: opt.step([g]),
        "ceiling": lambda: fn(*args, n, threads),
    }
    try:
        if not use_torch:
            raise ImportError
        import torch

        torch.set_num_threads(threads)
        tp = torch.from_numpy(p.copy()).requires_grad_()
        tp.grad = torch.from_numpy(g)
        topt = torch.optim.Adam([tp], lr=1e-6, fused=True)
        contenders["torch fused"] = topt.step
    except ImportError:
        pass
    _core.set_num_threads(threads)
    seconds = _time_interleaved(contenders, budget)
    moved = 7 * n * np.dtype(dtype).itemsize
    return {
        name: {
            "us": s * 1e6,
            "gbps": moved / s / 1e9,
            "pct_of_ceiling": 100 * seconds["ceiling"] / s,
        }
        for name, s in seconds.items()
    }


def call_cost(budget: float) -> dict:
    """Microseconds per functional adam_step call at n = 100, keywords as users write them."""
    p, g, m, v = (np.zeros(100) for _ in range(4))
    opt = optim.Adam([np.zeros(100)], lr=1e-3)
    seconds = _time_interleaved(
        {
            "adam_step(step=)": lambda: kernels.adam_step(p, g, m, v, step=2),
            "adam_step(step=, lr=, betas=, eps=)": lambda: kernels.adam_step(
                p, g, m, v, step=2, lr=1e-3, betas=(0.9, 0.999), eps=1e-8
            ),
            "adam_step(every keyword)": lambda: kernels.adam_step(
                p,
                g,
                m,
                v,
                None,
                step=2,
                lr=1e-3,
                betas=(0.9, 0.999),
                eps=1e-8,
                weight_decay=0.0,
                amsgrad=False,
                maximize=False,
                decoupled_weight_decay=False,
            ),
            "Adam object": lambda: opt.step([g]),
        },
        budget,
    )
    return {name: s * 1e6 for name, s in seconds.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per row")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--no-torch", action="store_true", help="without the torch row")
    parser.add_argument("--out", default=str(HERE / "results" / "adam_ceiling.json"))
    args = parser.parse_args(argv)
    out: dict = {"meta": {"platform": platform.platform(), "config": _core.build_config(),
                          "version": saddlepoint.__version__, "n": args.n}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        dll = ceiling_library(Path(tmp))
        for dtype in (np.float32, np.float64):
            for threads in args.threads:
                res = rows(dll, args.n, dtype, threads, args.budget, not args.no_torch)
                key = f"{np.dtype(dtype).name} {threads} thread{'s' * (threads > 1)}"
                out[key] = res
                print(f"Adam n={args.n:.0e} {key}")
                for name, r in res.items():
                    print(f"  {name:14s} {r['us']:10.1f} us  {r['gbps']:6.1f} GB/s  "
                          f"{r['pct_of_ceiling']:5.1f}% of ceiling")  # fmt: skip
    _core.set_num_threads(1)
    cost = call_cost(min(args.budget, 1.0))
    out["call_us_n100"] = cost
    print("per call at n=100 (1 thread):")
    for name, us in cost.items():
        print(f"  {name:40s} {us:6.2f} us")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
