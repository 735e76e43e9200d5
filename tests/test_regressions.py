"""Failures found by the boundary fuzzer (test_fuzz_boundaries.py), kept as explicit cases.

Each test names the input hypothesis found and what went wrong before the fix.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from saddlepoint import hessian, kernels, optim, surfaces


@pytest.mark.parametrize("step", [np.array(0.0), np.array([1, 2]), np.array(1.5), np.zeros(0)])
def test_step_as_a_non_integer_array_names_step(step) -> None:
    """Was: NumPy's "only integer scalar arrays can be converted to a scalar index", naming no
    argument (ndarray passes PyIndex_Check whatever its dtype, then PyNumber_Index fails)."""
    p, g = np.zeros((3, 4)), np.ones((3, 4))
    s = np.zeros((3, 4))
    with pytest.raises(TypeError, match=r"^step: expected an int >= 1"):
        kernels.adagrad_step(p, g, s, step=step)
    with pytest.raises(TypeError, match=r"^step: expected an int >= 1"):
        kernels.sgd_step(p, g, s, lr=0.1, momentum=0.9, step=step)
    assert not p.any() and not s.any()


def test_integer_scalar_array_step_still_accepted() -> None:
    p, g, s = np.zeros(3), np.ones(3), np.zeros(3)
    kernels.adagrad_step(p, g, s, step=np.array(1), lr=0.1)
    np.testing.assert_allclose(p, -0.1 * 1 / (1 + 1e-10))


def test_failed_optimizer_construction_leaves_nothing_to_crash_on() -> None:
    """Was: a segmentation fault. A refused construction left a half-built engine whose
    attributes read uninitialized memory; pytest's traceback printer repr'd the ``self`` of
    the failed ``__init__`` frame and crashed the interpreter. Run in a subprocess so that a
    regression fails this test instead of killing the test session."""
    code = textwrap.dedent(
        """
        import traceback
        import numpy as np
        from saddlepoint import optim
        for cls, kw in [(optim.Adagrad, {"initial_accumulator_value": -1}),
                        (optim.Adam, {"eps": -1}), (optim.SGD, {"lr": "x"}),
                        (optim.AdamW, {"betas": (2, 0)}), (optim.RMSprop, {"alpha": 2})]:
            try:
                cls(np.zeros(3), **kw)
            except (TypeError, ValueError) as exc:
                tb = exc.__traceback__
                while tb is not None:   # what a traceback printer with locals does
                    for value in list(tb.tb_frame.f_locals.values()):
                        repr(value)
                    tb = tb.tb_next
                traceback.format_exception(exc)
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize("value", [None, "0.1", 0.1j, [0.1]])
def test_adagrad_initial_accumulator_value_type_names_the_argument(value) -> None:
    """Was: ``float() argument must be a string or a real number, not 'NoneType'``."""
    p = np.zeros(3)
    with pytest.raises(TypeError, match=r"^initial_accumulator_value: expected a real number"):
        optim.Adagrad(p, initial_accumulator_value=value)


@pytest.mark.parametrize("value", [np.array(0j), 0.5j, np.array([0.1 + 0j, 0.2])])
def test_complex_momentum_is_refused_without_a_warning(value) -> None:
    """Was: NumPy's ComplexWarning (an error under -W error) from the check that decides
    whether a momentum buffer is needed, before the engine could name the argument."""
    p = np.zeros((2, 3))
    with pytest.raises(TypeError, match="momentum"):
        optim.SGD(p, momentum=value)
    with pytest.raises(TypeError, match="momentum"):
        optim.RMSprop(p, momentum=value)


@pytest.mark.parametrize(
    "option, value, error",
    [
        ("dense_below", np.array([]), TypeError),
        ("dense_below", -1, ValueError),
        ("maxiter", 0, ValueError),
        ("maxiter", 2.5, TypeError),
        ("tol", -1.0, ValueError),
        ("tol", None, TypeError),
        ("method", None, ValueError),
        ("method", ["eigsh"], ValueError),
        ("dtype", "int64", TypeError),
        ("dtype", "not a dtype", TypeError),
        ("v0", np.ones(2), ValueError),
    ],
)
def test_lowest_eigenpairs_options_are_checked(option, value, error) -> None:
    """Was: ``The truth value of an empty array is ambiguous`` (dense_below=array([])) and
    SciPy's or NumPy's own messages for the other options."""
    A = np.diag([-2.0, 1.0, 3.0])
    with pytest.raises(error, match=rf"^{option}: "):
        hessian.lowest_eigenpairs(lambda v: A @ v, 3, **{option: value})


