"""The instruments taken inside the optimizer's own step (``Monitor.observe(loss)``).

SGD and Adam/AdamW engines can compute the step sums in the same pass over memory as the
update (cpp/saddlepoint/monitor/instrumented.hpp), so a watched step reads each array once.
A monitor switches that on when it is given such an optimizer; the first call to
``observe`` decides: without a gradient the monitor reads the step's own sums from then on;
with one it measures from the gradients it is given and switches the engine's instruments
off again, so that nobody pays for them twice.
"""

from __future__ import annotations

from typing import Any

INSTRUMENTED = ("SGD", "Adam", "AdamW")


def enable(optimizer: Any) -> bool:
    """Switch the step's own instruments on, where the optimizer has them (one run only)."""
    engine = getattr(optimizer, "_engine", None)
    if type(optimizer).__name__ not in INSTRUMENTED or engine is None:
        return False
    try:
        engine._set_instrumented(True)
    except ValueError:  # per-row hyper-parameters: the monitor refuses them where it reads them
        return False
    return True


def disable(optimizer: Any) -> None:
    engine = getattr(optimizer, "_engine", None)
    if engine is not None and engine._instrumented:
        engine._set_instrumented(False)


def check_step(optimizer: Any, last_observed: int) -> None:
    """A ValueError unless exactly one instrumented step was taken since the last observation
    (the monitor's log checks the same again when it records the row)."""
    engine = optimizer._engine
    done = int(engine._sums_step)
    if done < 0 or done != int(optimizer.steps):
        raise ValueError(
            "grad: the optimizer took no instrumented step since the last observe; call "
            "observe(loss) once per step, right after opt.step(grad)"
        )
    if done == last_observed:
        raise ValueError(
            f"observe: step {done} was already observed; call observe once per step, right "
            "after opt.step(grad)"
        )
