"""Schedules against formulas written here, PyTorch's lr_scheduler and optax (when installed).

The reference formulas below are written independently of saddlepoint.schedules: most by
recursion (what a training loop would do step by step) rather than by the closed form the
module uses, so a shared mistake would have to be made twice in different ways.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from saddlepoint import schedules as S

EPS = np.finfo(np.float64).eps


def values(schedule, n):
    """The scalar path at steps 0..n-1 (Python floats) and the array path (one call)."""
    scalar = [schedule(k) for k in range(n)]
    assert all(type(v) is float for v in scalar)
    array = schedule(np.arange(n))
    assert array.dtype == np.float64 and array.shape == (n,)
    # The two code paths agree to the last bit or two.
    np.testing.assert_allclose(array, scalar, rtol=4 * EPS, atol=0)
    return np.array(scalar)


def check(schedule, reference, n, rtol=1e-13):
    ref = np.array([reference(k) for k in range(n)], dtype=np.float64)
    np.testing.assert_allclose(values(schedule, n), ref, rtol=rtol, atol=1e-300)


# ------------------------------------------------------------------------------------------
# formulas


def test_constant():
    check(S.constant(0.3), lambda k: 0.3, 20)


def test_step_decay_recursive():
    def ref(k):
        lr = 0.1
        for j in range(1, k + 1):
            if j % 7 == 0:
                lr *= 0.5
        return lr

    s = S.step_decay(0.1, step_size=7, gamma=0.5)
    check(s, ref, 40)
    assert s(6) == 0.1 and s(7) == 0.05 and s(13) == 0.05 and s(14) == 0.025


def test_step_decay_default_gamma_is_pytorchs():
    assert S.step_decay(1.0, 3)(3) == pytest.approx(0.1, rel=1e-15)


def test_multistep_recursive_with_repeated_milestone():
    milestones = [12, 5, 12, 30]  # unsorted and repeated, as PyTorch allows

    def ref(k):
        lr = 0.2
        for j in range(1, k + 1):
            lr *= 0.3 ** milestones.count(j)
        return lr

    s = S.multistep(0.2, milestones, gamma=0.3)
    check(s, ref, 40)
    assert s(4) == 0.2 and s(5) == pytest.approx(0.06, rel=1e-15)


def test_exponential_recursive():
    def ref(k):
        lr = 0.1
        for _ in range(k):
            lr *= 0.93
        return lr

    check(S.exponential(0.1, gamma=0.93), ref, 60, rtol=1e-13)


def test_linear():
    # PyTorch's LinearLR docstring: factor goes from start to end over total_iters steps.
    def ref(k):
        return 0.1 * (0.2 + (0.9 - 0.2) * min(k, 17) / 17)

    s = S.linear(0.1, start_factor=0.2, end_factor=0.9, total_iters=17)
    check(s, ref, 30)
    assert s(17) == pytest.approx(0.09, rel=1e-15) and s(29) == s(17)


def test_linear_defaults_are_pytorchs():
    s = S.linear(3.0)
    assert s(0) == pytest.approx(1.0, rel=1e-15)
    assert s(5) == pytest.approx(3.0, rel=1e-15)


def test_linear_may_start_at_zero():
    """A documented difference: PyTorch rejects start_factor=0."""
    s = S.linear(0.5, start_factor=0.0, end_factor=1.0, total_iters=4)
    np.testing.assert_allclose(values(s, 7), [0.0, 0.125, 0.25, 0.375, 0.5, 0.5, 0.5])
    assert s(0) == 0.0


def test_polynomial():
    s = S.polynomial(0.1, total_iters=23, power=2.0)
    check(s, lambda k: 0.1 * (1 - k / 23) ** 2 if k < 23 else 0.0, 30)
    assert s(23) == 0.0 and s(50) == 0.0


def test_cosine_and_it_stays_at_eta_min():
    lr, T, eta = 0.1, 25, 1e-3

    def ref(k):
        if k >= T:
            return eta
        return eta + (lr - eta) * (1 + math.cos(math.pi * k / T)) / 2

    s = S.cosine(lr, T_max=T, eta_min=eta)
    check(s, ref, 3 * T)
    assert s(0) == lr and s(T) == eta and s(T + 1) == eta and s(10 * T) == eta
    assert s(13) < (lr + eta) / 2 < s(12)  # the midpoint is crossed at T / 2 = 12.5


def test_cosine_restarts_by_simulating_the_counters():
    def ref_values(lr, T_0, T_mult, eta, n):
        out, t_cur, t_i = [], 0, T_0
        for _ in range(n):
            out.append(eta + (lr - eta) * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
            t_cur += 1
            if t_cur >= t_i:
                t_cur, t_i = t_cur - t_i, t_i * T_mult
        return out

    for T_0, T_mult in [(5, 1), (5, 2), (3, 3), (1, 2), (1, 1)]:
        s = S.cosine_restarts(0.1, T_0=T_0, T_mult=T_mult, eta_min=1e-3)
        ref = ref_values(0.1, T_0, T_mult, 1e-3, 200)
        check(s, lambda k, ref=ref: ref[k], 200)
    s = S.cosine_restarts(0.1, T_0=5, T_mult=2)
    # Restarts at 5, 15, 35: back to lr exactly.
    assert s(0) == s(5) == s(15) == s(35) == 0.1
    assert s(14) < s(4)


@given(
    T_0=st.integers(1, 20),
    T_mult=st.integers(1, 4),
    steps=st.lists(st.integers(0, 10**6), min_size=1, max_size=20),
)
@settings(max_examples=60, deadline=None)
def test_cosine_restarts_array_equals_scalar(T_0, T_mult, steps):
    s = S.cosine_restarts(1.0, T_0=T_0, T_mult=T_mult, eta_min=0.01)
    np.testing.assert_allclose(s(np.array(steps)), [s(k) for k in steps], rtol=4 * EPS)


def _one_cycle_ref(max_lr, total, pct, strategy, div, final_div, three_phase):
    """OneCycleLR as PyTorch's docs describe it: phases end at float steps."""
    initial, minimum = max_lr / div, max_lr / div / final_div
    if three_phase:
        phases = [
            (pct * total - 1, initial, max_lr),
            (2 * pct * total - 2, max_lr, initial),
            (total - 1, initial, minimum),
        ]
    else:
        phases = [(pct * total - 1, initial, max_lr), (total - 1, max_lr, minimum)]

    def anneal(a, b, p):
        if strategy == "cos":
            return b + (a - b) / 2 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a

    def ref(k):
        start = 0.0
        for i, (end, a, b) in enumerate(phases):
            if k <= end or i == len(phases) - 1:
                return anneal(a, b, min((k - start) / (end - start), 1.0))
            start = end
        raise AssertionError

    return ref


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize(("total", "pct"), [(50, 0.3), (37, 0.25), (100, 0.45)])
def test_one_cycle(strategy, three_phase, total, pct):
    s = S.one_cycle(0.1, total, pct_start=pct, anneal_strategy=strategy, three_phase=three_phase)
    ref = _one_cycle_ref(0.1, total, pct, strategy, 25.0, 1e4, three_phase)
    check(s, ref, total)
    assert s(0) == pytest.approx(0.1 / 25, rel=1e-15)
    assert s(total - 1) == pytest.approx(0.1 / 25 / 1e4, rel=1e-12)
    # Holds the final rate afterwards (PyTorch raises there instead).
    assert s(total) == s(total + 100) == s(total - 1)


