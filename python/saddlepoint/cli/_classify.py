"""``saddlepoint classify``: is this Hessian a minimum, a maximum, a saddle or degenerate?"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ._common import CLIError

_EXAMPLE = """examples:
  saddlepoint classify "0 -2; -2 0"          # the tiny network at the origin: a saddle
  saddlepoint classify "[[2, 0], [0, 3]]"    # a strict minimum
  saddlepoint classify hessian.npy           # a saved (n, n) array
"""


NAME = "classify"
HELP = "classify a Hessian: minimum, maximum, saddle or degenerate"
DESCRIPTION = (
    "Classify a symmetric Hessian by the signs of its eigenvalues and print "
    "the kind, the eigenvalues, the minimum ratio (share of positive eigenvalues) and "
    "the escape direction (eigenvector of the most negative eigenvalue)."
)
EPILOG = _EXAMPLE


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "hessian",
        help="a .npy file, or inline numbers: rows separated by ';' "
        '("1 0; 0 -1") or a nested list ("[[1, 0], [0, -1]]")',
    )
    p.add_argument(
        "--rtol",
        type=float,
        default=None,
        help="eigenvalues within rtol*max|lambda| of zero count as zero "
        "(default: a multiple of n*machine epsilon)",
    )
    p.add_argument("--atol", type=float, default=0.0, help="absolute zero tolerance")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def parse_matrix(text: str) -> np.ndarray:
    """A square matrix from a .npy path, a nested list or rows separated by ';'."""

    if text.endswith(".npy"):
        try:
            h = np.load(text, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CLIError(f"cannot read {text}: {exc}") from None
    else:
        try:
            if text.lstrip().startswith("["):
                h = np.array(json.loads(text), dtype=float)
            else:
                rows = [r.replace(",", " ").split() for r in text.split(";") if r.strip()]
                h = np.array([[float(x) for x in r] for r in rows], dtype=float)
        except (ValueError, json.JSONDecodeError) as exc:
            raise CLIError(f"cannot parse the Hessian {text!r}: {exc}") from None
    if h.ndim == 0 or (h.ndim == 1 and h.size == 1):
        h = h.reshape(1, 1)
    if h.ndim != 2 or h.shape[0] != h.shape[1]:
        raise CLIError(f"expected a square matrix, got shape {h.shape}")
    return h


def run(args: argparse.Namespace) -> int:
    from ..hessian import classify

    h = parse_matrix(args.hessian)
    result = classify(h, rtol=args.rtol, atol=args.atol)
    direction = result.escape_direction
    out = {
        "kind": result.kind,
        "eigenvalues": np.asarray(result.eigenvalues).tolist(),
        "n_positive": int(result.n_positive),
        "n_negative": int(result.n_negative),
        "n_zero": int(result.n_zero),
        "minimum_ratio": float(result.minimum_ratio),
        "escape_direction": None if direction is None else np.asarray(direction).tolist(),
    }
    if args.json:
        print(json.dumps(out))
        return 0
    fmt = lambda xs: "[" + ", ".join(f"{x:.6g}" for x in xs) + "]"  # noqa: E731
    print(f"kind:             {out['kind']}")
    print(f"eigenvalues:      {fmt(out['eigenvalues'])}")
    print(
        f"signs:            {out['n_positive']} positive, {out['n_negative']} negative, "
        f"{out['n_zero']} zero"
    )
    print(f"minimum ratio:    {out['minimum_ratio']:.3f}")
    esc = "none (no negative eigenvalue)" if direction is None else fmt(out["escape_direction"])
    print(f"escape direction: {esc}")
    return 0
