"""The parser of the ``saddlepoint`` command and ``main``: a subparser per subcommand module;
the modules import only the standard library (and NumPy) at import time, so ``--help`` stays
fast. Errors are one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _bench, _classify, _demo, _fixes, _sweep
from ._common import CLIError

# in the order --help lists them
_SUBCOMMANDS = (_demo, _bench, _sweep, _classify, _fixes)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="saddlepoint",
        description="Why gradient-based optimization fails, measured on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"saddlepoint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _SUBCOMMANDS:
        epilog = getattr(module, "EPILOG", None)
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.DESCRIPTION,
            epilog=epilog,
            # an epilog (examples, a file format) is kept as written
            formatter_class=argparse.RawDescriptionHelpFormatter
            if epilog
            else argparse.HelpFormatter,
        )
        module.add_arguments(p)
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