def test_one_cycle_from_epochs_and_steps_per_epoch():
    a = S.one_cycle(0.1, epochs=5, steps_per_epoch=7)
    np.testing.assert_array_equal(a(np.arange(40)), S.one_cycle(0.1, 35)(np.arange(40)))
    assert "total_steps=35" in repr(a)
    with pytest.raises(ValueError, match=r"one_cycle requires total_steps, or both epochs"):
        S.one_cycle(0.1, epochs=5)


def test_one_cycle_peak_on_pytorchs_step():
    s = S.one_cycle(max_lr=0.1, total_steps=50)  # warm-up ends at 0.3 * 50 - 1 = 14
    assert s(14) == 0.1
    assert s(13) < 0.1 and s(15) < 0.1


def test_linear_warmup():
    s = S.linear_warmup(0.1, warmup_steps=10, init_value=0.01)
    check(s, lambda k: 0.01 + 0.09 * min(k, 10) / 10, 20)
    assert s(10) == 0.1
    assert S.linear_warmup(0.1, warmup_steps=0)(0) == 0.1


def test_warmup_cosine():
    peak, W, D, v0, end = 0.1, 5, 30, 0.01, 1e-3

    def ref(k):
        if k < W:
            return v0 + (peak - v0) * k / W
        c = (1 + math.cos(math.pi * min(k - W, D - W) / (D - W))) / 2
        return end + (peak - end) * c

    s = S.warmup_cosine(peak, warmup_steps=W, decay_steps=D, init_value=v0, end_value=end)
    check(s, ref, 40)
    assert s(W) == peak and s(D) == pytest.approx(end, rel=1e-14)


