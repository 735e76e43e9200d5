"""saddlepoint.Monitor: watches any training loop and says why progress stopped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _core
from . import _instep, _points, _verdicts
from ._curvature import CurvatureCheck, check_curvature, preconditioned_lambda_max
from ._events import Event
from ._inputs import as_arrays, int_arg, scalar_loss
from ._noise import gradient_noise, loss_spread
from ._stability import ADAPTIVE, StepRule, current_lr, preconditioner, rule_of
from ._thresholds import Thresholds

#: The history's columns, in order (one row per observed step; NaN where not measured).
COLUMNS = (
    "step", "loss", "lr", "grad_norm", "update_norm", "param_norm", "distance",
    "cos_update", "cos_grad_update", "effective_lr", "alpha", "improvement", "nonfinite",
    "lambda_min", "lambda_max", "residual_min", "residual_max", "curvature_products",
    "stability_ratio", "noise_scale", "gsnr", "loss_noise",
)  # fmt: skip

_SUMS = {name: i for i, name in enumerate(_core.step_sum_names)}
_C = {name: i for i, name in enumerate(COLUMNS)}
# the history table's rows beyond COLUMNS (cpp/saddlepoint/monitor/history.hpp, Column)
_EMA, _GDU, _NOISE_TRACE, _NOISE_SIGNAL = range(len(COLUMNS), len(COLUMNS) + 4)
_LOSS, _GRAD_NORM, _COS_UPDATE = _C["loss"], _C["grad_norm"], _C["cos_update"]
_NAN = math.nan
_STALL_KINDS = ("saddle", "minimum", "maximum", "degenerate", "vanishing_gradient")


class Monitor:
    """Watches a training loop and explains, in words, why progress stopped and what fits.

    Call :meth:`observe` once per step, after the optimizer's step, with the loss and the
    gradient that step used. Every step the monitor measures, in one fused C++ pass over the
    gradient and the parameters, the gradient and update norms, the cosine between successive
    updates (about -1 when the step bounces across a valley), the step-size quality ``alpha``,
    the distance from the start and non-finite entries; every ``curvature_every`` steps (and
    whenever the loss stalls) it measures the lowest and highest Hessian eigenvalues from
    ``hvp`` by warm-started Lanczos and the edge-of-stability ratio; with ``batch_grads`` the
    gradient noise scale. Its rules (:class:`Thresholds`, :data:`EVENT_KINDS`) turn these into
    :attr:`events`, each naming the fix.

    Parameters
    ----------
    optimizer : saddlepoint.optim optimizer, optional
        The monitor reads its kind, learning rate (schedule included), momentum or betas and,
        for adaptive methods, the preconditioner; and its parameters. Create the monitor
        before the first step, so that it sees the starting point.
    hvp : callable, optional
        ``v -> H v`` at the current parameters, ``v`` flat with as many entries as the
        gradient (all arrays of a list, concatenated): a model's ``hvp``, a surface's
        Hessian, or :func:`saddlepoint.monitor.hvp_from_gradient`. Without it the curvature
        instruments are off, and the verdicts that need them say so.
    curvature_every : int
        Steps between curvature checks (0: only when the loss stalls).
    window : int
        Steps over which trends are judged (loss improvement, mean cosine, noise).
    params : array or list of arrays, optional
        For a loop without a saddlepoint optimizer: the parameters the loop updates in place
        (the monitor then measures the true update). Without them the update is reconstructed
        from ``lr`` and ``momentum`` given to :meth:`observe` as heavy-ball SGD's.
    thresholds : Thresholds, optional
        When each verdict fires.

    Examples
    --------
    >>> import numpy as np, saddlepoint as sp
    >>> bowl = sp.surfaces.get("ill_conditioned", condition=1000)
    >>> x = np.array([1.0, 1.0])
    >>> opt = sp.optim.SGD(x, lr=1.999 / 1000)
    >>> mon = sp.Monitor(optimizer=opt, hvp=lambda v: bowl.hessian(x) @ v)
    >>> for _ in range(300):
    ...     loss, grad = bowl.value(x), bowl.grad(x)
    ...     opt.step(grad)
    ...     _ = mon.observe(loss, grad)
    >>> [e.kind for e in mon.events]
    ['oscillation']
    >>> round(float(mon.history["stability_ratio"].dropna().iloc[-1]), 4)
    0.9995
    """

    def __init__(
        self,
        optimizer: Any = None,
        hvp: Callable[[np.ndarray], Any] | None = None,
        curvature_every: int = 50,
        window: int = 50,
        *,
        params: Any = None,
        thresholds: Thresholds | None = None,
        curvature_tol: float = 1e-3,
    ) -> None:
        if optimizer is not None and not (
            hasattr(optimizer, "hyperparameters") and hasattr(optimizer, "_buffers")
        ):
            raise TypeError(
                "optimizer: expected a saddlepoint.optim optimizer (SGD, Adagrad, RMSprop, Adam, "
                f"AdamW), got {type(optimizer).__name__}; for another loop pass params= and "
                "give lr= to observe()"
            )
        if hvp is not None and not callable(hvp):
            raise TypeError(f"hvp: expected a callable v -> H v, got {type(hvp).__name__}")
        if thresholds is not None and not isinstance(thresholds, Thresholds):
            raise TypeError(f"thresholds: expected a Thresholds, got {type(thresholds).__name__}")
        if optimizer is not None and params is not None:
            raise ValueError("params: the optimizer's parameters are used; pass one or the other")
        self.optimizer = optimizer
        self.hvp = hvp
        self.curvature_every = int_arg("curvature_every", curvature_every, 0)
        self.window = int_arg("window", window, 2)
        self.thresholds = thresholds or Thresholds()
        if not (isinstance(curvature_tol, (int, float)) and 0 < curvature_tol < 1):
            raise ValueError(f"curvature_tol: expected a number in (0, 1), got {curvature_tol!r}")
        self.curvature_tol = float(curvature_tol)
        self._params = (
            list(optimizer.params) if optimizer is not None
            else None if params is None else as_arrays(params, "params")
        )  # fmt: skip
        # The history: a C++ table with one contiguous float64 column per instrument (and the
        # smoothed loss, g . dtheta and the noise sums the rules read), filled one row per
        # step from the step's sums in C++ (history.hpp); the rules read its columns as NumPy
        # views every few steps. With a watched SGD/Adam step no Python object is made per
        # step at all.
        self._log = _core.MonitorLog(
            self.window,
            2.0 / (max(self.window // 5, 1) + 1.0),  # an EMA over window / 5 steps
            self.thresholds.loss_atol,
            self._params is not None,
        )
        self._last_ratio = _NAN
        self._events: list[Event] = []
        # verdicts in force: kind -> the last step their condition held (they clear only after
        # a whole window without it, so a condition that flickers is one event, not many)
        self._active: dict[str, int] = {}
        self._noise_given = False  # some step had batch gradients (else the windows skip them)
        self._signature: list[tuple[tuple[int, ...], np.dtype]] | None = None
        self._buffers: dict[str, np.ndarray] = {}
        self._curvature: CurvatureCheck | None = None
        self._curvature_step = -1
        self._pre_vector: np.ndarray | None = None
        self._batch_size = 0
        self._diverged = False
        self._rule_now: StepRule | None = None
        self._point_stall = False  # check_point reported the stall in force
        self._first_point_loss = _NAN  # the loss check_point saw before any step
        if self._params is not None:
            self._allocate(self._params, snapshot=True)
        # "in-step": the optimizer's step takes the instruments itself (observe without grad);
        # "given": they come from the gradients observe is given; None: not decided yet
        self._mode: str | None = None
        self._instrumented = optimizer is not None and _instep.enable(optimizer)
        if self._instrumented:
            self._log.watch(optimizer._engine)
        self._kind = type(optimizer).__name__ if optimizer is not None else "SGD"
        self._adaptive = self._kind in ADAPTIVE

    @property
    def window(self) -> int:
        """Steps over which trends are judged (settable; the history's improvement column
        uses the new span from the next row on)."""
        return self._window_steps

    @window.setter
    def window(self, value: int) -> None:
        self._window_steps = int_arg("window", value, 2)
        log = self.__dict__.get("_log")
        if log is not None:
            log.window = self._window_steps

    @property
    def _cols(self) -> dict[str, np.ndarray]:
        """The history's columns: live views of the rows recorded (write to fill a cell)."""
        table, n = self._log.table, self._log.rows
        return {c: table[i, :n] for i, c in enumerate(COLUMNS)}

    def _col(self, index: int) -> np.ndarray:
        """One column of the table (an index into COLUMNS or _EMA...), a live view."""
        return self._log.table[index, : self._log.rows]

    # the table's row indices, for the helpers (_points, _state)
    _C, _EMA, _GDU, _NOISE_TRACE, _NOISE_SIGNAL = _C, _EMA, _GDU, _NOISE_TRACE, _NOISE_SIGNAL

    # the row state the C++ log carries from step to step
    _rows = property(lambda self: self._log.rows)

    def _log_state(name: str, doc: str) -> property:  # type: ignore[misc]
        return property(
            lambda self: getattr(self._log, name),
            lambda self, value: setattr(self._log, name, value),
            doc=doc,
        )

    _start = _log_state("start", "First row of the windows (the row after the last jump).")
    _fresh = _log_state("fresh", "The next row follows a jump.")
    _have_last = _log_state("have_last", "The next row's update is known (a real update).")
    _last_loss = _log_state("last_loss", "The last row's loss.")
    _lowest_loss = _log_state("lowest_loss", "The lowest loss recorded.")
    _max_grad_norm = _log_state("max_grad_norm", "The largest finite gradient norm.")
    _first_effective_lr = _log_state("first_effective_lr", "The first ||dtheta|| / ||g|| > 0.")
    _observed_step = _log_state("last_observed", "The optimizer step observed last.")
    del _log_state

    # ------------------------------------------------------------------------------------
    # buffers

    def _allocate(self, arrays: Sequence[np.ndarray], *, snapshot: bool) -> None:
        dtype = arrays[0].dtype
        total = sum(a.size for a in arrays)
        self._signature = [(a.shape, a.dtype) for a in arrays]
        flat = (
            np.concatenate([a.ravel() for a in arrays]).astype(dtype, copy=False)
            if snapshot else np.zeros(total, dtype)
        )  # fmt: skip
        self._buffers = {"direction": np.zeros(total, dtype)}
        if self._params is not None:
            self._buffers["last_param"] = flat.copy()
            self._buffers["initial"] = flat.copy()
            self._have_last = snapshot
        else:
            self._buffers["momentum_buffer"] = np.zeros(total, dtype)
            self._buffers["displacement"] = np.zeros(total, dtype)
            self._have_last = True

    @property
    def instrumented(self) -> bool:
        """Whether the optimizer takes the instruments in its own step, so that
        ``observe(loss)`` needs no gradient (SGD, Adam, AdamW; off again once a gradient
        was given)."""
        return self._instrumented

    @property
    def dim(self) -> int:
        """Number of parameters (0 before the first observation of a parameter-less loop)."""
        return 0 if self._signature is None else int(sum(np.prod(s) for s, _ in self._signature))

    def _check_grad(self, grad: Any) -> list[np.ndarray]:
        sig = self._signature
        if sig is not None and len(sig) == 1 and type(grad) is np.ndarray:
            if grad.shape == sig[0][0] and grad.dtype == sig[0][1]:
                return [grad]  # the common case, checked without building lists
        arrays = as_arrays(grad, "grad")
        if self._signature is None:
            self._allocate(arrays, snapshot=False)
        sig = self._signature
        assert sig is not None
        if len(arrays) != len(sig):
            raise ValueError(
                f"grad: expected {len(sig)} arrays like the first call, got {len(arrays)}"
            )
        for i, (a, (shape, dtype)) in enumerate(zip(arrays, sig)):
            label = f"grad[{i}]" if len(sig) > 1 else "grad"
            if a.dtype != dtype:
                raise TypeError(f"{label}: expected {dtype} like the first call, got {a.dtype}")
            if a.shape != shape:
                raise ValueError(
                    f"{label}: expected shape {shape} like the first call, got {a.shape}"
                )
        return arrays

    # ------------------------------------------------------------------------------------
    # the step

    def _rule(self, lr: Any, momentum: Any) -> StepRule:
        if self.optimizer is not None:
            return rule_of(self.optimizer)
        if lr is None:
            raise TypeError(
                "lr: required without an optimizer (the learning rate of this step), e.g. "
                "mon.observe(loss, grad, lr=0.1)"
            )
        mu = 0.0 if momentum is None else momentum
        for name, value in (("lr", lr), ("momentum", mu)):
            if isinstance(value, bool) or not isinstance(
                value, (int, float, np.floating, np.integer)
            ):
                raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
        if not (math.isfinite(lr) and lr >= 0):
            raise ValueError(f"lr: expected a finite number >= 0, got {lr!r}")
        if not 0 <= mu < 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {mu!r}")
        return StepRule("SGD", float(lr), momentum=float(mu))

    def observe(
        self,
        loss: Any,
        grad: Any = None,
        *,
        lr: Any = None,
        momentum: Any = None,
        batch_grads: Any = None,
        batch_losses: Any = None,
        batch_size: int | None = None,
    ) -> list[Event]:
        """Record one step: the loss and gradient the step just taken used.

        With a saddlepoint SGD, Adam or AdamW optimizer ``grad`` may be left out (from the
        first observation on): the step then took the instruments itself, in its own single
        pass over memory (about 1.15x the plain step at 1e7), and the monitor reads them.
        Its previous-update direction is exact for SGD; for Adam it is the previous momentum
        (the exact previous update would cost a square root and a division per element), so
        ``cos_update`` is the cosine with the previous momentum and ``alpha`` is fitted
        without the slope at the end of the step; the distance travelled is measured once a
        window. Given a gradient, the monitor takes the same instruments from it and the
        parameters in one fused pass of its own (exact for every optimizer).

        Returns the events this step raised (also appended to :attr:`events`).
        """
        if (
            grad is None
            and self._mode == "in-step"
            and type(loss) is float
            and lr is None
            and momentum is None
            and batch_grads is None
            and batch_losses is None
            and batch_size is None
        ):
            # the common case: the step took its sums, the C++ log made the row from them;
            # the rules look every window/5 steps, in the first steps, at a curvature check
            # and at an acute row (negative t), as _judge decides
            t = self._log.record_step(loss)
            if t > 0 and t % max(1, self.window // 5) and t > max(self.window, 20):
                every = self.curvature_every
                if self.hvp is None or not every or (t - 1) % every:
                    return []
            return self._judge(None, None, t < 0)
        value = loss if type(loss) is float else scalar_loss(loss)
        if grad is None:
            if not self._instrumented or self._mode == "given":
                raise TypeError(
                    "grad: expected the gradient the step used (an array or a list); it may be "
                    "left out only with a saddlepoint SGD, Adam or AdamW optimizer watched from "
                    "its first step without one"
                )
            assert self.optimizer is not None
            _instep.check_step(self.optimizer, self._observed_step)
            if self._mode is None:  # the step's own sums from now on: the copies are not needed
                self._mode = "in-step"
                for name in ("last_param", "direction"):
                    self._buffers.pop(name, None)
        else:
            grads = self._check_grad(grad)
            if self._mode is None:
                self._mode = "given"
                if self._instrumented:
                    _instep.disable(self.optimizer)
                    self._instrumented = False
                    self._log.watch(None)
        if self.optimizer is not None:
            if lr is not None or momentum is not None:
                raise ValueError(
                    "lr: read from the optimizer; pass lr=/momentum= only without one"
                )
            rule = None  # read from the optimizer only when a verdict or a check needs it
        else:
            rule = self._rule(lr, momentum)
        noise = None
        if batch_grads is not None:
            noise = gradient_noise(batch_grads, self.dim)
        spread = loss_spread(batch_losses) if batch_losses is not None else _NAN
        if batch_size is not None:
            self._batch_size = int_arg("batch_size", batch_size, 1)
        elif noise is not None:
            self._batch_size = noise.batch
        elif batch_losses is not None:
            self._batch_size = int(np.size(batch_losses))
        if noise is None:
            extras = (_NAN, _NAN, spread, _NAN, _NAN)
        else:
            self._noise_given = True
            extras = (noise.noise_scale, noise.gsnr, spread, noise.trace_sigma, noise.signal_sq)

        b = self._buffers
        sums = None  # the step's sums per parameter array (in-step: read from the engine)
        if grad is None:
            t = self._log.record_step(value, *extras)
        else:
            if self._params is not None:
                g_arg = grads if len(grads) > 1 else grads[0]
                p_arg = self._params if len(self._params) > 1 else self._params[0]
                sums = _core.observe_params(
                    g_arg, p_arg, b["last_param"], b["direction"], b["initial"]
                )
            else:
                assert rule is not None
                g_arg = grads if len(grads) > 1 else grads[0]
                sums = _core.observe_gradient(
                    g_arg,
                    b["momentum_buffer"] if rule.momentum else None,
                    b["direction"],
                    b["displacement"],
                    rule.lr,
                    rule.momentum,
                    not self._rows,
                )
            lr_now = current_lr(self.optimizer) if rule is None else rule.lr
            t = self._log.record_sums(value, lr_now, sums, *extras)
        return self._judge(rule, sums, t < 0)

    # ------------------------------------------------------------------------------------
    # curvature

    def check_curvature(self) -> CurvatureCheck:
        """Measure the extreme Hessian eigenpairs now (also done every ``curvature_every``
        steps and at stalls); fills this step's curvature columns."""
        if self.hvp is None:
            raise ValueError("hvp: no Hessian-vector product was given to the Monitor")
        if not self._rows and self._rule_now is None:
            raise ValueError("check_curvature: observe at least one step first")
        dtype = self._signature[0][1] if self._signature else np.float64
        check = check_curvature(
            self.hvp, self.dim, dtype=dtype, previous=self._curvature, tol=self.curvature_tol
        )
        products = check.n_products
        # the optimizer's rule as it is now (the one the look calling this read, too); a loop
        # without one: the lr/momentum its last observe was given
        rule = self._rule(None, None) if self.optimizer is not None else self._rule_now
        assert rule is not None
        lam = check.lambda_max
        if self.optimizer is not None and rule.adaptive:
            scale = preconditioner(self.optimizer)
            assert scale is not None  # adaptive optimizers have one
            lam, self._pre_vector, extra = preconditioned_lambda_max(
                self.hvp, scale, previous=self._pre_vector, tol=self.curvature_tol
            )
            products += extra
        self._last_ratio = rule.ratio(lam)
        n = self._rows
        if n:  # check_point may measure before the first step: no row to fill then
            row = self._log.table[:, n - 1]
            row[_C["lambda_min"]], row[_C["lambda_max"]] = check.lambda_min, check.lambda_max
            row[_C["residual_min"]] = check.residual_min
            row[_C["residual_max"]] = check.residual_max
            row[_C["curvature_products"]] = float(products)
            row[_C["stability_ratio"]] = self._last_ratio
        self._curvature, self._curvature_step = check, n
        return check

    # ------------------------------------------------------------------------------------
    # verdicts

    def _window(self, rule: StepRule) -> _verdicts.Window:
        n, w = self._rows, _points.span(self)
        table, lo = self._log.table, max(n - w, 0)
        # one C++ pass over the window's columns: the loss trend by least squares, the mean
        # cosine, the promised drop, the median effective step and the noise sums
        improvement, upper, cosine, drop, median_eff, trace, signal, noisy = (
            self._log.window_stats(lo, n)
        )
        noise_scale = _NAN
        if noisy:
            # the window's noise scale as McCandlish et al. form it: numerator and denominator
            # averaged separately (a per-step ratio from a few examples is mostly inf or noise)
            noise_scale = trace / signal if signal > 0 else math.inf
        if not n:
            param_scale = _NAN
        else:
            scale_column = _C["param_norm" if self._params is not None else "distance"]
            param_scale = float(table[scale_column, n - 1])
        return _verdicts.Window(
            step=n,
            loss=table[_LOSS, lo:n],
            grad_norm=table[_GRAD_NORM, lo:n],
            cos_update=table[_COS_UPDATE, lo:n],
            grad_dot_update=table[_GDU, lo:n],
            improvement=improvement,
            improvement_upper=upper,
            first_loss=float(table[_LOSS, 0]) if n else self._first_point_loss,
            max_grad_norm=self._log.max_grad_norm,
            rule=rule,
            curvature=self._curvature,
            stability_ratio=self._last_ratio,
            noise_scale=noise_scale,
            noise_trace=trace,
            batch_size=self._batch_size,
            effective_lr=median_eff,
            first_effective_lr=self._log.first_effective_lr,
            has_hvp=self.hvp is not None,
            param_scale=param_scale,
            t=self.thresholds,
            mean_cosine=cosine,
            promised_drop=drop,
        )

    def _fire(self, kind: str, verdict: _verdicts.Verdict | None, new: list[Event]) -> None:
        t = self._rows
        if verdict is None:
            if kind in self._active and t - self._active[kind] >= self.window:
                del self._active[kind]
            return
        if kind in self._active:
            self._active[kind] = t
            return
        self._active[kind] = t
        self._emit(kind, verdict, new)

    def _emit(self, kind: str, verdict: _verdicts.Verdict, new: list[Event]) -> None:
        message, details = verdict
        details = _points.complete(self, kind, details)
        event = Event(kind, self._rows, message, details)
        self._events.append(event)
        new.append(event)

    def _early_alarm(self) -> bool:
        """Between checks in the first steps, whether the full rules must look now: a loss
        blown up (diverged), or, with an adaptive optimizer, three losses whose median rose
        ``spike_factor`` times above the lowest loss so far (which is never above the one
        unstable_start compares with, so nothing it would report is missed). Plain floats:
        this runs on every early step."""
        losses, th = self._col(_LOSS).tolist(), self.thresholds
        last = losses[-1]
        if abs(last) > th.blowup * max(abs(losses[0]), th.loss_atol):
            return True
        if not self._adaptive or len(losses) < 3:
            return False
        low = self._log.lowest_loss
        if not low > 0:  # a loss at or below zero: let the rules judge
            return True
        middle = sorted(losses[-3:])[1]
        return middle > th.spike_factor * max(low, th.loss_atol)

    def _quiet(self, t: int) -> bool:
        """Whether no verdict can fire at this look, from the window's numbers alone: the
        updates do not bounce (mean cosine at or above ``oscillation_cosine``: no
        oscillation), the loss is not flat (no plateau, no critical point) and not blown up
        (not diverged). The caller has ruled out the rest: no verdict in force (none to keep
        or clear), no batch gradients (no noise floor), not Adagrad, past the first steps
        (no unstable start), a whole window since the last jump, no curvature check due."""
        th = self.thresholds
        _, upper, cosine, *_ = self._log.window_stats(max(t - _points.span(self), 0), t)
        if not cosine >= th.oscillation_cosine or (math.isfinite(upper) and upper < th.flat):
            return False
        first = float(self._log.table[_LOSS, 0])
        return abs(self._log.last_loss) <= th.blowup * max(abs(first), th.loss_atol)

    def _judge(self, rule: StepRule | None, sums: np.ndarray | None, acute: bool) -> list[Event]:
        """The rules on the row just recorded (``acute``: not finite, look now); ``sums``: its
        sums per parameter array (None: the engine's own, read if needed)."""
        new: list[Event] = []
        if self._diverged:
            return new
        t = self._rows
        due = self.hvp is not None and self.curvature_every and (t - 1) % self.curvature_every == 0
        # the rules look every W/5 steps (a verdict clears only after a whole window without
        # it: five looks, so one noisy window does not end it), and at once at a non-finite
        # or exploding step
        check_every = max(1, self.window // 5)
        start_steps = max(self.window, 20)
        if not (due or acute or t % check_every == 0):
            if t > start_steps or not self._early_alarm():
                return new
        if (
            rule is None
            and not (due or acute or self._active or self._noise_given)
            and t > start_steps
            and t - self._start >= self.window
            and self._kind != "Adagrad"
            and self._quiet(t)
        ):
            # no verdict in force and none can start (see _quiet): the look ends here, as the
            # rules below would end it, without reading the optimizer or building the window
            if t % self.window == 0:
                self._measure_distance()
            self._rule_now = None  # read when a curvature check needs it
            return new
        rule = self._rule(None, None) if rule is None else rule
        self._rule_now = rule
        if t % self.window == 0:
            self._measure_distance()  # in-step mode only: the step's pass reads no start
        if due and not acute:  # no curvature at a non-finite point: it diverged
            self.check_curvature()
        w = self._window(rule)
        first_bad = None  # the first parameter array with a non-finite entry
        nonfinite = int(self._log.table[_C["nonfinite"], t - 1])
        if nonfinite:
            if sums is None:  # the instrumented step's own, per parameter array
                assert self.optimizer is not None
                sums = self.optimizer._engine._step_sums()
            bad = sums[:, _SUMS["nonfinite_param"]] + sums[:, _SUMS["nonfinite_grad"]]
            first_bad = int(np.flatnonzero(bad)[0]) if bad.any() else None
        verdict = _verdicts.diverged(w, first_bad, nonfinite)
        self._fire(
            "unstable_start", _verdicts.unstable_start(w, start_steps, verdict is not None), new
        )
        if verdict is not None:
            self._fire("diverged", verdict, new)
            self._diverged = True
            return new
        if t - self._start < self.window or t % check_every:
            return new
        self._fire("oscillation", _verdicts.oscillation(w), new)
        specific = False  # a plateau explained by noise or by Adagrad is reported as that
        for name, test in (
            ("noise_floor", _verdicts.noise_floor),
            ("adagrad_stall", _verdicts.adagrad_stall),
        ):
            verdict = test(w)
            specific = specific or verdict is not None
            self._fire(name, verdict, new)
        self._fire("plateau", None if specific else _verdicts.plateau(w), new)
        kind = _verdicts.stall_kind(w)
        if kind is not None and self.hvp is not None and self._curvature_step != t:
            self.check_curvature()  # judge a stall by the curvature where it is, not 50 steps ago
            w = self._window(rule)
            kind = _verdicts.stall_kind(w)
        # the critical-point verdicts are one group: one event per stall, whatever its kind
        if kind is None:
            self._fire("stall", None, new)
        elif "stall" in self._active:
            self._active["stall"] = t
        else:
            self._active["stall"] = t
            x = (
                np.concatenate([p.ravel() for p in self._params]).astype(np.float64)
                if self._params
                else None
            )
            self._emit(kind, _verdicts.stall(w, kind, 0.1 * max(w.param_scale, 1.0), x), new)
        return new

    # ------------------------------------------------------------------------------------
    # a point between steps

    def check_point(
        self, loss: Any, grad: Any, *, lr: Any = None, momentum: Any = None
    ) -> list[Event]:
        """Judge the current parameters *before* the next step, from the loss and gradient
        there (the ones that step would use), without recording a step.

        Two verdicts cannot wait for a window: ``diverged`` (the loss, the gradient or the
        parameters not finite, or the loss above ``thresholds.blowup`` times the first one),
        after which a loop should not step; and, when the gradient norm is below the absolute
        tolerance ``thresholds.grad_atol``, the critical-point verdict here and now
        (``saddle``, ``minimum``, ``maximum``, ``degenerate`` or ``vanishing_gradient``, from
        a curvature check at this point), however the loss moved before: a run started
        exactly at a saddle is told so at step 0. A stall is reported once, until the gradient
        norm is at or above ``grad_atol`` again. Returns the events raised (their ``step``:
        the steps observed so far).
        """
        value = loss if type(loss) is float else scalar_loss(loss)
        if grad is None:
            raise TypeError("grad: expected the gradient at the current parameters")
        grads = self._check_grad(grad)
        if self.optimizer is not None and (lr is not None or momentum is not None):
            raise ValueError("lr: read from the optimizer; pass lr=/momentum= only without one")
        return _points.check_point(self, value, grads, self._rule(lr, momentum))

    def jumped(self) -> None:
        """Tell the monitor the parameters jumped outside the optimizer (an escape from a
        saddle, a restart from a checkpoint): it takes the current parameters as the last
        point, so the jump is not counted as an update, and restarts its windows (loss trend,
        update cosines, step quality; the verdicts in force), so that the steps after the
        jump are judged on their own. The history keeps every row."""
        _points.jumped(self)

    def annotate(self, event: Event, note: str = "", **details: Any) -> Event:
        """Append ``note`` to ``event``'s message and ``details`` to its numbers (what the loop
        did about it, e.g. an escape); returns the new event, which replaces it in
        :attr:`events`."""
        return _points.annotate(self, event, note, details)

    @property
    def active(self) -> frozenset[str]:
        """The verdicts in force at the last check (the critical-point ones as ``"stall"``)."""
        return frozenset(self._active)

    # ------------------------------------------------------------------------------------
    # results

    @property
    def events(self) -> list[Event]:
        """Every verdict so far, in order."""
        return list(self._events)

    @property
    def history(self) -> Any:
        """A pandas DataFrame, one row per observed step, one column per instrument."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is in the test extra
            raise ImportError(
                "Monitor.history needs pandas: pip install 'saddlepoint[sweep]'"
            ) from exc
        frame = pd.DataFrame(self.columns())
        frame["step"] = frame["step"].astype(np.int64)
        return frame

    def columns(self) -> dict[str, np.ndarray]:
        """The history as NumPy arrays (no pandas needed)."""
        self._measure_distance()
        return {k: v.copy() for k, v in self._cols.items()}  # copies: the table lives on

    def _measure_distance(self) -> None:
        """Where the step took the instruments (it reads no starting point), the distance
        travelled is measured once a window and for the last row whenever the history is
        read: the parameters are still the ones that row ends at."""
        n = self._rows
        if self._mode != "in-step" or self._params is None or not n:
            return
        row = self._log.table[:, n - 1]
        if row[_C["distance"]] == row[_C["distance"]]:
            return
        params = self._params
        now = (
            params[0].ravel() if len(params) == 1 else np.concatenate([p.ravel() for p in params])
        )
        row[_C["distance"]] = float(np.linalg.norm(now - self._buffers["initial"]))

    def explain(self) -> str:
        """The whole story of the run as text: what was measured, each verdict and its fix."""
        from ._story import explain

        return explain(self)

    def plot(self, **kwargs: Any) -> Any:
        """A figure of the run's instruments with its events marked (matplotlib)."""
        from ._report import plot

        return plot(self, **kwargs)

    def report(self, out: Any = "run-report", *, title: str | None = None) -> Any:
        """Write an HTML page for this run (figure, verdicts, instruments table) to ``out``."""
        from ._report import report

        return report(self, out, title=title)

    # ------------------------------------------------------------------------------------
    # state

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume watching: history, windows, buffers, verdicts."""
        from ._state import state_dict

        return state_dict(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict` (the optimizer and hvp stay this monitor's own)."""
        from ._state import load_state_dict

        load_state_dict(self, state)

    def save(self, path: Any) -> None:
        """Write :meth:`state_dict` to an ``.npz`` file (no pickle)."""
        from ._state import save

        save(self, path)

    @classmethod
    def load(cls, path: Any, optimizer: Any = None, hvp: Any = None, **kwargs: Any) -> Monitor:
        """A monitor resumed from :meth:`save`; give it the (resumed) optimizer and hvp."""
        from ._state import load

        return load(cls, path, optimizer=optimizer, hvp=hvp, **kwargs)

    def __repr__(self) -> str:
        kinds = ", ".join(e.kind for e in self._events) or "no events"
        return f"Monitor({self._rows} steps, {self.dim} parameters; {kinds})"
