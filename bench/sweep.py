"""Sweep throughput: 10,000 Adam runs x 1,000 steps on the 2-D Rosenbrock from (-1.5, 2), each
run with its own learning rate (log-spaced 1e-4..1) and betas, in million run-steps per second.

Peers, interleaved in one process and timed as medians after a warm-up:
  native      the compiled sweep loop (saddlepoint._core.native_sweep, as sweep() calls it)
  sweep()     saddlepoint.sweep on the built-in surface, end to end (a DataFrame of runs in, the
              result table out)
  custom      sweep() on a user-defined NumPy surface: the vectorized kernel path
  numpy       the same sweep written as a NumPy program vectorized over runs
  jax         optax.adam + jax.vmap + lax.scan, jit-compiled (compile time reported apart)

Then the compiled loop's table for every optimizer x built-in surface, float64 and float32
(``--table-only`` prints just that), and the scale row: 10^6 runs x 100 steps, sweep() against
the compiled loop alone, and the peak memory of sweep() (tracemalloc) against its result
table; --stores adds out= timings.

Usage: python bench/sweep.py [--runs N] [--steps T] [--repeats R] [--threads K] [--stores]
Writes bench/results/sweep.json.
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
from saddlepoint import _core, sweep

X0 = (-1.5, 2.0)


class NumpyRosenbrock:
    """A user-defined surface (the custom-surface path of sweep), written as a user would:
    value_and_grad shares the sub-expressions (sweep uses it when a surface has it)."""

    dim = 2
    start = X0

    def value(self, X):
        return self.value_and_grad(X)[0]

    def grad(self, X):
        return self.value_and_grad(X)[1]

    def value_and_grad(self, X):
        x, y = X[..., 0], X[..., 1]
        r = y - x * x
        s = 1 - x
        g = np.empty_like(X)
        g[..., 0] = 0 - 400 * x * r - 2 * s
        g[..., 1] = 0 + 200 * r
        return 0 + 100 * r * r + s * s, g


def settings(n):
    lr = np.logspace(-4, 0, n)
    beta1 = np.resize([0.8, 0.9, 0.95, 0.99], n).astype(np.float64)
    beta2 = np.resize([0.99, 0.999, 0.9999], n).astype(np.float64)
    return lr, beta1, beta2


def run_native(n, steps, dtype):
    lr, b1, b2 = settings(n)
    x = np.tile(np.asarray(X0, dtype=dtype), (n, 1))
    hyper = {
        "lr": lr,
        "beta1": b1,
        "beta2": b2,
        "eps": np.full(n, 1e-8),
        "weight_decay": np.zeros(n),
    }
    _core.native_sweep(
        "rosenbrock", x, steps, "adam", hyper, np.full(n, -1, np.int64), np.zeros((1, steps))
    )
    return x


def grid_of(n):
    """The runs as a DataFrame, a run per row (the columnar form of a grid)."""
    import pandas as pd

    lr, b1, b2 = settings(n)
    return pd.DataFrame({"lr": lr, "beta1": b1, "beta2": b2})


def run_sweep(n, steps, dtype, surface, grid=None, **kw):
    """sweep() end to end from a DataFrame of runs (built here unless given), with sweep's
    default chunks."""
    grid = grid_of(n) if grid is None else grid
    df = sweep(
        surface,
        grid,
        steps=steps,
        x0=X0,
        dtype=dtype,
        progress=False,
        native=not isinstance(surface, NumpyRosenbrock),
        **kw,
    )
    return df


def scale_row(n, steps, repeats):
    """10^6 runs x 100 steps: sweep() (its default chunks) against the compiled loop alone, and
    sweep()'s peak traced memory (tracemalloc: NumPy's buffers included) against its table."""
    import tracemalloc

    peers = {
        "native": lambda: run_native(n, steps, np.float64),
        "sweep()": lambda: run_sweep(n, steps, np.float64, "rosenbrock"),
    }
    for fn in peers.values():
        fn()
    times = {k: [] for k in peers}
    for _ in range(repeats):
        for name, fn in peers.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    grid = grid_of(n)  # the input is the caller's, not sweep's: built before tracing
    tracemalloc.start()
    df = run_sweep(n, steps, np.float64, "rosenbrock", grid=grid)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # the table's own bytes; kind's 6 strings are shared, so its column costs its pointers
    table = int(df.memory_usage(deep=False, index=True).sum())
    row = {
        "runs": n,
        "steps": steps,
        "median_s": med,
        "sweep_over_native": med["sweep()"] / med["native"],
        "peak_traced_bytes": peak,
        "table_bytes": table,
        "peak_over_table": peak / table,
    }
    print(
        f"\n{n} runs x {steps} steps (float64): native {med['native']:.3f} s, sweep() "
        f"{med['sweep()']:.3f} s: {row['sweep_over_native']:.2f}x the compiled loop"
    )
    print(
        f"  peak traced memory {peak / 1e6:.0f} MB = {row['peak_over_table']:.2f}x the "
        f"result table ({table / 1e6:.0f} MB)"
    )
    return row


def store_row(n, steps, folder):
    """The same sweep written to each store (one run each: writes are not repeatable)."""
    import shutil

    row = {}
    for name in ("results.sqlite", "results.parquet"):
        path = Path(folder) / name
        shutil.rmtree(path, ignore_errors=True)
        if path.exists():
            path.unlink()
        t0 = time.perf_counter()
        run_sweep(n, steps, np.float64, "rosenbrock", out=str(path))
        row[name] = time.perf_counter() - t0
        print(f"  with out={name}: {row[name]:.2f} s")
    return row


def run_numpy(n, steps, dtype):
    """Adam vectorized over runs, torch.optim's formulas, in place where NumPy allows."""
    lr, b1, b2 = settings(n)
    x = np.tile(np.asarray(X0, dtype=dtype), (n, 1))
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    b1c, b2c = b1.astype(dtype)[:, None], b2.astype(dtype)[:, None]
    one_b1, one_b2 = (1 - b1).astype(dtype)[:, None], (1 - b2).astype(dtype)[:, None]
    g = np.empty_like(x)
    for t in range(1, steps + 1):
        px, py = x[:, 0], x[:, 1]
        r = py - px * px
        g[:, 0] = -400 * px * r - 2 * (1 - px)
        g[:, 1] = 200 * r
        m *= b1c
        m += one_b1 * g
        v *= b2c
        v += one_b2 * g * g
        step = (lr / (1 - b1**t)).astype(dtype)[:, None]
        bc2 = np.sqrt(1 - b2**t).astype(dtype)[:, None]
        x -= step * m / (np.sqrt(v) / bc2 + dtype(1e-8))
    return x