def test_warmup_cosine_exponent():
    s = S.warmup_cosine(1.0, warmup_steps=2, decay_steps=12, exponent=2.0, end_value=0.1)
    ref = [0.0, 0.5] + [
        0.9 * ((1 + math.cos(math.pi * min(k, 10) / 10)) / 2) ** 2 + 0.1 for k in range(18)
    ]
    check(s, lambda k: ref[k], 20)


def test_warmup_exponential():
    peak, W = 0.1, 4

    def ref(k, staircase=False, begin=0, end=None):
        if k < W:
            return peak * k / W
        c = k - W - begin
        if c <= 0:
            return peak
        p = c // 3 if staircase else c / 3
        v = peak * 0.5**p
        return max(v, end) if end is not None else v

    for staircase in (False, True):
        for begin in (0, 2):
            for end in (None, 0.01):
                s = S.warmup_exponential(
                    peak,
                    warmup_steps=W,
                    transition_steps=3,
                    decay_rate=0.5,
                    transition_begin=begin,
                    staircase=staircase,
                    end_value=end,
                )
                check(s, lambda k, a=staircase, b=begin, e=end: ref(k, a, b, e), 30)


def test_growing_schedules_overflow_to_inf_or_their_cap():
    for s in (S.exponential(0.1, gamma=2.0), S.step_decay(0.1, 1, gamma=10.0)):
        assert s(5000) == math.inf
        assert s(np.array([5000]))[0] == math.inf
    capped = S.warmup_exponential(
        0.1, warmup_steps=2, transition_steps=1, decay_rate=1.5, end_value=1.0
    )
    assert capped(10**5) == 1.0 and capped(np.array([10**5]))[0] == 1.0
    assert capped(3) == pytest.approx(0.15, rel=1e-15)


def test_noam_is_the_transformer_formula():
    d, W = 512, 4000

    def ref(k):
        n = k + 1  # the paper's step_num starts at 1
        return d**-0.5 * min(n**-0.5, n * W**-1.5)

    s = S.noam(d, W)
    check(s, ref, 3 * W + 7, rtol=1e-12)
    assert int(np.argmax(s(np.arange(3 * W)))) == W - 1
    assert S.noam(d, W, factor=2.0)(17) == pytest.approx(2 * ref(17), rel=1e-14)


def test_inverse_sqrt():
    s = S.inverse_sqrt(0.1, warmup_steps=10)
    check(s, lambda k: 0.1 * (k + 1) / 10 if k < 9 else 0.1 * math.sqrt(10 / (k + 1)), 50)
    assert s(9) == 0.1
    check(S.inverse_sqrt(0.1), lambda k: 0.1 / math.sqrt(k + 1), 50)


