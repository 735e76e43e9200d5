"""Two OpenMP users in one process: ``python bench/torch_threads.py [--quick]``.

torch's wheel ships its own libgomp (torch/lib/libgomp.so.1) and saddlepoint's core links
the compiler's (/lib/.../libgomp.so.1). Both have the soname libgomp.so.1, so the dynamic
loader maps only the first one loaded and resolves the other library against it: one
runtime, one thread pool, whichever import comes first. This script checks that and times a
real loop in a fresh process per setting:

    forward + backward (torch), then the optimizer step, then torch again

on an MLP whose large layers put both runtimes to work (torch's matmuls, and our kernels,
which use threads above ``show_config()['parallel_threshold']`` elements), for both import
orders, 1 and 2 threads (OMP_NUM_THREADS, which both libraries read), libgomp's default
wait policy against OMP_WAIT_POLICY=PASSIVE, and saddlepoint.torch.Adam against
torch.optim.Adam(fused=True). Reported: median ms per iteration and per step, the libgomp
mapped, the OS threads of the process. The host is shared: read the ratios within a run.
Writes bench/results/torch_threads.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, os, sys, time
order, optimizer, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
if order == "torch first":
    import torch, saddlepoint as sp
else:
    import saddlepoint as sp, torch
import numpy as np
import saddlepoint.torch as spt
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                      nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
X, y = torch.randn(256, 64), torch.randint(0, 10, (256,))
opt = (spt.Adam(model.parameters(), lr=1e-4) if optimizer == "saddlepoint.torch.Adam"
       else torch.optim.Adam(model.parameters(), lr=1e-4, fused=True))
loop, step = [], []
for i in range(iters):
    t0 = time.perf_counter()
    opt.zero_grad()
    F.cross_entropy(model(X), y).backward()
    t1 = time.perf_counter()
    opt.step()
    t2 = time.perf_counter()
    model(X).sum().item()  # torch again right after our step: are its workers there?
    t3 = time.perf_counter()
    if i >= iters // 5:
        loop.append(t3 - t0)
        step.append(t2 - t1)
maps = sorted({l.split()[-1] for l in open("/proc/self/maps") if "libgomp" in l})
print(json.dumps({
    "loop_ms": 1e3 * float(np.median(loop)), "step_ms": 1e3 * float(np.median(step)),
    "libgomp": maps, "os_threads": len(os.listdir("/proc/self/task")),
    "torch_threads": torch.get_num_threads(), "saddlepoint_threads": sp.get_num_threads(),
}))
"""


def run(order: str, optimizer: str, threads: int, policy: str | None, iters: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run(
        [sys.executable, "-c", CHILD, order, optimizer, str(iters)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="processes per setting (median)")
    args = ap.parse_args()
    iters = 60 if args.quick else 300
    rows = []
    settings = itertools.product(
        ["torch first", "saddlepoint first"],
        [1, 2],
        [None, "PASSIVE"],
        ["saddlepoint.torch.Adam", "torch.optim.Adam(fused=True)"],
    )
    for order, threads, policy, optimizer in settings:
        # the repeats interleave with nothing else: one setting's processes back to back
        results = [run(order, optimizer, threads, policy, iters) for _ in range(args.repeats)]
        med = {k: sorted(r[k] for r in results)[len(results) // 2] for k in ("loop_ms", "step_ms")}
        row = {
            "import order": order,
            "OMP_NUM_THREADS": threads,
            "OMP_WAIT_POLICY": policy or "(default)",
            "optimizer": optimizer,
            **med,
            "libgomp": results[0]["libgomp"],
            "os_threads": results[0]["os_threads"],
        }
        rows.append(row)
        print(
            f"  {order:17s} threads={threads} policy={row['OMP_WAIT_POLICY']:9s} "
            f"{optimizer:29s} loop {med['loop_ms']:7.2f} ms  step {med['step_ms']:6.3f} ms  "
            f"{len(row['libgomp'])} libgomp: {row['libgomp'][0].split('/')[-3]}  "
            f"threads {row['os_threads']}",
            file=sys.stderr,
        )
    path = Path(__file__).parent / "results" / "torch_threads.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"iters": iters, "rows": rows}, indent=1))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
