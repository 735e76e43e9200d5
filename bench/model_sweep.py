"""A model sweep against looping ``train``: ``python bench/model_sweep.py [--quick]``.

256 runs of the digits MLP (64-32-10, ReLU, float64): lr (4) x momentum (2) x seed (4) x
batch size (4) x loss (2), SGD, ``epochs`` passes each. Contenders, interleaved in one
process (medians after a warm-up round): ``saddlepoint.sweeps.sweep_model`` (runs sharing a
batch size and loss as the rows of one array, one batched forward/backward and one kernel
call per update) and a Python loop of ``saddlepoint.train.train`` over the same 256 settings.
NumPy's BLAS runs on one thread in both (``sweep_model``'s default ``blas_threads=1``; the
loop's products are too small for BLAS threads); the sweep's kernels on one thread
(``kernel_threads=1``, its default), the loop's on ``--threads`` (default 1: on a shared
2-core host, OpenMP regions waiting for a descheduled thread cost milliseconds).
Checks that every row equals its single run, prints the ratio and writes JSON to
bench/results/model_sweep.json. The host is shared: read the ratio, not the times.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import saddlepoint
from _timing import interleaved_medians
from saddlepoint import data
from saddlepoint.models import MLP
from saddlepoint.sweeps import sweep_model
from saddlepoint.train import train

GRID = {
    "lr": [0.01, 0.03, 0.1, 0.3],
    "momentum": [0.0, 0.9],
    "seed": [0, 1, 2, 3],
    "batch_size": [16, 32, 64, 128],
    "loss": ["cross_entropy", "mse"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one epoch, short budget")
    parser.add_argument(
        "--threads", type=int, default=1, help="kernel threads (set_num_threads) for both"
    )
    args = parser.parse_args()
    saddlepoint.set_num_threads(args.threads)
    epochs = 1 if args.quick else 2
    budget = 5.0 if args.quick else 60.0
    ds = data.digits()
    models = {loss: MLP([64, 32, 10], "relu", loss) for loss in GRID["loss"]}

    def batched():
        return sweep_model(models["cross_entropy"], ds, GRID, epochs=epochs)

    def looped():
        out = []
        df = batched.rows  # type: ignore[attr-defined]
        for _, r in df.iterrows():
            res = train(
                models[r["loss"]], ds, "sgd", batch_size=int(r["batch_size"]), epochs=epochs,
                seed=int(r["seed"]), lr=r["lr"], momentum=r["momentum"], progress=False,
            )  # fmt: skip
            out.append(res)
        return out

    batched.rows = batched()  # type: ignore[attr-defined]
    df = batched.rows  # type: ignore[attr-defined]
    singles = looped()
    worst = 0.0
    for i, res in enumerate(singles):
        p = df.attrs["params"][i]
        worst = max(worst, float(np.max(np.abs(p - res.params)) / np.max(np.abs(res.params))))
        assert df["updates"].iloc[i] == res.optimizer.steps
    print(f"{len(df)} runs x {epochs} epochs; largest relative parameter difference {worst:.3g}")
    t = interleaved_medians({"sweep_model": batched, "looped train": looped}, budget, 3)
    ratio = t["looped train"] / t["sweep_model"]
    print(
        f"sweep_model {t['sweep_model']:.3f} s, looped train {t['looped train']:.3f} s: "
        f"{ratio:.1f}x"
    )
    out = Path(__file__).with_name("results") / "model_sweep.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "runs": len(df),
                "epochs": epochs,
                "kernel_threads": args.threads,
                "seconds": t,
                "ratio": ratio,
                "max_relative_param_difference": worst,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