def test_piecewise_constant_scales_on_the_boundary():
    s = S.piecewise_constant(1.0, {10: 0.5, 4: 0.1})
    check(s, lambda k: 1.0 if k < 4 else 0.1 if k < 10 else 0.05, 20)
    check(S.piecewise_constant(0.3), lambda k: 0.3, 5)


def test_join_restarts_each_schedule_at_its_boundary():
    warm = S.linear_warmup(0.1, warmup_steps=5)
    decay = S.exponential(0.1, gamma=0.5)
    s = S.join([warm, decay, S.constant(0.001)], [5, 12])

    def ref(k):
        if k < 5:
            return 0.1 * k / 5
        if k < 12:
            return 0.1 * 0.5 ** (k - 5)
        return 0.001

    check(s, ref, 20)
    assert s(5) == 0.1  # the second schedule sees step 0 on the boundary


def test_join_of_plain_callables_and_nested_joins():
    inner = S.join([lambda k: 1.0 + k, S.constant(0.25)], [3])
    s = S.join([S.constant(5.0), inner], [2])
    check(s, lambda k: 5.0 if k < 2 else (1.0 + (k - 2) if k < 5 else 0.25), 10)


def test_join_with_equal_boundaries_skips_the_empty_schedule():
    s = S.join([S.constant(1.0), S.constant(2.0), S.constant(3.0)], [4, 4])
    check(s, lambda k: 1.0 if k < 4 else 3.0, 8)


