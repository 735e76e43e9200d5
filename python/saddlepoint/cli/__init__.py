"""The ``saddlepoint`` command line: ``saddlepoint {demo,bench,sweep,classify,fixes} ...``.

One module per subcommand (``_demo``, ``_bench``, ``_sweep``, ``_classify``, ``_fixes``), each with
``NAME``, ``HELP``, ``DESCRIPTION`` (and ``EPILOG``), ``add_arguments(parser)`` and
``run(args) -> int``; ``_main`` builds the parser and turns errors into one line on stderr.
Entry points: the ``saddlepoint`` script (``saddlepoint.cli:main``) and
``python -m saddlepoint``.
"""

from ._common import CLIError
from ._main import build_parser, main

__all__ = ["CLIError", "build_parser", "main"]
