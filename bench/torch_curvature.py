"""Hessian-vector products to reach lambda_max of a small CNN: ``python bench/torch_curvature.py``.

A CNN on the 8x8 digits (two 3x3 conv layers, 3,658 parameters, float32) is trained with
Adam (lr 1e-3, batch 64) and measured after 100, 400 and 2,000 steps: the Hessian of the
mean cross-entropy over a fixed batch of 512 training images, through
:func:`saddlepoint.torch.hvp`. The reference
``lambda_max`` comes from ARPACK at ``tol=1e-10``. Each method starts from the same random
vectors (one per seed) and is charged every product it takes:

- **Lanczos** (the package's: the recurrence of the Monitor's curvature checks, full
  reorthogonalisation, :mod:`saddlepoint.monitor._curvature`): products until the top Ritz
  value is within ``1e-3`` of the reference (the m-step Ritz values are those of the leading
  m x m block of one long recurrence's tridiagonal, so one run gives every m);
- **power iteration**, PyHessian's method (``v <- Hv / ||Hv||``, Rayleigh quotient):
  products until the Rayleigh quotient is within ``1e-3``;
- and the stopping rules users get: PyHessian's own (relative change below ``1e-3``, at most
  100 iterations), the Monitor's check (:func:`saddlepoint.monitor.check_curvature`,
  ``tol=1e-3``, both ends of the spectrum, residual products included) and
  :func:`saddlepoint.torch.eigenpairs` (ARPACK, default ``tol``), with the error each
  reaches.

Products are counted, not timed: the count is what each method costs on any hardware.
"""

from __future__ import annotations

import argparse
import platform
import sys

import numpy as np
import saddlepoint as sp
import saddlepoint.torch as st
import torch
from saddlepoint.hessian import highest_eigenpairs
from saddlepoint.monitor import check_curvature
from saddlepoint.monitor._curvature import _lanczos
from saddlepoint.torch._density import _Recording
from scipy.linalg import eigvalsh_tridiagonal
from torch import nn

F = nn.functional
RTOL = 1e-3


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10),
    )  # fmt: skip


def training_points(steps: list[int]):  # type: ignore[no-untyped-def]
    """The CNN after each number of Adam steps in ``steps`` (one run, measured on the way),
    with the fixed probe batch."""
    data = sp.data.digits()
    X = torch.tensor(data.X_train, dtype=torch.float32).reshape(-1, 1, 8, 8)
    y = torch.tensor(data.y_train)
    torch.manual_seed(0)
    model = small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    done = 0
    for target in sorted(steps):
        for _ in range(target - done):
            idx = torch.randint(0, len(X), (64,), generator=g)
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
        done = target
        yield target, model, (X[:512], y[:512])


def lanczos_products(h, start: np.ndarray, ref: float, max_steps: int) -> int | None:  # type: ignore[no-untyped-def]
    op = _Recording(h, h.dim)  # the SLQ's own: the tridiagonal read off the calls
    _lanczos(op, start, 1e300, low=False, min_steps=max_steps)  # exactly max_steps steps
    alpha, beta = np.array(op.alpha), np.array(op.beta)
    for m in range(1, alpha.size + 1):
        top = alpha[0] if m == 1 else eigvalsh_tridiagonal(alpha[:m], beta[: m - 1])[-1]
        if abs(top - ref) <= RTOL * abs(ref):
            return m
    return None


def power_products(h, start: np.ndarray, ref: float, max_products: int) -> int | None:  # type: ignore[no-untyped-def]
    v = start / np.linalg.norm(start)
    for k in range(1, max_products + 1):
        w = h(v)
        if abs(float(v @ w) - ref) <= RTOL * abs(ref):
            return k
        v = w / np.linalg.norm(w)
    return None


def pyhessian_rule(h, start: np.ndarray, ref: float) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """PyHessian's eigenvalues(): stop when the relative change is below tol=1e-3, at most
    maxIter=100 products."""
    v = start / np.linalg.norm(start)
    previous = None
    for k in range(1, 101):
        w = h(v)
        lam = float(v @ w)
        if previous is not None and abs(lam - previous) / (abs(previous) + 1e-6) < RTOL:
            return k, abs(lam - ref) / abs(ref)
        previous = lam
        v = w / np.linalg.norm(w)
    return 100, abs(lam - ref) / abs(ref)


