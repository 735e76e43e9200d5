"""Schedules and surfaces against their peers: ``python bench/schedules_surfaces.py [--quick]``.

Rows (each a ratio of contenders timed interleaved in one process, medians of repeats
after a warm-up):

- a schedule called with a Python int (what an optimizer does every step) against
  ``torch.optim.lr_scheduler``'s ``scheduler.step()`` for the same schedule;
- a whole schedule of 1e5 steps in one array call against 1e5 scalar calls and against
  optax's jitted schedule on the same array;
- the cost a schedule adds to ``saddlepoint.optim.SGD.step`` on a small model;
- a surface's value / gradient / Hessian on 1e5 points in one call against the loop over
  points, and Rosenbrock's value against ``scipy.optimize.rosen`` on the same points.

Writes the table as JSON to bench/results/schedules_surfaces.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from saddlepoint import schedules as S
from saddlepoint import surfaces


def _per_call(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def compare(contenders: dict[str, Callable[[], Any]], number: int, repeats: int) -> dict:
    """Median seconds per call of each contender, interleaved repeat by repeat."""
    for fn in contenders.values():  # warm-up (and JIT compilation)
        _per_call(fn, max(1, number // 10))
    samples: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            samples[name].append(_per_call(fn, number))
    return {k: statistics.median(v) for k, v in samples.items()}


def schedule_rows(quick: bool) -> list[dict]:
    rows = []
    repeats = 5 if quick else 15
    try:
        import torch
    except ImportError:
        torch = None
    cases = {
        "cosine": (S.cosine(0.1, T_max=1000, eta_min=1e-4), "CosineAnnealingLR", (1000, 1e-4)),
        "step_decay": (S.step_decay(0.1, 100, 0.5), "StepLR", (100, 0.5)),
        "one_cycle": (S.one_cycle(0.1, 10**6), "OneCycleLR", (0.1,)),
        "warmup_cosine": (S.warmup_cosine(0.1, warmup_steps=100, decay_steps=1000), None, ()),
        "cosine_restarts": (S.cosine_restarts(0.1, 10, 2), "CosineAnnealingWarmRestarts",
                            (10, 2)),
    }  # fmt: skip
    for name, (sched, torch_name, args) in cases.items():
        k = 517
        contenders: dict[str, Callable[[], Any]] = {"saddlepoint": lambda s=sched, k=k: s(k)}
        if torch is not None and torch_name is not None:
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
            cls = getattr(torch.optim.lr_scheduler, torch_name)
            kw = {"total_steps": 10**7, "cycle_momentum": False} if name == "one_cycle" else {}
            t_sched = cls(opt, *args, **kw)
            opt.step()  # PyTorch warns when the scheduler steps before the optimizer
            contenders["torch scheduler.step()"] = t_sched.step
        res = compare(contenders, 2000 if quick else 20000, repeats)
        rows.append(_row(f"schedule {name}: one step, Python int", res, "saddlepoint"))

    steps = np.arange(100_000)
    sched = S.warmup_cosine(0.1, warmup_steps=1000, decay_steps=90_000)
    contenders = {
        "saddlepoint array": lambda: sched(steps),
        "saddlepoint scalar loop": lambda: [sched(int(k)) for k in range(100_000)],
    }
    try:
        import jax
        import optax

        o = jax.jit(optax.warmup_cosine_decay_schedule(0.0, 0.1, 1000, 90_000))
        contenders["optax jit (float32)"] = lambda: np.asarray(o(steps))
    except ImportError:
        pass
    res = compare(contenders, 2 if quick else 5, repeats)
    rows.append(_row("warmup_cosine over 1e5 steps", res, "saddlepoint array"))

    try:
        from saddlepoint import optim
    except ImportError:
        return rows
    x1, x2 = np.zeros(100), np.zeros(100)
    g = np.full(100, 1e-3)
    const = optim.SGD(x1, lr=0.1, momentum=0.9)
    scheduled = optim.SGD(x2, lr=S.cosine(0.1, T_max=10**9), momentum=0.9)
    res = compare(
        {"SGD constant lr": lambda: const.step(g), "SGD cosine lr": lambda: scheduled.step(g)},
        2000 if quick else 20000,
        repeats,
    )
    rows.append(_row("SGD.step, n = 100, constant vs scheduled lr", res, "SGD constant lr"))
    return rows


def surface_rows(quick: bool) -> list[dict]:
    rows = []
    repeats = 5 if quick else 11
    rng = np.random.default_rng(0)
    n_points = 100_000
    for name in ("rosenbrock", "himmelblau", "goldstein_price"):
        s = surfaces.get(name)
        X = rng.uniform(-2, 2, size=(n_points, 2))
        sub = X[:2000]  # the loop is timed on 2,000 points and scaled to 1e5
        for method in ("value", "grad", "hessian"):
            fn = getattr(s, method)
            res = compare(
                {
                    "vectorized": lambda fn=fn, X=X: fn(X),
                    "loop over points": lambda fn=fn, sub=sub: [fn(x) for x in sub],
                },
                1 if quick else 3,
                repeats,
            )
            res["loop over points"] *= n_points / len(sub)
            rows.append(_row(f"{name}.{method} on 1e5 points", res, "vectorized"))
    try:
        from scipy.optimize import rosen
    except ImportError:
        return rows
    s = surfaces.rosenbrock(2)
    X = rng.uniform(-2, 2, size=(n_points, 2))
    XT = np.ascontiguousarray(X.T)
    res = compare(
        {"saddlepoint": lambda: s.value(X), "scipy rosen": lambda: rosen(XT)}, 5, repeats
    )
    rows.append(_row("rosenbrock value on 1e5 points", res, "saddlepoint"))
    return rows


def _row(title: str, seconds: dict[str, float], baseline: str) -> dict:
    return {
        "row": title,
        "baseline": baseline,
        "us": {k: v * 1e6 for k, v in seconds.items()},
        "ratio": {k: v / seconds[baseline] for k, v in seconds.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--out", default=str(Path(__file__).with_name("results") / "schedules_surfaces.json")
    )
    args = parser.parse_args(argv)
    rows = schedule_rows(args.quick) + surface_rows(args.quick)
    for r in rows:
        parts = ", ".join(f"{k} {r['us'][k]:.3g} us (x{r['ratio'][k]:.3g})" for k in r["us"])
        print(f"{r['row']}: {parts}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"platform": platform.platform(), "rows": rows}, indent=1))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