def make_jax(n, steps, dtype):
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    lr, b1, b2 = (jnp.asarray(a, dtype=dtype) for a in settings(n))

    def loss(p):
        return 100 * (p[1] - p[0] ** 2) ** 2 + (1 - p[0]) ** 2

    def one_run(lr_i, b1_i, b2_i):
        opt = optax.adam(lr_i, b1=b1_i, b2=b2_i, eps=1e-8)
        p0 = jnp.asarray(X0, dtype=dtype)

        def body(carry, _):
            p, state = carry
            g = jax.grad(loss)(p)
            updates, state = opt.update(g, state, p)
            return (optax.apply_updates(p, updates), state), None

        (p, _), _ = jax.lax.scan(body, (p0, opt.init(p0)), None, length=steps)
        return p

    fn = jax.jit(jax.vmap(one_run))
    t0 = time.perf_counter()
    fn.lower(lr, b1, b2).compile()
    compile_s = time.perf_counter() - t0
    fn(lr, b1, b2).block_until_ready()

    def run():
        return fn(lr, b1, b2).block_until_ready()

    return run, compile_s


# Hyper-parameters per optimizer for the table (every run its own learning rate, log-spaced).
TABLE_HYPER = {
    "sgd": {"momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0},
    "adagrad": {"lr_decay": 0.0, "weight_decay": 0.0, "eps": 1e-10},
    "rmsprop": {"alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
}


def optimizer_surface_table(runs: int, steps: int, repeats: int) -> dict:
    """The compiled loop's M run-steps/s for every optimizer x built-in surface, float64 and
    float32 (start points uniform in [-1, 1]^dim, dim 2; the quadratic's matrix diag(1, 10)),
    with the float32 / float64 ratio."""
    rows = {}
    print(
        f"\ncompiled loop, {runs} runs x {steps} steps, {saddlepoint.get_num_threads()} "
        "thread(s): M run-steps/s float64 / float32 (ratio)"
    )
    print(f"  {'surface':<17}" + "".join(f"{o:>22}" for o in TABLE_HYPER))
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (runs, 2))
    lr = np.logspace(-5, -3, runs)  # small enough that no run leaves the finite numbers
    for surface in _core.native_sweep_surfaces():
        matrix = np.diag([1.0, 10.0]) if surface == "quadratic" else None
        line, rows[surface] = f"  {surface:<17}", {}
        for opt, fixed in TABLE_HYPER.items():
            hyper = {"lr": lr, **{k: np.full(runs, v) for k, v in fixed.items()}}
            rate = {}
            for dtype in (np.float64, np.float32):
                args = (surface, x0.astype(dtype), steps, opt, hyper, np.full(runs, -1),
                        np.zeros((1, steps)))  # fmt: skip
                kw = {"matrix": matrix, "flags": {"momentum_on": opt == "sgd"}}

                def call(args=args, kw=kw):
                    _core.native_sweep(*args[:1], args[1].copy(), *args[2:], **kw)

                call()  # warm-up
                t = statistics.median(_timed(call) for _ in range(repeats))
                rate[np.dtype(dtype).name] = runs * steps / t / 1e6
            rows[surface][opt] = {**rate, "ratio": rate["float32"] / rate["float64"]}
            r = rows[surface][opt]
            line += f"{r['float64']:>9.0f} /{r['float32']:>6.0f} ({r['ratio']:.2f})"
        print(line, flush=True)
    return rows


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=1_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=saddlepoint.get_num_threads())
    ap.add_argument("--scale-runs", type=int, default=1_000_000, help="runs of the scale row")
    ap.add_argument("--scale-steps", type=int, default=100)
    ap.add_argument("--stores", action="store_true", help="also time out= (SQLite, Parquet)")
    ap.add_argument("--table-only", action="store_true",
                    help="only the optimizer x surface table (10^4 runs x 500 steps)")  # fmt: skip
    args = ap.parse_args()
    if args.table_only:
        saddlepoint.set_num_threads(args.threads)
        optimizer_surface_table(10_000, 500, args.repeats)
        return
    saddlepoint.set_num_threads(args.threads)
    n, steps = args.runs, args.steps
    work = n * steps / 1e6
    have_builtin = True
    try:
        from saddlepoint import surfaces  # noqa: F401
    except ImportError:
        have_builtin = False

    results = {}
    for dtype in (np.float64, np.float32):
        peers = {
            "native": lambda d=dtype: run_native(n, steps, d),
            "custom": lambda d=dtype: run_sweep(n, steps, d, NumpyRosenbrock()),
            "numpy": lambda d=dtype: run_numpy(n, steps, d),
        }
        if have_builtin:
            peers["sweep()"] = lambda d=dtype: run_sweep(n, steps, d, "rosenbrock")
        compile_s = None
        jx = make_jax(n, steps, dtype)
        if jx is not None:
            peers["jax"], compile_s = jx
        for fn in peers.values():  # warm-up
            fn()
        times = {name: [] for name in peers}
        for _ in range(args.repeats):
            for name, fn in peers.items():  # interleaved
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        med = {name: statistics.median(ts) for name, ts in times.items()}
        rate = {name: work / s for name, s in med.items()}
        results[np.dtype(dtype).name] = {
            "million_run_steps_per_s": rate,
            "median_s": med,
            "jax_compile_s": compile_s,
        }
        print(f"\n{np.dtype(dtype).name}: {n} runs x {steps} steps, {args.threads} thread(s)")
        base = rate["numpy"]
        print(f"  {'peer':<9} {'M run-steps/s':>14} {'x numpy':>8} {'x jax':>7}")
        for name, r in sorted(rate.items(), key=lambda kv: -kv[1]):
            vs_jax = f"{r / rate['jax']:7.2f}" if "jax" in rate else "      -"
            print(f"  {name:<9} {r:14.1f} {r / base:8.2f} {vs_jax}")
        if compile_s is not None:
            print(f"  jax compile: {compile_s:.2f} s (not in the rates)")

    table = optimizer_surface_table(10_000, 500, args.repeats)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    scale = scale_row(args.scale_runs, args.scale_steps, args.repeats)
    if args.stores:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            scale["stores_s"] = store_row(args.scale_runs, args.scale_steps, tmp)
    doc = {
        "benchmark": "sweep",
        "runs": n,
        "steps": steps,
        "threads": args.threads,
        "machine": platform.processor() or platform.machine(),
        "build": dict(_core.build_config()),
        "optimizer_surface_table": table,
        "results": results,
        "scale": scale,
    }
    (out / "sweep.json").write_text(json.dumps(doc, indent=2, default=str))


if __name__ == "__main__":
    main()
