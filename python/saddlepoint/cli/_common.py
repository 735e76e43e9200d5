"""What every subcommand shares: the user-error exception and the parser of a subcommand."""

from __future__ import annotations

import argparse
from typing import Any


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def add_subcommand(
    sub: Any, name: str, *, help: str, description: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``; an ``epilog`` (examples, formats) is kept as written."""
    if epilog is None:
        return sub.add_parser(name, help=help, description=description)
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