def test_lowest_eigenpairs_valid_options_still_work() -> None:
    A = np.diag([-2.0, 1.0, 3.0, 5.0])
    pairs = hessian.lowest_eigenpairs(lambda v: A @ v, 4, dense_below=0, maxiter=500,
                                      v0=np.ones(4), tol=0.0)  # fmt: skip
    np.testing.assert_allclose(pairs.eigenvalues, [-2.0], atol=1e-8)


def test_finite_difference_step_that_overflows_is_refused() -> None:
    """Was: RuntimeWarning "overflow encountered in subtract" and an Inf/NaN Hessian for
    step=1e308 (x + h and x - h overflow)."""
    x = np.array([0.0])
    with pytest.raises(ValueError, match=r"^step: .*overflows float64"):
        hessian.hessian(lambda z: 2 * z, x, step=1e308)
    with pytest.raises(ValueError, match=r"^step: .*overflows float32"):
        hessian.hessian_from_values(lambda z: float(z @ z), np.ones(2, np.float32), step=2e38)
    H = hessian.hessian(lambda z: 2 * z, x, step=1e100)  # large but finite: still exact here
    np.testing.assert_allclose(H, [[2.0]])


@pytest.mark.parametrize("A", [0.1 + 0j, np.eye(2, dtype=complex), np.array([["a"]])])
def test_quadratic_surface_with_a_non_real_matrix_names_a(A) -> None:
    """Was: ``float() argument must be a string or a real number, not 'complex'``."""
    with pytest.raises(TypeError, match=r"^A: expected a real"):
        surfaces.quadratic(A)


@pytest.mark.parametrize("condition", [1e308, 3.4e38])
def test_quadratic_with_entries_near_the_float64_limit(condition) -> None:
    """Was: RuntimeWarning "overflow encountered in add" (and Inf entries) from symmetrizing
    (A + A.T) / 2 for ill_conditioned(condition=1e308)."""
    surface = surfaces.ill_conditioned(condition)
    x = np.array([0.3, 0.5])
    np.testing.assert_array_equal(surface.hessian(x), np.diag([1.0, condition]))
    np.testing.assert_allclose(surface.grad(x), [0.3, 0.5 * condition], rtol=1e-15)


@pytest.mark.parametrize(
    "factory, kwargs",
    [
        ("cosine", {"lr": 0.1, "T_max": 2**63}),
        ("polynomial", {"lr": 0.1, "total_iters": 2**64}),
        ("step_decay", {"lr": 0.1, "step_size": 2**63}),
    ],
)
def test_schedule_integers_beyond_int64_are_refused(factory, kwargs) -> None:
    """Was: accepted, then OverflowError ("Python int too large to convert to C long") when
    evaluated on an array of steps."""
    from saddlepoint import schedules

    name = next(k for k in kwargs if k != "lr")
    with pytest.raises(ValueError, match=rf"{factory} requires {name} < 2\*\*63"):
        getattr(schedules, factory)(**kwargs)
    ok = getattr(schedules, factory)(**{**kwargs, name: 2**63 - 1})
    assert ok(np.arange(3)).shape == (3,)


@pytest.mark.parametrize("milestones", [np.array(0.0), np.array(3), np.zeros((2, 2), int)])
def test_multistep_milestones_array_that_is_not_1d(milestones) -> None:
    """Was: ``iteration over a 0-d array`` (a TypeError naming no argument)."""
    from saddlepoint import schedules

    with pytest.raises(TypeError, match="multistep requires milestones to be a sequence"):
        schedules.multistep(0.1, milestones)
    assert schedules.multistep(0.1, np.array([2, 5]))(5) == pytest.approx(0.001)


def test_finite_difference_step_that_vanishes_is_refused() -> None:
    """Was: RuntimeWarning "invalid value encountered in divide" (0 / 0) for a float32 point
    and step=2e-303: x + h and x - h both round to x."""
    x = np.array([0.0], np.float32)
    with pytest.raises(ValueError, match=r"^step: .*rounds to x in float32"):
        hessian.hessian(lambda z: 2 * z, x, step=2e-303)
    H = hessian.hessian(lambda z: 2 * z, x, step=1e-3)
    np.testing.assert_allclose(H, [[2.0]], rtol=1e-6)