def test_inject():
    s = S.inject(lambda k: 0.1 / (1 + k))
    check(s, lambda k: 0.1 / (1 + k), 10)
    v = S.inject(lambda t: 0.1 * 0.5 ** (t // 3), vectorized=True)
    check(v, lambda k: 0.1 * 0.5 ** (k // 3), 10)
    assert S.inject(lambda k: 2, vectorized=True)(np.arange(3)).tolist() == [2.0, 2.0, 2.0]


# ------------------------------------------------------------------------------------------
# calling conventions


def test_numpy_integer_scalars_and_shapes():
    s = S.cosine(0.1, T_max=10)
    assert s(np.int32(3)) == s(3) and type(s(np.int64(3))) is float
    grid = np.arange(12, dtype=np.int32).reshape(3, 4)
    out = s(grid)
    assert out.shape == (3, 4) and out.dtype == np.float64
    assert out[2, 1] == pytest.approx(s(9), rel=4 * EPS)
    assert s(np.array(4)).shape == ()
    assert s([0, 1, 2]).shape == (3,)
    assert s(np.zeros(0, dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize("bad", [-1, np.int64(-3), np.array([0, -2]), [-1]])
def test_negative_steps_raise(bad):
    with pytest.raises(ValueError, match=r"step: expected (an )?integers? >= 0"):
        S.constant(0.1)(bad)


@pytest.mark.parametrize("bad", [1.0, 2.5, True, np.array([0.0, 1.0]), "3", None])
def test_non_integer_steps_raise(bad):
    with pytest.raises(TypeError, match=r"step: expected an integer"):
        S.constant(0.1)(bad)


def test_input_array_is_left_unchanged():
    steps = np.array([[3, 1], [40, 7]], dtype=np.int32)
    before = steps.tobytes()
    S.cosine_restarts(0.1, T_0=3, T_mult=2)(steps)
    S.join([S.constant(1.0), S.cosine(1.0, T_max=5)], [2])(steps)
    assert steps.tobytes() == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: S.cosine(0.1, T_max=0), r"cosine requires T_max > 0, got T_max=0"),
        (lambda: S.cosine(-0.1, T_max=3), r"cosine requires lr >= 0, got lr=-0\.1"),
        (lambda: S.cosine(0.1, T_max=3, eta_min=-1), r"cosine requires eta_min >= 0"),
        (lambda: S.cosine(float("nan"), T_max=3), r"cosine requires a finite lr"),
        (lambda: S.step_decay(0.1, step_size=0), r"step_decay requires step_size > 0"),
        (lambda: S.multistep(0.1, [3, 0]), r"multistep requires every entry of milestones"),
        (lambda: S.exponential(0.1, gamma=0), r"exponential requires gamma > 0"),
        (lambda: S.linear(0.1, total_iters=0), r"linear requires total_iters > 0"),
        (lambda: S.linear(0.1, start_factor=-0.5), r"linear requires start_factor >= 0"),
        (lambda: S.polynomial(0.1, total_iters=-2), r"polynomial requires total_iters > 0"),
        (lambda: S.cosine_restarts(0.1, T_0=0), r"cosine_restarts requires T_0 > 0"),
        (lambda: S.cosine_restarts(0.1, T_0=2, T_mult=0), r"requires T_mult >= 1"),
        (lambda: S.one_cycle(0.1, 0), r"one_cycle requires total_steps > 0"),
        (lambda: S.one_cycle(0.1, 10, pct_start=1.0), r"one_cycle requires 0 < pct_start < 1"),
        (lambda: S.one_cycle(0.1, 3, pct_start=0.3), r"pct_start \* total_steps > 1"),
        (lambda: S.one_cycle(0.1, 50, anneal_strategy="cosine"), r"anneal_strategy"),
        (
            lambda: S.one_cycle(0.1, 10, pct_start=0.6, three_phase=True),
            r"every phase to last more than 0 steps",
        ),
        (
            lambda: S.warmup_cosine(0.1, warmup_steps=10, decay_steps=10),
            r"warmup_cosine requires decay_steps > warmup_steps",
        ),
        (
            lambda: S.warmup_exponential(0.1, warmup_steps=1, transition_steps=0, decay_rate=0.5),
            r"warmup_exponential requires transition_steps > 0",
        ),
        (lambda: S.noam(0, 10), r"noam requires d_model > 0, got d_model=0"),
        (lambda: S.inverse_sqrt(0.1, warmup_steps=0), r"inverse_sqrt requires warmup_steps > 0"),
        (lambda: S.piecewise_constant(0.1, {-1: 0.5}), r"piecewise_constant requires every"),
        (lambda: S.piecewise_constant(0.1, {3: -0.5}), r"boundaries_and_scales\[3\] >= 0"),
        (lambda: S.join([S.constant(1.0)], [3]), r"len\(boundaries\) == len\(schedules\) - 1"),
        (lambda: S.join([], []), r"join requires at least one schedule"),
        (
            lambda: S.join([S.constant(1.0)] * 3, [5, 2]),
            r"join requires non-decreasing boundaries",
        ),
    ],
)
def test_factories_validate_with_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: S.cosine(0.1, T_max=2.5), r"cosine requires T_max to be an int, got float"),
        (lambda: S.cosine("0.1", T_max=2), r"cosine requires lr to be a real number"),
        (lambda: S.step_decay(0.1, step_size=True), r"step_size to be an int, got bool"),
        (lambda: S.multistep(0.1, 5), r"milestones to be a sequence of ints"),
        (lambda: S.join([S.constant(1.0), 3.0], [1]), r"join requires callable schedules"),
        (lambda: S.inject(0.1), r"inject requires a callable fn"),
        (lambda: S.piecewise_constant(0.1, [(3, 0.5)]), r"requires boundaries_and_scales"),
    ],
)
def test_factories_reject_wrong_types(make, message):
    with pytest.raises(TypeError, match=message):
        make()


