"""Benchmark saddlepoint.linalg.eigh / eigvalsh against numpy.linalg.eigh / eigvalsh.

Run ``python bench/eigh.py`` (``--quick`` for fewer repeats). Everything is measured in one
process with the peers interleaved, repeated, and summarised by medians after a warm-up; the
table gives ratios ``numpy time / saddlepoint time`` (> 1: saddlepoint is faster). The host has
2 cores shared with other jobs, so expect noise of 10-20% between runs.

Sections:
- stacks of n = 2 .. 64 holding about 4e6 numbers, at 1 and 2 threads (NumPy's LAPACK loop over
  a stack is single-threaded either way);
- ``classify(H, eigenvalues=False)`` (counts by inertia, LDL^T) on stacks n = 8 .. 64 against
  ``numpy.linalg.eigvalsh`` of the same stack and against classify's eigenvalue path, 1 thread,
  with its counts checked equal to eigvalsh's at its threshold;
- single matrices 256 .. 2048 (saddlepoint dispatches these to LAPACK) and Eigen alone through
  ``_core.eigh_stack``, which shows where the dispatch threshold ``LAPACK_MIN_N`` comes from;
- accuracy of the n = 3 path against NumPy, on random matrices and on matrices with two
  eigenvalues near zero (the case that defeats Eigen's unguarded closed form);
- the lowest eigenpair of a 2048 x 2048 matrix from products alone, against SciPy's eigsh on the
  same operator.

JSON goes to bench/results/eigh.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import saddlepoint
from saddlepoint import _core, linalg
from saddlepoint.hessian import lowest_eigenpairs


def symmetric_stack(count: int, n: int, dtype, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((count, n, n))
    return ((b + np.swapaxes(b, -1, -2)) / 2).astype(dtype)


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# Pause before each timed call. OpenBLAS's idle workers spin for about 0.1-0.2 s after a call
# (measured here: our 2-thread n=64 stack took 150 ms right after a NumPy call, 114 ms after a
# 0.2 s pause), so without it whichever peer follows NumPy loses a core to NumPy's threads.
SETTLE_S = 0.25


def interleaved(peers: dict, repeats: int) -> dict:
    """Median time of each peer, the peers run in turn within every repeat, each on quiet
    cores (SETTLE_S)."""
    for fn in peers.values():
        fn()
    times = {name: [] for name in peers}
    for _ in range(repeats):
        for name, fn in peers.items():
            time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def bench_stacks(dtype, repeats: int, rows: list) -> None:
    for n in (2, 3, 4, 8, 16, 32, 64):
        count = max(1, 4_000_000 // (n * n))
        a = symmetric_stack(count, n, dtype)
        for threads in (1, 2):
            saddlepoint.set_num_threads(threads)
            t = interleaved(
                {
                    "numpy_eigh": lambda a=a: np.linalg.eigh(a),
                    "sp_eigh": lambda a=a: linalg.eigh(a),
                    "numpy_eigvalsh": lambda a=a: np.linalg.eigvalsh(a),
                    "sp_eigvalsh": lambda a=a: linalg.eigvalsh(a),
                },
                repeats,
            )
            row = {
                "section": "stack",
                "dtype": np.dtype(dtype).name,
                "n": n,
                "count": count,
                "threads": threads,
                **{f"{k}_s": v for k, v in t.items()},
                "eigh_ratio": t["numpy_eigh"] / t["sp_eigh"],
                "eigvalsh_ratio": t["numpy_eigvalsh"] / t["sp_eigvalsh"],
            }
            rows.append(row)
            print(
                f"stack {row['dtype']:7} n={n:3d} x{count:8d} threads={threads}: "
                f"eigh {row['eigh_ratio']:6.2f}x  eigvalsh {row['eigvalsh_ratio']:6.2f}x  "
                f"(numpy eigh {t['numpy_eigh'] / count * 1e6:8.3f} us/matrix)",
                flush=True,
            )
    saddlepoint.set_num_threads(2)


def bench_singles(repeats: int, rows: list, sizes, eigen_max: int) -> None:
    for n in sizes:
        a = symmetric_stack(1, n, np.float64)[0]
        peers = {
            "numpy_eigh": lambda a=a: np.linalg.eigh(a),
            "sp_eigh": lambda a=a: linalg.eigh(a),
            "numpy_eigvalsh": lambda a=a: np.linalg.eigvalsh(a),
            "sp_eigvalsh": lambda a=a: linalg.eigvalsh(a),
        }
        if n <= eigen_max:  # Eigen alone, bypassing the dispatch
            peers["eigen_eigh"] = lambda a=a: _core.eigh_stack(a)
            peers["eigen_eigvalsh"] = lambda a=a: _core.eigvalsh_stack(a)
        t = interleaved(peers, repeats if n < 1024 else max(3, repeats // 2))
        row = {"section": "single", "n": n, **{f"{k}_s": v for k, v in t.items()}}
        row["eigh_ratio"] = t["numpy_eigh"] / t["sp_eigh"]
        row["eigvalsh_ratio"] = t["numpy_eigvalsh"] / t["sp_eigvalsh"]
        line = (
            f"single n={n:5d}: eigh {row['eigh_ratio']:5.2f}x  "
            f"eigvalsh {row['eigvalsh_ratio']:5.2f}x"
        )
        if "eigen_eigh" in t:
            row["eigen_eigh_ratio"] = t["numpy_eigh"] / t["eigen_eigh"]
            row["eigen_eigvalsh_ratio"] = t["numpy_eigvalsh"] / t["eigen_eigvalsh"]
            line += (
                f"   Eigen alone: eigh {row['eigen_eigh_ratio']:5.2f}x "
                f"eigvalsh {row['eigen_eigvalsh_ratio']:5.2f}x"
            )
        rows.append(row)
        print(line, flush=True)


def bench_classify(repeats: int, rows: list) -> None:
    """classify(H, eigenvalues=False) (kind, counts, minimum ratio by inertia) against
    numpy.linalg.eigvalsh of the same stack, and against classify's eigenvalue path; the counts
    are checked equal to eigvalsh's at the inertia path's threshold. 1 thread (NumPy's LAPACK
    loop over a stack is single-threaded)."""
    from saddlepoint.hessian import classify

    saddlepoint.set_num_threads(1)
    for dtype in (np.float64, np.float32):
        for n, count in ((8, 8000), (16, 8000), (32, 2000), (64, 500)):
            a = symmetric_stack(count, n, dtype, seed=n)
            fast = classify(a, eigenvalues=False)
            w = np.linalg.eigvalsh(a.astype(np.float64))
            tol = fast.tol[:, None]
            same = np.array_equal(fast.n_positive, (w > tol).sum(1)) and np.array_equal(
                fast.n_negative, (w < -tol).sum(1)
            )
            t = interleaved(
                {
                    "numpy_eigvalsh": lambda a=a: np.linalg.eigvalsh(a),
                    "sp_classify_inertia": lambda a=a: classify(a, eigenvalues=False),
                    "sp_classify": lambda a=a: classify(a),
                },
                repeats,
            )
            row = {"section": "classify", "dtype": np.dtype(dtype).name, "n": n,
                   "count": count, "threads": 1, "counts_equal": bool(same),
                   **{f"{k}_s": v for k, v in t.items()},
                   "inertia_ratio": t["numpy_eigvalsh"] / t["sp_classify_inertia"],
                   "eigen_path_ratio": t["numpy_eigvalsh"] / t["sp_classify"]}  # fmt: skip
            rows.append(row)
            print(
                f"classify {row['dtype']:7} n={n:3d} x{count:5d}: eigenvalues=False "
                f"{row['inertia_ratio']:6.2f}x, default {row['eigen_path_ratio']:5.2f}x "
                f"numpy eigvalsh; counts equal: {same}",
                flush=True,
            )
    saddlepoint.set_num_threads(2)


def accuracy_n3(rows: list) -> None:
    rng = np.random.default_rng(1)
    a = symmetric_stack(100_000, 3, np.float64, seed=2)
    # two eigenvalues within 1e-9 of zero, opposite signs, and one of size 1
    q, _ = np.linalg.qr(rng.standard_normal((100_000, 3, 3)))
    lam = np.stack(
        [
            -rng.uniform(1e-12, 1e-9, 100_000),
            rng.uniform(1e-12, 1e-9, 100_000),
            np.ones(100_000),
        ],
        axis=-1,
    )
    near = np.einsum("kij,kj,klj->kil", q, lam, q)
    near = (near + np.swapaxes(near, -1, -2)) / 2
    for name, stack in (("random", a), ("two near zero", near)):
        ours = linalg.eigvalsh(stack)
        ref = np.linalg.eigvalsh(stack)
        norm = np.abs(ref).max(axis=-1)
        err = float(np.max(np.abs(ours - ref).max(axis=-1) / norm))
        sign_flips = int(np.count_nonzero(np.sign(ours) != np.sign(ref)))
        rows.append({"section": "accuracy_n3", "case": name, "max_rel_err": err,
                     "sign_disagreements_vs_numpy": sign_flips})  # fmt: skip
        print(f"n=3 accuracy ({name}): max |w - w_numpy| / |H| = {err:.2e}, "
              f"sign disagreements with numpy: {sign_flips}")  # fmt: skip


def bench_lowest(repeats: int, rows: list) -> None:
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = 2048
    a = symmetric_stack(1, n, np.float64, seed=3)[0]
    v0 = np.random.default_rng(4).standard_normal(n)

    def ours():
        return lowest_eigenpairs(lambda v: a @ v, n, 1, v0=v0)

    def scipy_eigsh():
        op = LinearOperator((n, n), matvec=lambda v: a @ v, dtype=np.float64)
        return eigsh(op, k=1, which="SA", v0=v0)

    t = interleaved({"scipy_eigsh": scipy_eigsh, "sp_lowest": ours}, repeats)
    res = ours()
    ref = np.linalg.eigvalsh(a)[0]
    row = {"section": "lowest_eigenpair", "n": n, **{f"{k}_s": v for k, v in t.items()},
           "time_ratio_ours_over_scipy": t["sp_lowest"] / t["scipy_eigsh"],
           "eigenvalue_error": float(abs(res.eigenvalues[0] - ref)),
           "residual_norm": float(res.residual_norms[0])}  # fmt: skip
    rows.append(row)
    print(f"lowest eigenpair n={n}: ours/scipy time {row['time_ratio_ours_over_scipy']:.3f}, "
          f"|lambda - dense| = {row['eigenvalue_error']:.1e}, "
          f"residual {row['residual_norm']:.1e}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    sections = ["stack", "classify", "single", "accuracy", "lowest", "all"]
    parser.add_argument("--section", default="all", choices=sections)
    parser.add_argument("--dtype", choices=["float64", "float32", "both"], default="both")
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 96, 128, 192, 256, 512,
                                                                 1024, 2048])  # fmt: skip
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    rows: list = []
    saddlepoint.show_config()
    if args.section in ("stack", "all"):
        dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
        for dtype in dtypes:
            bench_stacks(np.dtype(dtype), repeats, rows)
    if args.section in ("classify", "all"):
        bench_classify(repeats, rows)
    if args.section in ("single", "all"):
        bench_singles(repeats, rows, args.sizes, eigen_max=512)
    if args.section in ("accuracy", "all"):
        accuracy_n3(rows)
    if args.section in ("lowest", "all"):
        bench_lowest(repeats, rows)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    path = out / "eigh.json"
    path.write_text(json.dumps({"lapack_min_n": linalg.LAPACK_MIN_N, "rows": rows}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