LABELS = {
    "lanczos": "Lanczos (saddlepoint), first m within 1e-3",
    "power": "power iteration (PyHessian's method), first k within 1e-3",
    "pyhessian": "power iteration, PyHessian's stopping rule (tol 1e-3)",
    "monitor": "Monitor check_curvature (tol 1e-3, both ends, residuals)",
    "eigenpairs": "saddlepoint.torch.eigenpairs('highest'), ARPACK default tol",
}


def measure(h, seeds: int, max_products: int) -> tuple[float, dict, dict]:  # type: ignore[no-untyped-def]
    reference = highest_eigenpairs(h, h.dim, 1, tol=1e-10)
    ref = float(reference.eigenvalues[0])
    rows: dict[str, list] = {name: [] for name in LABELS}
    errors: dict[str, list] = {name: [] for name in ("pyhessian", "monitor", "eigenpairs")}
    for seed in range(seeds):
        start = np.random.default_rng(seed).standard_normal(h.dim)
        rows["lanczos"].append(lanczos_products(h, start, ref, min(max_products, 300)))
        rows["power"].append(power_products(h, start, ref, max_products))
        k, err = pyhessian_rule(h, start, ref)
        rows["pyhessian"].append(k)
        errors["pyhessian"].append(err)
        check = check_curvature(h, h.dim, tol=RTOL, seed=seed)
        rows["monitor"].append(check.n_products)
        errors["monitor"].append(abs(check.lambda_max - ref) / abs(ref))
        pairs = highest_eigenpairs(h, h.dim, 1, tol=float(np.sqrt(h.eps)), v0=start)
        rows["eigenpairs"].append(pairs.n_products)
        errors["eigenpairs"].append(abs(float(pairs.eigenvalues[0]) - ref) / abs(ref))
    return ref, rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train-steps", type=int, nargs="+", default=[100, 400, 2000])
    parser.add_argument("--max-products", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# small CNN on digits, Hessian of the mean cross-entropy on 512 training images; "
        f"{args.seeds} start vectors per point; torch {torch.__version__}, "
        f"{platform.machine()}, Python {sys.version.split()[0]}"
    )
    summary = []
    for steps, model, probe in training_points(args.train_steps):
        h = st.hvp(model, F.cross_entropy, probe)
        ref, rows, errors = measure(h, args.seeds, args.max_products)
        print(
            f"\n## after {steps} Adam steps: {h.dim} parameters, lambda_max = {ref:.6g} "
            f"(ARPACK tol 1e-10), hvp method {h.method!r}\n"
        )
        print(f"| method (lambda_max within {RTOL:g} relative) | HVPs, median | min-max | error |")
        print("|---|---:|---:|---:|")
        for name, counts in rows.items():
            known = [c for c in counts if c is not None]
            missing = len(counts) - len(known)
            med = f"{np.median(known):.0f}" if known else "-"
            span = f"{min(known)}-{max(known)}" if known else "-"
            if missing:
                span += f" ({missing} not within {args.max_products})"
            err = f"{np.median(errors[name]):.1e}" if name in errors else "<= 1e-3"
            print(f"| {LABELS[name]} | {med} | {span} | {err} |")
        lz = [c for c in rows["lanczos"] if c is not None]
        pw = [c for c in rows["power"] if c is not None]
        ratio = np.median(lz) / np.median(pw) if lz and len(pw) == args.seeds else np.nan
        summary.append((steps, ref, np.median(lz), np.median(pw), ratio))
    print("\n## Lanczos against power iteration (HVPs to lambda_max within 1e-3, medians)\n")
    print("| Adam steps | lambda_max | Lanczos | power iteration | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for steps, ref, lz, pw, ratio in summary:
        print(f"| {steps} | {ref:.4g} | {lz:.0f} | {pw:.0f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