def test_repr_is_the_factory_call_and_round_trips():
    assert repr(S.step_decay(0.1, step_size=7, gamma=0.5)) == (
        "step_decay(lr=0.1, step_size=7, gamma=0.5)"
    )
    assert repr(S.cosine(0.1, T_max=25, eta_min=1e-3)) == "cosine(lr=0.1, T_max=25, eta_min=0.001)"
    assert repr(S.noam(512, 4000)) == "noam(d_model=512, warmup_steps=4000, factor=1.0)"
    examples = [
        S.cosine_restarts(0.1, T_0=10, T_mult=2),
        S.one_cycle(max_lr=0.1, total_steps=50, three_phase=True),
        S.warmup_cosine(0.1, warmup_steps=5, decay_steps=30, end_value=0.01),
        S.warmup_exponential(0.1, warmup_steps=3, transition_steps=4, decay_rate=0.9),
        S.join([S.linear_warmup(0.1, warmup_steps=4), S.polynomial(0.1, 10, 2.0)], [4]),
        S.piecewise_constant(0.1, {5: 0.5}),
        S.multistep(0.1, [3, 8]),
        S.inverse_sqrt(0.1, warmup_steps=4),
    ]
    namespace = {name: getattr(S, name) for name in S.__all__}
    for s in examples:
        rebuilt = eval(repr(s), namespace)
        np.testing.assert_array_equal(rebuilt(np.arange(60)), s(np.arange(60)))


def test_importing_schedules_does_not_import_matplotlib():
    code = (
        "import sys, saddlepoint.schedules, saddlepoint.surfaces; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------
# PyTorch


def _torch_lrs(make_scheduler, lr, n):
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])  # the rate of this optimizer step
        opt.step()
        scheduler.step()
    return np.array(out)


TORCH_CASES = [
    ("step_decay", lambda: S.step_decay(0.1, 7, 0.5), ("StepLR", (7, 0.5), {}), 60),
    ("multistep", lambda: S.multistep(0.1, [5, 12, 12, 30], 0.3),
     ("MultiStepLR", ([5, 12, 12, 30], 0.3), {}), 60),
    ("exponential", lambda: S.exponential(0.1, 0.93), ("ExponentialLR", (0.93,), {}), 60),
    ("linear", lambda: S.linear(0.1, 0.2, 0.9, 17), ("LinearLR", (0.2, 0.9, 17), {}), 40),
    ("linear_up", lambda: S.linear(0.1, 0.5, 1.0, 5), ("LinearLR", (0.5, 1.0, 5), {}), 20),
    ("polynomial", lambda: S.polynomial(0.1, 23, 2.0), ("PolynomialLR", (23, 2.0), {}), 23),
    ("cosine", lambda: S.cosine(0.1, 25, 1e-3), ("CosineAnnealingLR", (25, 1e-3), {}), 26),
    ("cosine_restarts", lambda: S.cosine_restarts(0.1, 5, 2, 1e-3),
     ("CosineAnnealingWarmRestarts", (5, 2, 1e-3), {}), 200),
    ("cosine_restarts_1", lambda: S.cosine_restarts(0.1, 7),
     ("CosineAnnealingWarmRestarts", (7,), {}), 60),
    ("one_cycle", lambda: S.one_cycle(0.1, 50),
     ("OneCycleLR", (0.1,), {"total_steps": 50}), 50),
    ("one_cycle_linear",
     lambda: S.one_cycle(0.1, 37, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
                         final_div_factor=100.0),
     ("OneCycleLR", (0.1,), {"total_steps": 37, "pct_start": 0.25, "anneal_strategy": "linear",
                             "div_factor": 10.0, "final_div_factor": 100.0}), 37),
    ("one_cycle_three_phase", lambda: S.one_cycle(0.1, 50, pct_start=0.25, three_phase=True),
     ("OneCycleLR", (0.1,), {"total_steps": 50, "pct_start": 0.25, "three_phase": True}), 50),
]  # fmt: skip


@pytest.mark.parametrize(("make", "torch_spec", "n"), [c[1:] for c in TORCH_CASES],
                         ids=[c[0] for c in TORCH_CASES])  # fmt: skip
