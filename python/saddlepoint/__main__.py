"""``python -m saddlepoint`` runs the command-line interface."""

from saddlepoint.cli import main

raise SystemExit(main())
