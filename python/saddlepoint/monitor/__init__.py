"""Watch any training loop and say, in words, why progress stopped and what fits.

:class:`Monitor` measures what the lecture on why optimization fails says to look at (the
gradient, the update and how it turns, the step-size quality, the curvature and the edge of
stability, the gradient noise) and turns it into :class:`Event` verdicts, one of
:data:`EVENT_KINDS`, by the rules documented in :class:`Thresholds`.
"""

from ..hessian import hvp_from_gradient
from ._curvature import CurvatureCheck, check_curvature
from ._events import EVENT_KINDS, Event
from ._monitor import COLUMNS, Monitor
from ._thresholds import Thresholds

__all__ = [
    "COLUMNS",
    "EVENT_KINDS",
    "CurvatureCheck",
    "Event",
    "Monitor",
    "Thresholds",
    "check_curvature",
    "hvp_from_gradient",
]
