"""What watching a run costs: ``python bench/monitor.py [--quick]``.

1. Per step: Adam and SGD with momentum at n = 1e3, 1e5, 1e7 (float32, float64; 1 and 2
   threads), the plain fused step against the step followed by ``Monitor.observe(loss, grad)``
   (its instruments from one fused C++ pass over the gradient and the parameters) and, where
   the optimizer computes them itself, against the instrumented step (``observe(loss)`` with
   the reductions taken inside the step's own pass). Peers interleaved in one process,
   medians; ratios to the plain step.
2. The whole monitor on the digits MLP (Adam, lr 1e-3, batch 32): training time with the
   default Monitor (curvature every 50 steps from the model's exact HVP on a fixed batch of
   256 examples) and without curvature, against the bare loop, epochs interleaved.
3. Hessian-vector products per curvature check on that MLP (2,410 parameters, so Lanczos,
   not the dense path): each warm-started check against a cold one at the same parameters
   (both ends of the spectrum; the preconditioned lambda_max Adam adds is counted apart).

The host is shared and noisy: read the ratios, not the times. Writes bench/results/monitor.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import saddlepoint as sp
from _timing import interleaved_medians


def _interleaved(fns: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    return interleaved_medians(fns, budget, min_rounds=7, max_rounds=5000)


def _step_contenders(kind: str, n: int, dtype: type) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    make = {
        "adam": lambda p: sp.optim.Adam(p, lr=1e-4),
        "sgd_momentum": lambda p: sp.optim.SGD(p, lr=1e-4, momentum=0.9),
    }[kind]
    grad = rng.standard_normal(n).astype(dtype)
    plain_p = rng.standard_normal(n).astype(dtype)
    plain = make(plain_p)
    watched_p = plain_p.copy()
    watched = make(watched_p)
    mon = sp.Monitor(optimizer=watched, curvature_every=0)
    out: dict[str, Callable[[], object]] = {
        "plain step": lambda: plain.step(grad),
        "step + observe(loss, grad)": lambda: (watched.step(grad), mon.observe(1.0, grad)),
    }
    # the optimizer takes the instruments in its own pass: observe(loss) without the gradient
    inner = make(plain_p.copy())
    inner_mon = sp.Monitor(optimizer=inner, curvature_every=0)
    out["instrumented step + observe(loss)"] = lambda: (inner.step(grad), inner_mon.observe(1.0))
    # the instrumented step alone, without the monitor's Python bookkeeping
    bare = make(plain_p.copy())
    bare._engine._set_instrumented(True)
    out["instrumented step alone"] = lambda: bare.step(grad)
    return out


def bench_steps(quick: bool, threads: list[int]) -> list[dict[str, object]]:
    rows = []
    sizes = [1_000, 100_000] if quick else [1_000, 100_000, 10_000_000]
    for nthreads in threads:
        sp.set_num_threads(nthreads)
        for kind in ("adam", "sgd_momentum"):
            for dtype in (np.float32, np.float64):
                for n in sizes:
                    budget = (0.3 if quick else 1.5) if n < 10_000_000 else (1.0 if quick else 4.0)
                    med = _interleaved(_step_contenders(kind, n, dtype), budget)
                    base = med["plain step"]
                    row = {"optimizer": kind, "dtype": np.dtype(dtype).name, "n": n,
                           "threads": nthreads, "plain_us": 1e6 * base}  # fmt: skip
                    row.update(
                        {f"{k} / plain": v / base for k, v in med.items() if k != "plain step"}
                    )
                    rows.append(row)
                    print("  " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in row.items()), file=sys.stderr)  # fmt: skip
    return rows


def bench_training(quick: bool) -> dict[str, object]:
    ds = sp.data.digits()
    X, y = ds.X_train, ds.y_train
    model = sp.models.MLP([64, 32, 10])
    curv_X, curv_y = X[:256], y[:256]
    steps = 300 if quick else 1500
    rounds = 2 if quick else 5
    setups = {
        "bare loop": None,
        "Monitor(optimizer=opt), the defaults (no hvp: no curvature)": 0,
        "Monitor(optimizer=opt, hvp=...): curvature every 50 steps": 50,
    }
    times: dict[str, list[float]] = {k: [] for k in setups}
    products: list[float] = []
    for r in range(rounds):
        for name, every in setups.items():
            params = model.init(0)
            opt = sp.optim.Adam(params, lr=1e-3)
            rng = np.random.default_rng(r)
            mon = None
            if every is not None:
                hvp = (lambda v, p=params: model.hvp(p, curv_X, curv_y, v)) if every else None
                mon = sp.Monitor(optimizer=opt, hvp=hvp, curvature_every=every or 50)
            t0 = time.perf_counter()
            for _ in range(steps):
                idx = rng.integers(0, X.shape[0], 32)
                loss, grad = model.loss_and_grad(params, X[idx], y[idx])
                opt.step(grad)
                if mon is not None:
                    mon.observe(loss)  # Adam took the instruments in its own step
            times[name].append(time.perf_counter() - t0)
            if mon is not None and every:
                col = mon.columns()["curvature_products"]
                products = col[np.isfinite(col)].tolist()
    med = {k: float(np.median(v)) for k, v in times.items()}
    base = med["bare loop"]
    return {
        "steps": steps,
        "seconds": med,
        "overhead": {k: v / base - 1.0 for k, v in med.items() if k != "bare loop"},
        "products_cold": products[0] if products else None,
        "products_warm_median": float(np.median(products[1:])) if len(products) > 1 else None,
        "products_warm_max": float(np.max(products[1:])) if len(products) > 1 else None,
        "checks": len(products),
    }


def bench_warm_start(quick: bool) -> dict[str, object]:
    """Products per check, warm-started from the previous check against cold, at the same
    parameters every 50 steps of the digits MLP's Adam run (the Monitor's default tol)."""
    from saddlepoint.monitor._curvature import check_curvature

    ds = sp.data.digits()
    X, y = ds.X_train, ds.y_train
    model = sp.models.MLP([64, 32, 10])
    curv_X, curv_y = X[:256], y[:256]
    params = model.init(0)
    opt = sp.optim.Adam(params, lr=1e-3)
    rng = np.random.default_rng(0)
    tol = sp.Monitor(optimizer=sp.optim.Adam(np.zeros(2), lr=1e-3)).curvature_tol
    previous, rows = None, []
    for t in range(1, (500 if quick else 1500) + 1):
        idx = rng.integers(0, X.shape[0], 32)
        _, grad = model.loss_and_grad(params, X[idx], y[idx])
        opt.step(grad)
        if t % 50 == 1:

            def hvp(v: np.ndarray) -> np.ndarray:
                return model.hvp(params, curv_X, curv_y, v)

            warm = check_curvature(hvp, params.size, previous=previous, tol=tol)
            cold = check_curvature(hvp, params.size, tol=tol)
            rows.append((warm.n_products, cold.n_products))
            previous = warm
    later = np.asarray(rows[1:], dtype=float)
    return {
        "tol": tol,
        "checks": len(rows),
        "warm_median": float(np.median(later[:, 0])),
        "cold_median": float(np.median(later[:, 1])),
        "warm_over_cold_median": float(np.median(later[:, 0] / later[:, 1])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, short budgets")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-steps", action="store_true", help="only the training overhead")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "monitor.json"))
    args = parser.parse_args(argv)
    rows = [] if args.skip_steps else bench_steps(args.quick, args.threads)
    sp.set_num_threads(max(args.threads))
    training = bench_training(args.quick)
    warm = bench_warm_start(args.quick)
    if rows:
        cols = [k for k in rows[0] if k not in ("plain_us",)]
        print("| " + " | ".join(cols) + " | plain µs |")
        print("|" + "---|" * (len(cols) + 1))
        for r in rows:
            cells = [f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols]
            print("| " + " | ".join(cells) + f" | {r['plain_us']:.1f} |")
    print(
        f"\nDigits MLP, {training['steps']} Adam steps, batch 32 (median of interleaved rounds):"
    )
    for k, v in training["overhead"].items():  # type: ignore[union-attr]
        print(f"  {k}: +{100 * v:.1f}% of the bare loop's time")
    print(f"  Hessian-vector products per curvature check: cold {training['products_cold']}, "
          f"warm median {training['products_warm_median']}, max {training['products_warm_max']} "
          f"({training['checks']} checks)")  # fmt: skip
    print(f"  at the same parameters (tol {warm['tol']:g}, {warm['checks']} checks): warm median "
          f"{warm['warm_median']:.0f}, cold median {warm['cold_median']:.0f} products; "
          f"warm/cold median {warm['warm_over_cold_median']:.2f}")  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"platform": platform.platform(), "config": dict(sp._core.build_config())}
    results = {"meta": meta, "steps": rows, "training": training, "warm_start": warm}
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
