"""Training that explains itself: :func:`minimize` on surfaces, :func:`train` on models.

Both loops are watched by a :class:`saddlepoint.Monitor`, the package's one diagnosis engine:
their results carry its :class:`~saddlepoint.monitor.Event` verdicts (``Event`` here is that
class), its history and the monitor itself; what stays here is control flow (stop at a
minimum, escape a saddle, stop on divergence).

:func:`minimize` runs any optimizer of :mod:`saddlepoint.optim` on an analytic surface and
watches the run. When it stops improving it says why, in the terms of the lecture on why
optimization fails:

- the gradient vanished (a *critical point*): the Hessian decides whether it is a local
  minimum (the run ends), a saddle point (reported with its eigenvalues and minimum ratio,
  and with ``escape_saddles=True`` left along the eigenvector of the most negative
  eigenvalue) or degenerate (the Hessian cannot decide);
- the loss stopped decreasing although the gradient is *not* small: the usual case in
  practice, an optimizer bouncing between the walls of a valley at the edge of stability
  (an *oscillation*) or creeping along its floor (a *plateau*), with the fix that fits;
- the run diverged: loss or parameters not finite, or the loss grown by a large factor.

:func:`train` is the mini-batch loop for the small models of :mod:`saddlepoint.models`, with
per-epoch history and timings, and the monitor's per-update history and verdicts.
"""

from ._minimize import minimize
from ._results import EVENT_KINDS, Event, MinimizeResult, TrainResult
from ._train import train

__all__ = ["EVENT_KINDS", "Event", "MinimizeResult", "TrainResult", "minimize", "train"]
