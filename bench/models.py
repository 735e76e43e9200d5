"""MLP derivatives against PyTorch autograd: ``python bench/models.py [--quick]``.

Times, for the NumPy MLP of :mod:`saddlepoint.models` (float64, flat parameter vector):
loss + gradient and one Hessian-vector product at several batch sizes, and the full exact
Hessian, against PyTorch autograd on the same float64 data (backward; double backward;
``torch.autograd.functional.hessian(vectorize=True)``) and against the other way to get a
Hessian from the exact gradient: central differences, ``2 * n_params`` gradient calls.
Medians after warm-up, contenders interleaved in one process; prints ratios and writes
JSON to bench/results/models.json. The host is shared: read the ratios, not the times.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _timing import interleaved_medians
from saddlepoint import data
from saddlepoint.models import MLP


def _median_seconds(fns: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    return interleaved_medians(fns, budget)


def _torch_loss(torch, model: MLP, X, y):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    act = {"relu": torch.relu, "tanh": torch.tanh}[model.activation]

    def f(p):
        a, pos = Xt, 0
        for i, (fan_in, fan_out) in enumerate(zip(model.sizes[:-1], model.sizes[1:])):
            W = p[pos : pos + fan_in * fan_out].reshape(fan_in, fan_out)
            pos += fan_in * fan_out
            b = p[pos : pos + fan_out]
            pos += fan_out
            a = a @ W + b
            if i < model.n_layers - 1:
                a = act(a)
        return torch.nn.functional.cross_entropy(a, yt)

    return f


def _fd_hessian(model: MLP, p: np.ndarray, X, y, h: float = 1e-5) -> np.ndarray:
    cols = np.empty((model.n_params, model.n_params))
    e = np.zeros(model.n_params)
    for i in range(model.n_params):
        e[i] = h
        cols[i] = (model.grad(p + e, X, y) - model.grad(p - e, X, y)) / (2 * h)
        e[i] = 0.0
    return 0.5 * (cols + cols.T)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short budget")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS and torch threads (default 1: the host is shared)",
    )
    parser.add_argument("--out", default=str(Path(__file__).with_name("results") / "models.json"))
    args = parser.parse_args(argv)
    budget = 0.2 if args.quick else 1.0
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("torch not installed: NumPy rows only", file=sys.stderr)
    if torch is not None:
        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(args.threads)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads):
        rows = _run(torch, budget)
    _report(rows, torch, args.out, args.threads)
    return 0


def _run(torch, budget: float) -> list[dict]:

    digits = data.digits(seed=0)
    X_all, y_all = digits.X_train, digits.y_train
    rows = []

    net = MLP([64, 32, 10], activation="relu")
    p = net.init(0)
    v = np.random.default_rng(1).normal(size=net.n_params)
    for batch in (1, 32, 256, X_all.shape[0]):
        X, y = X_all[:batch], y_all[:batch]
        fns: dict[str, Callable[[], object]] = {
            "ours grad": lambda X=X, y=y: net.loss_and_grad(p, X, y),
            "ours hvp": lambda X=X, y=y: net.hvp(p, X, y, v),
        }
        if torch is not None:
            f = _torch_loss(torch, net, X, y)
            pt, vt = torch.tensor(p), torch.tensor(v)

            def t_grad(f=f, pt=pt):
                q = pt.clone().requires_grad_(True)
                return torch.autograd.grad(f(q), q)[0]

            def t_hvp(f=f, pt=pt, vt=vt):
                q = pt.clone().requires_grad_(True)
                (g,) = torch.autograd.grad(f(q), q, create_graph=True)
                return torch.autograd.grad(g @ vt, q)[0]

            fns["torch grad"] = t_grad
            fns["torch hvp"] = t_hvp
        t = _median_seconds(fns, budget)
        row = {"what": f"[64,32,10] relu, batch {batch}", **{k: t[k] * 1e6 for k in t}}
        rows.append(row)

    for sizes, n in (((4, 8, 3), 96), ((64, 16, 10), 256)):
        net = MLP(list(sizes), activation="tanh")
        p = net.init(0)
        X, y = X_all[:n, : sizes[0]], y_all[:n] % sizes[-1]
        fns = {
            "ours hessian": lambda net=net, p=p, X=X, y=y: net.hessian(p, X, y),
            "fd of grad": lambda net=net, p=p, X=X, y=y: _fd_hessian(net, p, X, y),
        }
        if torch is not None:
            f = _torch_loss(torch, net, X, y)
            pt = torch.tensor(p)
            fns["torch hessian"] = lambda f=f, pt=pt: torch.autograd.functional.hessian(
                f, pt, vectorize=True
            )
        t = _median_seconds(fns, budget if net.n_params < 500 else budget / 4)
        rows.append(
            {
                "what": f"{list(sizes)} tanh, {net.n_params} params, n={n}",
                **{k: t[k] * 1e6 for k in t},
            }
        )

    return rows


def _report(rows: list[dict], torch, out_path: str, threads: int) -> None:
    print(f"threads: {threads}")
    print(f"{'case':42s} {'contender':14s} {'us':>12s} {'ratio vs ours':>14s}")
    for row in rows:
        ours = {k: row[k] for k in row if k.startswith("ours")}
        for key, value in row.items():
            if key == "what":
                continue
            kind = key.split()[-1]
            base = ours.get(f"ours {kind}", next(iter(ours.values())))
            ratio = value / base
            print(f"{row['what']:42s} {key:14s} {value:12.1f} {ratio:14.2f}")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "platform": platform.platform(),
        "torch": getattr(torch, "__version__", None),
        "threads": threads,
    }
    out.write_text(json.dumps({"meta": meta, "rows_microseconds": rows}, indent=1))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
