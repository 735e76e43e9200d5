"""``saddlepoint demo``: the report reproducing the lecture's findings on this machine."""

from __future__ import annotations

import argparse

NAME = "demo"
HELP = "write the report: why optimization fails, measured on this machine"
DESCRIPTION = (
    "Run the experiments behind the lecture's findings (saddles vs minima, "
    "batch size, momentum, adaptive learning rates and warm-up, cross-entropy vs MSE, "
    "kernel speed) and write DIR/index.html with its figures and DIR/summary.json."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        default="saddlepoint-report",
        metavar="DIR",
        help="folder for index.html, figures/ and summary.json (default: saddlepoint-report)",
    )
    p.add_argument("--quick", action="store_true", help="small settings: under a minute")
    p.add_argument("--open", action="store_true", help="open the page in a browser when done")
    p.add_argument("--seed", type=int, default=0, help="seed of every experiment (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from ..report import build_report

    page = build_report(args.out, quick=args.quick, progress=not args.no_progress, seed=args.seed)
    print(f"wrote {page}")
    if args.open:
        import webbrowser

        webbrowser.open(page.resolve().as_uri())
    return 0
