"""The functional steps' argument matching (cpp/bindings/fast_function.hpp): positions,
keywords (interned or built at run time), defaults, and Python's own errors for a bad call,
raised before any array is touched."""

from __future__ import annotations

import numpy as np
import pytest
from saddlepoint import kernels as K


def arrays(n: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal(n) for _ in range(4)]


def test_defaults_are_the_documented_ones() -> None:
    # omitted keywords behave as the defaults the signature shows (torch.optim.Adam's)
    a, b = arrays(), arrays()
    K.adam_step(*a, step=1)
    K.adam_step(
        *b,
        None,
        step=1,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
        maximize=False,
        decoupled_weight_decay=False,
    )
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    doc = K.adam_step.__doc__
    assert doc.startswith(
        "adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, *, step=None, "
        "lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0, amsgrad=False, "
        "maximize=False, decoupled_weight_decay=False) -> None"
    )


def test_keywords_by_position_or_name_and_built_at_run_time() -> None:
    a, b, c = arrays(), arrays(), arrays()
    K.adam_step(*a, step=3, lr=0.1)
    K.adam_step(param=b[0], grad=b[1], exp_avg=b[2], exp_avg_sq=b[3], step=3, lr=0.1)
    name = "".join(["l", "r"])  # not interned: matched by its text
    K.adam_step(*c, **{"step": 3, name: 0.1})
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda a: K.adam_step(*a, None, 3), r"adam_step\(\) takes at most 5 positional"),
        (
            lambda a: K.adam_step(*a, step=1, learning_rate=0.1),
            r"adam_step\(\) got an unexpected keyword argument 'learning_rate'",
        ),
        (
            lambda a: K.adam_step(*a, step=1, grad=a[1]),
            r"adam_step\(\) got multiple values for argument 'grad'",
        ),
        (
            lambda a: K.adam_step(a[0], a[1], a[2], step=1),
            r"adam_step\(\) missing required argument 'exp_avg_sq'",
        ),
        (lambda a: K.sgd_step(a[0], a[1]), r"sgd_step\(\) missing required argument 'lr'"),
        (lambda a: K.adam_step(*a), r"step: required"),
        (lambda a: K.adam_step(*a, step=1, lr="0.1"), r"lr: expected"),
    ],
    ids=["positional", "unexpected", "twice", "missing", "missing-lr", "step", "bad-lr"],
)
def test_bad_calls_raise_type_error_and_touch_nothing(call, match: str) -> None:
    a = arrays()
    before = [x.copy() for x in a]
    with pytest.raises(TypeError, match=match):
        call(a)
    for x, y in zip(a, before):
        np.testing.assert_array_equal(x, y)


def test_errors_from_checks_keep_their_types() -> None:
    a = arrays()
    with pytest.raises(ValueError, match="lr: expected a finite value >= 0"):
        K.adam_step(*a, step=1, lr=-1.0)
    with pytest.raises(ValueError, match="max_exp_avg_sq: required when amsgrad=True"):
        K.adam_step(*a, step=1, amsgrad=True)