def test_equals_pytorch_at_every_step(make, torch_spec, n):
    torch = pytest.importorskip("torch")
    cls_name, args, kwargs = torch_spec
    cls = getattr(torch.optim.lr_scheduler, cls_name)
    if cls_name == "OneCycleLR":
        kwargs = {**kwargs, "cycle_momentum": False}
    ref = _torch_lrs(lambda opt: cls(opt, *args, **kwargs), 0.1, n)
    np.testing.assert_allclose(values(make(), n), ref, rtol=1e-12, atol=1e-300)


def test_cosine_difference_from_pytorch_after_T_max():
    pytest.importorskip("torch")
    import torch

    lr, T, eta = 0.1, 10, 1e-3
    ref = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T, eta), lr, 2 * T + 1
    )
    ours = values(S.cosine(lr, T, eta), 2 * T + 1)
    np.testing.assert_allclose(ours[: T + 1], ref[: T + 1], rtol=1e-12)
    # PyTorch climbs back to lr at 2 T_max; ours stays at eta_min.
    assert ref[2 * T] == pytest.approx(lr, rel=1e-12)
    assert np.all(ours[T:] == eta)
    assert np.all(ref[T + 1 :] > eta)


def test_linear_start_at_zero_is_rejected_by_pytorch_only():
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.0)
    assert S.linear(0.1, start_factor=0.0)(0) == 0.0


def test_one_cycle_past_the_end_pytorch_raises_ours_holds():
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=0.1, total_steps=10, cycle_momentum=False
    )
    for _ in range(10):
        opt.step()
        sched.step()
    with pytest.raises(ValueError):
        opt.step()
        sched.step()
    s = S.one_cycle(0.1, 10)
    assert s(10) == s(1000) == s(9)


# ------------------------------------------------------------------------------------------
# optax (float32 by default: compared to a float32 tolerance)

OPTAX_RTOL = 3e-6


def _optax_values(schedule, n):
    pytest.importorskip("optax")
    # One call on the whole array: optax schedules are jnp functions of the step count.
    return np.asarray(schedule(np.arange(n)), dtype=np.float64)


def test_equals_optax_schedules():
    optax = pytest.importorskip("optax")
    cases = [
        (S.constant(0.3), optax.constant_schedule(0.3), 10),
        (S.linear_warmup(0.1, warmup_steps=7, init_value=0.01),
         optax.linear_schedule(0.01, 0.1, 7), 15),
        (S.cosine(0.1, 25, 1e-3), optax.cosine_decay_schedule(0.1, 25, alpha=1e-2), 40),
        (S.exponential(0.1, 0.93), optax.exponential_decay(0.1, 1, 0.93), 40),
        (S.polynomial(0.1, 23, 2.0), optax.polynomial_schedule(0.1, 0.0, 2.0, 23), 30),
        (S.warmup_cosine(0.1, warmup_steps=5, decay_steps=30, init_value=0.01, end_value=1e-3),
         optax.warmup_cosine_decay_schedule(0.01, 0.1, 5, 30, 1e-3), 40),
        (S.warmup_cosine(0.1, warmup_steps=0, decay_steps=30, exponent=1.5),
         optax.warmup_cosine_decay_schedule(0.0, 0.1, 0, 30, exponent=1.5), 40),
        (S.warmup_exponential(0.1, warmup_steps=4, transition_steps=3, decay_rate=0.5,
                              transition_begin=2, staircase=True, end_value=0.01),
         optax.warmup_exponential_decay_schedule(0.0, 0.1, 4, 3, 0.5, transition_begin=2,
                                                 staircase=True, end_value=0.01), 40),
        (S.warmup_exponential(0.1, warmup_steps=4, transition_steps=3, decay_rate=1.5,
                              end_value=0.5),
         optax.warmup_exponential_decay_schedule(0.0, 0.1, 4, 3, 1.5, end_value=0.5), 40),
        (S.piecewise_constant(1.0, {10: 0.5, 4: 0.1}),
         optax.piecewise_constant_schedule(1.0, {10: 0.5, 4: 0.1}), 20),
        (S.join([S.linear_warmup(0.1, warmup_steps=5), S.exponential(0.1, 0.8)], [5]),
         optax.join_schedules([optax.linear_schedule(0.0, 0.1, 5),
                               optax.exponential_decay(0.1, 1, 0.8)], [5]), 30),
    ]  # fmt: skip
    for ours, theirs, n in cases:
        ref = _optax_values(theirs, n)
        np.testing.assert_allclose(
            values(ours, n), ref, rtol=OPTAX_RTOL, atol=1e-9, err_msg=repr(ours)
        )


