"""saddlepoint.torch's optimizer step against torch.optim's: ``python bench/torch_optim.py``.

1. The step alone, Adam (and SGD with momentum), float32, on the same grads: an MLP and a
   small CNN on the digits (20-100 parameter tensors, from one real backward pass) and a
   single 1e7 tensor; saddlepoint.torch.Adam against torch.optim.Adam(fused=True) and
   (foreach=True). Each contender steps its own copy of the parameters (lr 1e-6, so the
   copies stay alike); calls interleaved, medians; ratios torch / ours.
   "fresh grads": before every timed step (untimed) each contender's zero_grad() and new
   grad tensors, as in a real loop, so ours takes a NumPy view of each new grad instead of
   reusing the last step's.
2. ``--agreement``: float32 agreement over 200 steps of the digits MLP, every option of the
   tests (tests/test_torch_optim.py computes the same numbers and asserts on them).

Threads: both libraries' from OMP_NUM_THREADS (2 on the project's VMs); the results keep
one table per OMP_NUM_THREADS / OMP_WAIT_POLICY setting. bench/torch_threads.py measures
the two libraries' OpenMP use together. The host is
shared and noisy: read the ratios, not the times. Writes bench/results/torch_optim.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import saddlepoint as sp
import saddlepoint.torch as spt
import torch
from torch import nn
from torch.nn import functional as F


def mlp(depth: int, width: int = 64) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(64, width), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """Conv blocks (3x3 conv, batch norm, ReLU) on the 8x8 digits, then two linear layers."""

    def __init__(self, blocks: int = 5, channels: int = 16) -> None:
        super().__init__()
        convs: list[nn.Module] = []
        c_in = 1
        for _ in range(blocks):
            convs += [nn.Conv2d(c_in, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU()]
            c_in = channels
        self.features = nn.Sequential(*convs)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * 16, 32), nn.ReLU(), nn.Linear(32, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x.view(-1, 1, 8, 8))
        return self.head(nn.functional.max_pool2d(x, 2))


class OneTensor(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(n) * 0.01)


def real_grads(model: nn.Module) -> list[torch.Tensor]:
    """The grads of one backward pass on a digits batch (random ones for OneTensor)."""
    params = list(model.parameters())
    if isinstance(model, OneTensor):
        return [torch.randn_like(p) for p in params]
    ds = sp.data.digits()
    X = torch.tensor(ds.X_train[:128], dtype=torch.float32)
    y = torch.tensor(ds.y_train[:128])
    F.cross_entropy(model(X), y).backward()
    return [p.grad.detach().clone() for p in params]


def contenders(
    model: nn.Module, kind: str, grads: list[torch.Tensor]
) -> dict[str, tuple[list[torch.Tensor], Any]]:
    """name -> (its own copy of the parameters, its optimizer)."""
    out = {}
    kw: dict[str, Any] = {"lr": 1e-6}
    if kind == "sgd_momentum":
        kw["momentum"] = 0.9
    cls = {"adam": (torch.optim.Adam, spt.Adam), "sgd_momentum": (torch.optim.SGD, spt.SGD)}
    theirs, ours = cls[kind]
    for name, make in [
        ("torch fused=True", lambda ps: theirs(ps, fused=True, **kw)),
        ("torch foreach=True", lambda ps: theirs(ps, foreach=True, **kw)),
        ("saddlepoint.torch", lambda ps: ours(ps, **kw)),
    ]:
        params = [p.detach().clone().requires_grad_(True) for p in model.parameters()]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        out[name] = (params, make(params))
    return out


def timed_with_fresh_grads(
    fns: dict[str, tuple[Callable[[], object], Callable[[], object]]], budget: float
) -> dict[str, float]:
    """As _timing.interleaved_medians, but each call is preceded by an untimed setup."""
    for setup, fn in fns.values():
        setup()
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    start, rounds = time.perf_counter(), 0
    while rounds < 7 or (time.perf_counter() - start < budget and rounds < 3000):
        for name, (setup, fn) in fns.items():
            setup()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {k: float(np.median(v)) for k, v in times.items()}


def fresh(params: list[torch.Tensor], opt: Any, grads: list[torch.Tensor]) -> Callable[[], None]:
    """The real loop's grads: zero_grad() (set_to_none=True, which also frees the grads an
    optimizer holds), then new grad tensors with the same values, as a backward makes."""

    def setup() -> None:
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = g.clone()

    return setup


def bench_steps(quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(Path(__file__).parent))
    from _timing import interleaved_medians

    models: list[tuple[str, Callable[[], nn.Module]]] = [
        ("MLP digits 64-32x8-10", lambda: mlp(10, 32)),
        ("MLP digits 64-64x8-10", lambda: mlp(10)),
        ("CNN digits 5 conv+BN blocks", lambda: SmallCNN(5)),
        ("MLP digits 64-64x48-10", lambda: mlp(50)),
        ("one tensor 1e7", lambda: OneTensor(10_000_000)),
    ]
    rows = []
    for label, make in models:
        torch.manual_seed(0)
        model = make()
        grads = real_grads(model)
        n_tensors = len(grads)
        n_elements = sum(g.numel() for g in grads)
        big = n_elements >= 1_000_000
        for kind in ("adam", "sgd_momentum"):
            cs = contenders(model, kind, grads)
            budget = (1.0 if quick else 4.0) * (2 if big else 1)
            same = interleaved_medians({k: opt.step for k, (_, opt) in cs.items()}, budget)

            fresh_t = timed_with_fresh_grads(
                {k: (fresh(ps, opt, grads), opt.step) for k, (ps, opt) in cs.items()}, budget
            )
            ours = "saddlepoint.torch"
            for grads_case, med in (("same grads", same), ("fresh grads", fresh_t)):
                row = {
                    "model": label,
                    "tensors": n_tensors,
                    "elements": n_elements,
                    "optimizer": kind,
                    "grads": grads_case,
                    "ours_us": 1e6 * med[ours],
                    "fused_us": 1e6 * med["torch fused=True"],
                    "foreach_us": 1e6 * med["torch foreach=True"],
                    "fused / ours": med["torch fused=True"] / med[ours],
                    "foreach / ours": med["torch foreach=True"] / med[ours],
                }
                rows.append(row)
                print(
                    f"  {label:30s} {kind:12s} {grads_case:11s} ours {row['ours_us']:9.1f} us"
                    f"  fused/ours {row['fused / ours']:6.2f}"
                    f"  foreach/ours {row['foreach / ours']:6.2f}",
                    file=sys.stderr,
                )
        del model, grads, cs
    return rows


def bench_agreement() -> list[dict[str, Any]]:
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    import test_torch_optim as t  # the test's own measurement, printed

    torch.set_num_threads(1)
    rows = []
    for (name, opts), case in zip(t.CASES, t.CASE_IDS):
        d = t.float32_agreement(name, opts)
        rows.append({"case": case, **d})
        print("  " + case + ": " + ", ".join(f"{k}={v:.2e}" for k, v in d.items()),
              file=sys.stderr)  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short timing budgets")
    ap.add_argument("--agreement", action="store_true", help="float32 agreement table only")
    args = ap.parse_args()
    out: dict[str, Any] = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    path = Path(__file__).parent / "results" / "torch_optim.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    # one table per thread setting (OMP_NUM_THREADS, OMP_WAIT_POLICY), kept across runs
    steps = previous.get("steps") if isinstance(previous.get("steps"), dict) else {}
    if args.agreement:
        out["agreement"] = bench_agreement()
    else:
        policy = os.environ.get("OMP_WAIT_POLICY")
        key = f"{sp.get_num_threads()} threads, OMP_WAIT_POLICY={policy}"
        steps[key] = bench_steps(args.quick)
        out["agreement"] = previous.get("agreement")
    out["steps"] = steps
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
