"""saddlepoint.Monitor: watches any training loop and says why progress stopped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _core
from . import _instep, _points, _verdicts
from ._alpha import step_alpha, step_alpha_values
from ._curvature import CurvatureCheck, check_curvature, preconditioned_lambda_max
from ._events import Event
from ._inputs import as_arrays, int_arg, loss_trend, scalar_loss
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
_ALPHA = COLUMNS.index("alpha")
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
        # The history: one list per column, plus the rows recorded since the columns were last
        # read (_pending). A row is one list append per step; the rules read the columns only
        # every few steps, and moving rows into 22 column lists then costs less than 22 appends
        # on every step.
        self._columns: dict[str, list[float]] = {c: [] for c in COLUMNS}
        self._col_lists = [self._columns[c] for c in COLUMNS]
        self._pending: list[list[float]] = []
        self._rows = 0  # rows recorded, pending included
        self._last_loss = _NAN  # the last row's loss
        self._acute = False  # the last row is not finite: the rules must look now
        self._ema_weight = 2.0 / (max(self.window // 5, 1) + 1.0)
        self._last_ratio = _NAN
        self._events: list[Event] = []
        # verdicts in force: kind -> the last step their condition held (they clear only after
        # a whole window without it, so a condition that flickers is one event, not many)
        self._active: dict[str, int] = {}
        self._ema: list[float] = []
        self._noise: list[tuple[float, float] | None] = []  # (tr Sigma, |G|^2) per step
        self._noise_given = False  # some step had batch gradients (else the windows skip them)
        self._gdu: list[float] = []  # g . dtheta per step (the first-order promised drop)
        self._signature: list[tuple[tuple[int, ...], np.dtype]] | None = None
        self._buffers: dict[str, np.ndarray] = {}
        self._curvature: CurvatureCheck | None = None
        self._curvature_step = -1
        self._pre_vector: np.ndarray | None = None
        self._first_effective_lr = _NAN
        self._max_grad_norm = 0.0
        self._batch_size = 0
        self._diverged = False
        self._rule_now: StepRule | None = None
        self._start = 0  # first row of the windows (the row after the last jump)
        self._fresh = False  # the next row follows a jump
        self._point_stall = False  # check_point reported the stall in force
        self._first_point_loss = _NAN  # the loss check_point saw before any step
        if self._params is not None:
            self._allocate(self._params, snapshot=True)
        # "in-step": the optimizer's step takes the instruments itself (observe without grad);
        # "given": they come from the gradients observe is given; None: not decided yet
        self._mode: str | None = None
        self._instrumented = optimizer is not None and _instep.enable(optimizer)
        self._adaptive = optimizer is not None and type(optimizer).__name__ in ADAPTIVE
        self._lowest_loss = math.inf
        self._observed_step = -1

    @property
    def _cols(self) -> dict[str, list[float]]:
        """The history's columns, with every recorded row in them."""
        if self._pending:
            for column, values in zip(self._col_lists, zip(*self._pending)):
                column.extend(values)
            self._pending.clear()
        return self._columns

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
        value = loss if type(loss) is float else scalar_loss(loss)
        if grad is None:
            if not self._instrumented or self._mode == "given":
                raise TypeError(
                    "grad: expected the gradient the step used (an array or a list); it may be "
                    "left out only with a saddlepoint SGD, Adam or AdamW optimizer watched from "
                    "its first step without one"
                )
            assert self.optimizer is not None
            sums = _instep.step_sums(self.optimizer, self._observed_step)
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
        if self.optimizer is not None:
            if lr is not None or momentum is not None:
                raise ValueError(
                    "lr: read from the optimizer; pass lr=/momentum= only without one"
                )
            rule = None  # read from the optimizer only when a verdict or a check needs it
            lr_now = current_lr(self.optimizer)
        else:
            rule = self._rule(lr, momentum)
            lr_now = rule.lr
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

        b = self._buffers
        if grad is None:
            self._observed_step = int(self.optimizer.steps)
            self._have_last = True
        elif self._params is not None:
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
        if noise is not None:
            self._noise.append((noise.trace_sigma, noise.signal_sq))
            self._noise_given = True
        else:
            self._noise.append(None)
        self._record(value, lr_now, sums, noise, spread)
        return self._judge(rule, sums)

    def _record(self, loss: float, lr: float, sums: np.ndarray, noise: Any, spread: float) -> None:
        # plain floats from here on: this runs every step, NumPy scalars would cost more; the
        # row goes to _pending, and only this row's own numbers and the scalars are read here
        totals = sums[0] if sums.shape[0] == 1 else sums.sum(axis=0)
        gg, uu, gu, gp, up, pp, tt, dd, bad_g, bad_t = totals.tolist()
        if loss < self._lowest_loss:
            self._lowest_loss = loss
        first = not self._rows or self._fresh
        self._fresh = False
        gn = math.sqrt(gg)
        real_update = self._have_last
        self._have_last = True
        un = math.sqrt(uu) if real_update else _NAN
        denom = math.sqrt(uu) * math.sqrt(pp)
        cos_u = up / denom if denom > 0 and not first else _NAN
        if not real_update:
            gu = _NAN
        denom = gn * un
        cos_gu = gu / denom if denom > 0 else _NAN
        eff = un / gn if gn > 0 else _NAN
        previous = self._last_loss
        if not first and math.isfinite(previous):
            alpha = (
                step_alpha(previous, self._gdu[-1], loss, gp)
                if gp == gp  # NaN: the slope along the previous step is unknown (Adam in-step)
                else step_alpha_values(previous, self._gdu[-1], loss)
            )
            if self._pending:  # the previous row's step quality, known only now
                self._pending[-1][_ALPHA] = alpha
            else:
                self._columns["alpha"][-1] = alpha
        self._gdu.append(gu)
        if gn > self._max_grad_norm and math.isfinite(gn):
            self._max_grad_norm = gn
        if math.isnan(self._first_effective_lr) and eff > 0 and math.isfinite(eff):
            self._first_effective_lr = eff
        # smoothed loss: EMA over window/5 steps; the improvement over the window from it
        ema_list, w = self._ema, self.window
        if first or not math.isfinite(ema_list[-1]):
            ema = loss
        else:
            ema = ema_list[-1] + self._ema_weight * (loss - ema_list[-1])
        ema_list.append(ema)
        improvement = _NAN  # over the last window, or as much of it as there is
        span = min(w, len(ema_list) - 1 - self._start)
        if span > 0:
            old = ema_list[-1 - span]
            improvement = (old - ema) / (abs(old) + self.thresholds.loss_atol)
        param_norm = math.sqrt(tt) if self._params is not None else _NAN
        nonfinite = bad_g + bad_t
        self._rows += 1
        self._last_loss = loss
        # a non-finite loss, gradient or parameter, or parameters too large to measure
        self._acute = not math.isfinite(loss) or nonfinite > 0 or param_norm == math.inf
        self._pending.append([
            float(self._rows), loss, lr, gn, un, param_norm,
            _NAN if self._mode == "in-step" else math.sqrt(dd),  # in-step: at checks (_judge)
            cos_u, cos_gu, eff, _NAN, improvement, nonfinite,
            _NAN, _NAN, _NAN, _NAN, _NAN, _NAN,
            _NAN if noise is None else noise.noise_scale, _NAN if noise is None else noise.gsnr,
            spread,
        ])  # fmt: skip

    # ------------------------------------------------------------------------------------
    # curvature

    def check_curvature(self) -> CurvatureCheck:
        """Measure the extreme Hessian eigenpairs now (also done every ``curvature_every``
        steps and at stalls); fills this step's curvature columns."""
        if self.hvp is None:
            raise ValueError("hvp: no Hessian-vector product was given to the Monitor")
        if not self._cols["step"] and self._rule_now is None:
            raise ValueError("check_curvature: observe at least one step first")
        dtype = self._signature[0][1] if self._signature else np.float64
        check = check_curvature(
            self.hvp, self.dim, dtype=dtype, previous=self._curvature, tol=self.curvature_tol
        )
        products = check.n_products
        rule = self._rule_now
        assert rule is not None
        lam = check.lambda_max
        if self.optimizer is not None and rule.adaptive:
            scale = preconditioner(self.optimizer)
            assert scale is not None  # adaptive optimizers have one
            lam, self._pre_vector, extra = preconditioned_lambda_max(
                self.hvp, scale, previous=self._pre_vector, tol=self.curvature_tol
            )
            products += extra
        c = self._cols
        self._last_ratio = rule.ratio(lam)
        if c["step"]:  # check_point may measure before the first step: no row to fill then
            c["lambda_min"][-1], c["lambda_max"][-1] = check.lambda_min, check.lambda_max
            c["residual_min"][-1], c["residual_max"][-1] = check.residual_min, check.residual_max
            c["curvature_products"][-1] = float(products)
            c["stability_ratio"][-1] = self._last_ratio
        self._curvature, self._curvature_step = check, len(c["step"])
        return check

    # ------------------------------------------------------------------------------------
    # verdicts

    def _window(self, rule: StepRule) -> _verdicts.Window:
        c, w = self._cols, _points.span(self)
        # the window's noise scale as McCandlish et al. form it: numerator and denominator
        # averaged separately (a per-step ratio from a few examples is mostly inf or noise)
        # plain Python on these short lists: NumPy's per-call cost would dominate a check
        pairs = [n for n in self._noise[-w:] if n is not None] if self._noise_given else []
        trace = sum(p[0] for p in pairs) / len(pairs) if pairs else _NAN
        signal = sum(p[1] for p in pairs) / len(pairs) if pairs else _NAN
        noise_scale = _NAN if not pairs else (trace / signal if signal > 0 else math.inf)
        eff = sorted(filter(math.isfinite, c["effective_lr"][-w:]))
        median_eff = (eff[(len(eff) - 1) // 2] + eff[len(eff) // 2]) / 2 if eff else _NAN
        loss = np.asarray(c["loss"][-w:])
        improvement, upper = loss_trend(loss, self.thresholds.loss_atol)
        return _verdicts.Window(
            step=len(c["step"]),
            loss=loss,
            grad_norm=np.asarray(c["grad_norm"][-w:]),
            cos_update=np.asarray(c["cos_update"][-w:]),
            grad_dot_update=np.asarray(self._gdu[-w:]),
            improvement=improvement,
            improvement_upper=upper,
            first_loss=c["loss"][0] if c["loss"] else self._first_point_loss,
            max_grad_norm=self._max_grad_norm,
            rule=rule,
            curvature=self._curvature,
            stability_ratio=self._last_ratio,
            noise_scale=noise_scale,
            noise_trace=trace,
            batch_size=self._batch_size,
            effective_lr=median_eff,
            first_effective_lr=self._first_effective_lr,
            has_hvp=self.hvp is not None,
            param_scale=(c["param_norm"] if self._params is not None else c["distance"])[-1]
            if c["step"]
            else _NAN,
            t=self.thresholds,
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
        event = Event(kind, len(self._cols["step"]), message, details)
        self._events.append(event)
        new.append(event)

    def _early_alarm(self) -> bool:
        """Between checks in the first steps, whether the full rules must look now: a loss
        blown up (diverged), or, with an adaptive optimizer, three losses whose median rose
        ``spike_factor`` times above the lowest loss so far (which is never above the one
        unstable_start compares with, so nothing it would report is missed). Plain floats:
        this runs on every early step."""
        losses, th = self._cols["loss"], self.thresholds
        last = losses[-1]
        if abs(last) > th.blowup * max(abs(losses[0]), th.loss_atol):
            return True
        if not self._adaptive or len(losses) < 3:
            return False
        low = self._lowest_loss
        if not low > 0:  # a loss at or below zero: let the rules judge
            return True
        middle = sorted(losses[-3:])[1]
        return middle > th.spike_factor * max(low, th.loss_atol)

    def _judge(self, rule: StepRule | None, sums: np.ndarray) -> list[Event]:
        new: list[Event] = []
        if self._diverged:
            return new
        t = self._rows
        due = self.hvp is not None and self.curvature_every and (t - 1) % self.curvature_every == 0
        acute = self._acute
        # the rules look every W/5 steps (a verdict clears only after a whole window without
        # it: five looks, so one noisy window does not end it), and at once at a non-finite
        # or exploding step
        check_every = max(1, self.window // 5)
        start_steps = max(self.window, 20)
        if not (due or acute or t % check_every == 0):
            if t > start_steps or not self._early_alarm():
                return new
        c = self._cols
        rule = self._rule(None, None) if rule is None else rule
        self._rule_now = rule
        if t % self.window == 0:
            self._measure_distance()  # in-step mode only: the step's pass reads no start
        if due and not acute:  # no curvature at a non-finite point: it diverged
            self.check_curvature()
        w = self._window(rule)
        first_bad = None  # the first parameter array with a non-finite entry
        if c["nonfinite"][-1]:
            bad = sums[:, _SUMS["nonfinite_param"]] + sums[:, _SUMS["nonfinite_grad"]]
            first_bad = int(np.flatnonzero(bad)[0]) if bad.any() else None
        verdict = _verdicts.diverged(w, first_bad, int(c["nonfinite"][-1]))
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
        return {k: np.asarray(v, dtype=np.float64) for k, v in self._cols.items()}

    def _measure_distance(self) -> None:
        """Where the step took the instruments (it reads no starting point), the distance
        travelled is measured once a window and for the last row whenever the history is
        read: the parameters are still the ones that row ends at."""
        c = self._cols["distance"]
        if self._mode != "in-step" or self._params is None or not c or c[-1] == c[-1]:
            return
        params = self._params
        now = (
            params[0].ravel() if len(params) == 1 else np.concatenate([p.ravel() for p in params])
        )
        c[-1] = float(np.linalg.norm(now - self._buffers["initial"]))

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
        return f"Monitor({len(self._cols['step'])} steps, {self.dim} parameters; {kinds})"
