"""The demo report: the lecture's findings on why optimization fails, measured here.

``saddlepoint demo`` (or :func:`build_report`) runs one experiment per section, writes each
figure as a PNG beside ``index.html`` and every number the page shows to ``summary.json``.
Each section lives in its own module and returns a :class:`Section`.
"""

from .page import Figure, Section
from .runner import build_report

__all__ = ["Figure", "Section", "build_report"]
