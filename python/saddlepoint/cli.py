"""The ``saddlepoint`` command line: ``saddlepoint {demo,bench,sweep,classify} ...``.

Each subcommand lives in its own module defining ``add_parser(subparsers)`` and
``run(args) -> int``; a module that is missing (an optional part not built yet) is simply
not offered. Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand name -> module implementing it
_SUBCOMMANDS = {
    "demo": "saddlepoint._cli_demo",
    "bench": "saddlepoint._cli_bench",
    "sweep": "saddlepoint._cli_sweep",
    "classify": "saddlepoint._cli_classify",
}


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="saddlepoint",
        description="Why gradient-based optimization fails, measured on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"saddlepoint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in _SUBCOMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        p = module.add_parser(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except CLIError as exc:
        print(f"saddlepoint {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"saddlepoint {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"saddlepoint {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
