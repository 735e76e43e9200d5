"""What every subcommand shares: the user-error exception."""

from __future__ import annotations


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""
