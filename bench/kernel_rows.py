"""Fused kernels on many short rows: nanoseconds per row of a (rows, cols) parameter stepped
with per-row hyper-parameters (a sweep's runs), against the same call with scalar ones and
against NumPy written over rows.

``python bench/kernel_rows.py [--rows N] [--cols C] [--repeats R] [--threads K]``

Cases (float64 and float32), interleaved in one process, medians of R samples after warm-up:
  adam/rows      adam_step, per-row lr, beta1, beta2 (interleaved: neighbouring rows differ)
  adam/sorted    the same with rows sorted by (beta1, beta2), as sweep() orders them
  adam/scalar    adam_step with scalar hyper-parameters (one flat loop)
  adam/numpy     Adam over rows in NumPy (torch's formulas, per-row constants as columns)
  sgd/rows       sgd_step, per-row lr and momentum;  sgd/scalar, sgd/numpy likewise
  adagrad/rows, rmsprop/rows   the other two kernels with per-row hyper-parameters
The step number advances on every call, as in a sweep (bias corrections change each step).
Writes bench/results/kernel_rows.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import saddlepoint
from saddlepoint import _core, kernels


def hyper(n: int) -> dict[str, np.ndarray]:
    """bench/sweep.py's grid: log-spaced learning rates, 4 beta1 x 3 beta2 interleaved."""
    return {
        "lr": np.logspace(-4, 0, n),
        "beta1": np.resize([0.8, 0.9, 0.95, 0.99], n).astype(np.float64),
        "beta2": np.resize([0.99, 0.999, 0.9999], n).astype(np.float64),
        "momentum": np.resize([0.5, 0.9, 0.99], n).astype(np.float64),
    }


def cases(n: int, cols: int, dtype: type) -> dict[str, object]:
    rng = np.random.default_rng(0)
    h = hyper(n)
    order = np.lexsort((h["beta2"], h["beta1"]))
    sorted_h = {k: v[order] for k, v in h.items()}

    def arrays(k: int) -> list[np.ndarray]:
        p = rng.standard_normal((n, cols)).astype(dtype)
        g = (0.1 * rng.standard_normal((n, cols))).astype(dtype)
        return [p, g] + [np.zeros_like(p) for _ in range(k)]

    def adam(hy: dict[str, np.ndarray] | None):
        p, g, m, v = arrays(2)
        t = [0]

        def run() -> None:
            t[0] += 1
            if hy is None:
                kernels.adam_step(p, g, m, v, step=t[0], lr=1e-3, betas=(0.9, 0.999))
            else:
                kernels.adam_step(
                    p, g, m, v, step=t[0], lr=hy["lr"], betas=(hy["beta1"], hy["beta2"])
                )

        return run

    def adam_numpy():
        p, g, m, v = arrays(2)
        lr, b1, b2 = h["lr"], h["beta1"], h["beta2"]
        b1c, b2c = b1.astype(dtype)[:, None], b2.astype(dtype)[:, None]
        one_b1, one_b2 = (1 - b1).astype(dtype)[:, None], (1 - b2).astype(dtype)[:, None]
        t = [0]

        def run() -> None:
            t[0] += 1
            m[...] *= b1c
            m[...] += one_b1 * g
            v[...] *= b2c
            v[...] += one_b2 * g * g
            step = (lr / (1 - b1 ** t[0])).astype(dtype)[:, None]
            bc2 = np.sqrt(1 - b2 ** t[0]).astype(dtype)[:, None]
            p[...] -= step * m / (np.sqrt(v) / bc2 + dtype(1e-8))

        return run

    def sgd(per_row: bool):
        p, g, b = arrays(1)
        t = [0]
        lr, mu = (h["lr"], h["momentum"]) if per_row else (1e-3, 0.9)

        def run() -> None:
            t[0] += 1
            kernels.sgd_step(p, g, b, lr=lr, momentum=mu, step=t[0])

        return run

    def sgd_numpy():
        p, g, b = arrays(1)
        lr = h["lr"].astype(dtype)[:, None]
        mu = h["momentum"].astype(dtype)[:, None]

        def run() -> None:
            b[...] *= mu
            b[...] += g
            p[...] -= lr * b

        return run

    def adagrad():
        p, g, s = arrays(1)
        t = [0]

        def run() -> None:
            t[0] += 1
            kernels.adagrad_step(p, g, s, step=t[0], lr=h["lr"], lr_decay=h["momentum"])

        return run

    def rmsprop():
        p, g, v, bf = arrays(2)

        def run() -> None:
            kernels.rmsprop_step(
                p, g, v, None, bf, lr=h["lr"], alpha=h["beta2"], momentum=h["momentum"]
            )

        return run

    return {
        "adam/rows": adam(h),
        "adam/sorted": adam(sorted_h),
        "adam/scalar": adam(None),
        "adam/numpy": adam_numpy(),
        "sgd/rows": sgd(True),
        "sgd/scalar": sgd(False),
        "sgd/numpy": sgd_numpy(),
        "adagrad/rows": adagrad(),
        "rmsprop/rows": rmsprop(),
    }


def sample(fn, calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--cols", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--calls", type=int, default=20, help="calls per sample")
    ap.add_argument("--threads", type=int, default=saddlepoint.get_num_threads())
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "kernel_rows.json"))
    args = ap.parse_args()
    saddlepoint.set_num_threads(args.threads)
    n = args.rows
    results = {}
    with np.errstate(all="ignore"):
        for dtype in (np.float64, np.float32):
            peers = cases(n, args.cols, dtype)
            for fn in peers.values():  # warm-up
                sample(fn, args.calls)
            times = {name: [] for name in peers}
            for _ in range(args.repeats):
                for name, fn in peers.items():  # interleaved
                    times[name].append(sample(fn, args.calls))
            ns = {name: 1e9 * statistics.median(ts) / n for name, ts in times.items()}
            results[np.dtype(dtype).name] = ns
            print(f"\n{np.dtype(dtype).name}: ({n}, {args.cols}), {args.threads} thread(s)")
            print(f"  {'case':<14} {'ns/row':>8} {'x numpy':>8}")
            for name, v in ns.items():
                kind = name.split("/")[0]
                base = ns.get(f"{kind}/numpy")
                ratio = f"{base / v:8.2f}" if base else "       -"
                print(f"  {name:<14} {v:8.2f} {ratio}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": "kernel_rows",
        "rows": n,
        "cols": args.cols,
        "threads": args.threads,
        "unit": "ns per row (median)",
        "machine": platform.processor() or platform.machine(),
        "build": dict(_core.build_config()),
        "results": results,
    }
    out.write_text(json.dumps(doc, indent=2, default=str))


if __name__ == "__main__":
    main()