def test_optax_evaluates_arrays_like_us():
    optax = pytest.importorskip("optax")
    theirs = optax.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100)
    ours = S.warmup_cosine(1.0, warmup_steps=10, decay_steps=100)
    steps = np.arange(120).reshape(12, 10)
    np.testing.assert_allclose(ours(steps), np.asarray(theirs(steps)), rtol=OPTAX_RTOL, atol=1e-7)


def test_schedules_pickle_for_worker_processes():
    import pickle

    for s in [
        S.cosine(0.1, T_max=10),
        S.one_cycle(0.1, 20, three_phase=True),
        S.warmup_exponential(0.1, warmup_steps=3, transition_steps=2, decay_rate=0.9),
        S.join([S.constant(1.0), S.noam(64, 5)], [3]),
    ]:
        copy = pickle.loads(pickle.dumps(s))
        assert repr(copy) == repr(s)
        np.testing.assert_array_equal(copy(np.arange(30)), s(np.arange(30)))


# ------------------------------------------------------------------------------------------
# with the optimizers


def test_sgd_follows_a_schedule_step_by_step():
    from saddlepoint import optim, surfaces

    surface = surfaces.rosenbrock()
    schedule = S.one_cycle(2e-3, 60, three_phase=True)
    x = surface.start.copy()
    opt = optim.SGD(x, lr=schedule)
    ref = surface.start.copy()
    for k in range(60):
        g = surface.grad(x)
        opt.step(g)
        ref = ref - schedule(k) * surface.grad(ref)  # the lr of step k is schedule(k)
        np.testing.assert_allclose(x, ref, rtol=1e-13, atol=1e-15)


def test_sgd_momentum_with_schedule_equals_torch():
    torch = pytest.importorskip("torch")
    from saddlepoint import optim, surfaces

    surface = surfaces.himmelblau()
    x = np.array([0.5, -0.5])
    opt = optim.SGD(x, lr=S.cosine(0.01, T_max=30, eta_min=1e-4), momentum=0.9)
    p = torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([p], lr=0.01, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=30, eta_min=1e-4)
    for _ in range(30):
        opt.step(surface.grad(x))
        p.grad = torch.from_numpy(surface.grad(p.detach().numpy()))
        topt.step()
        sched.step()
    np.testing.assert_allclose(x, p.detach().numpy(), rtol=1e-12)


@given(
    total=st.integers(2, 500),
    pct=st.floats(0.01, 0.99),
    strategy=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
    steps=st.lists(st.integers(0, 600), min_size=1, max_size=30),
)
@settings(max_examples=80, deadline=None)
def test_one_cycle_array_equals_scalar_and_reference(total, pct, strategy, three_phase, steps):
    try:
        s = S.one_cycle(
            1.0, total, pct_start=pct, anneal_strategy=strategy, three_phase=three_phase
        )
    except ValueError:
        # Only the combinations PyTorch could not run either: a phase of no length.
        ends = [pct * total - 1, *([2 * pct * total - 2] if three_phase else []), total - 1]
        assert ends[0] <= 0 or any(b <= a for a, b in zip(ends, ends[1:]))
        return
    ref = _one_cycle_ref(1.0, total, pct, strategy, 25.0, 1e4, three_phase)
    scalar = [s(k) for k in steps]
    np.testing.assert_allclose(s(np.array(steps)), scalar, rtol=4 * EPS, atol=1e-300)
    np.testing.assert_allclose(scalar, [ref(k) for k in steps], rtol=1e-12, atol=1e-300)
