"""Bad input to every kernel and optimizer class: a clear TypeError/ValueError naming the
argument, and every array byte-for-byte unchanged afterwards.

Each case starts from a valid call, changes one thing, and checks the error type, its message
(``match=``) and the bytes of every array involved (the valid ones and the bad one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import optimizer_snapshot, snapshot
from kernel_calls import KERNELS
from saddlepoint import optim

SHAPE = (4, 6)


# --------------------------------------------------------------------------------------------
# Valid calls
# --------------------------------------------------------------------------------------------
ARRAY_ARGS = [(k, a) for k, (_, names, _) in KERNELS.items() for a in names]
STATE_ARGS = [(k, a) for k, a in ARRAY_ARGS if a not in ("param", "grad")]


def valid_arrays(kernel: str, dtype: Any = np.float64, shape: tuple = SHAPE) -> dict:
    rng = np.random.default_rng(0)
    names = KERNELS[kernel][1]
    # positive state (square averages must be >= grad_avg**2 for a meaningful call)
    arrays = {n: rng.uniform(0.5, 1.5, shape).astype(dtype) for n in names}
    arrays["param"] = rng.standard_normal(shape).astype(dtype)
    arrays["grad"] = rng.standard_normal(shape).astype(dtype)
    return arrays


def list_arrays(kernel: str, dtypes: tuple = (np.float64, np.float64)) -> dict:
    """The valid call with every argument a list of two arrays, of shapes (3, 2) and (5,)."""
    first = valid_arrays(kernel, dtypes[0], (3, 2))
    second = valid_arrays(kernel, dtypes[1], (5,))
    return {k: [first[k], second[k]] for k in first}


def call(kernel: str, arrays: dict, **kw_changes: Any) -> None:
    fn, _, kw = KERNELS[kernel]
    kwargs = {**kw, **kw_changes}
    kwargs = {k: v for k, v in kwargs.items() if v is not _MISSING}
    fn(**arrays, **kwargs)


_MISSING = object()


def assert_refused(
    kernel: str, arrays: dict, error: type, match: str, *extra: Any, **kw_changes: Any
) -> None:
    before = snapshot(arrays, extra)
    with pytest.raises(error, match=match):
        call(kernel, arrays, **kw_changes)
    assert snapshot(arrays, extra) == before, "an array changed although the call was refused"


def assert_hyper_refused(
    kernel: str, name: str, value: Any, error: type, message: str, arrays: dict | None = None
) -> None:
    """:func:`assert_refused` with hyper-parameter ``name`` set to ``value``; the message is
    "name: " then the pattern ``message``. ``arrays`` defaults to ``valid_arrays(kernel)``."""
    arrays = valid_arrays(kernel) if arrays is None else arrays
    assert_refused(kernel, arrays, error, rf"^{name}: {message}", **{name: value})


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_valid_call_updates_param(kernel: str, dtype: Any) -> None:
    """The baseline of every case below is a call that works (so the refusals are real)."""
    arrays = valid_arrays(kernel, dtype)
    before = arrays["param"].copy()
    call(kernel, arrays)
    assert not np.array_equal(arrays["param"], before)


def test_read_only_grad_is_accepted() -> None:
    arrays = valid_arrays("adam")
    arrays["grad"].setflags(write=False)
    call("adam", arrays)


# --------------------------------------------------------------------------------------------
# Array arguments
# --------------------------------------------------------------------------------------------
def _strided(a: np.ndarray) -> np.ndarray:
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    view = wide[:, ::2]
    view[...] = a
    return view


def _fortran(a: np.ndarray) -> np.ndarray:
    return np.asfortranarray(a)


def _negative(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a[::-1])[::-1]  # same values, negative row stride


def _misaligned(a: np.ndarray) -> np.ndarray:
    raw = np.zeros(a.nbytes + 1, np.uint8)
    out = raw[1:].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def _read_only(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    a.setflags(write=False)
    return a


BAD_DTYPES = [
    (np.float16, "float16"),
    (np.int64, "int64"),
    (np.complex128, "complex128"),
    (object, "object"),
    (np.dtype(np.float64).newbyteorder(), "non-native f8"),
]


@pytest.mark.parametrize(("dtype", "label"), BAD_DTYPES, ids=[b[1] for b in BAD_DTYPES])
@pytest.mark.parametrize(("kernel", "arg"), ARRAY_ARGS)
def test_wrong_dtype(kernel: str, arg: str, dtype: Any, label: str) -> None:
    arrays = valid_arrays(kernel)
    arrays[arg] = arrays[arg].astype(dtype)
    assert_refused(kernel, arrays, TypeError, rf"^{arg}: expected a float32 or float64 array")


@pytest.mark.parametrize(("kernel", "arg"), ARRAY_ARGS)
def test_not_an_array(kernel: str, arg: str) -> None:
    arrays = valid_arrays(kernel)
    arrays[arg] = 1.5
    assert_refused(
        kernel, arrays, TypeError, rf"^{arg}: expected a float32 or float64 NumPy array, got float"
    )


LIKE_PARAM_ARGS = STATE_ARGS + [(k, "grad") for k in KERNELS]
_LIKE = r"expected float64 array of shape \(4, 6\) like param"
# (label, the valid call it starts from, how the argument is spoilt, error, message after
# "arg: "), each case for every argument that must match param's dtype, shape and listing
NOT_LIKE_PARAM = [
    ("float32", valid_arrays, lambda a: a.astype(np.float32), TypeError, _LIKE + ", got float32"),
    *[
        (f"shape {shape}", valid_arrays, lambda a, s=shape: np.ones(s), ValueError, _LIKE)
        for shape in [(6, 4), (24,), (4, 5), (1, 4, 6)]
    ],
    (
        "list too short",
        list_arrays,
        lambda a: a[:1],
        ValueError,
        "expected a list of 2 arrays like param, got a list of 1 arrays",
    ),
    (
        "array for a list",
        list_arrays,
        lambda a: a[1],
        ValueError,
        "expected a list of 2 arrays like param, got one array",
    ),
    (
        "list for an array",
        valid_arrays,
        lambda a: [a],
        ValueError,
        "expected one array like param, got a list of 1 arrays",
    ),
]


@pytest.mark.parametrize(
    ("label", "start", "spoil", "error", "message"),
    NOT_LIKE_PARAM,
    ids=[case[0] for case in NOT_LIKE_PARAM],
)
@pytest.mark.parametrize(("kernel", "arg"), LIKE_PARAM_ARGS)
def test_argument_not_like_param(
    kernel: str, arg: str, label: str, start: Callable, spoil: Callable, error: type, message: str
) -> None:
    arrays = start(kernel)
    arrays[arg] = spoil(arrays[arg])
    assert_refused(kernel, arrays, error, rf"^{arg}: {message}")


def test_param_shape_mismatch_names_the_others() -> None:
    arrays = valid_arrays("adam")
    arrays["param"] = np.zeros((6, 4))
    assert_refused("adam", arrays, ValueError, r"^grad: expected float64 array of shape \(6, 4\)")


LAYOUTS = [(_strided, "strided"), (_fortran, "fortran"), (_negative, "negative strides")]


@pytest.mark.parametrize(("make", "label"), LAYOUTS, ids=[x[1] for x in LAYOUTS])
@pytest.mark.parametrize(("kernel", "arg"), ARRAY_ARGS)
def test_not_c_contiguous(kernel: str, arg: str, make: Callable, label: str) -> None:
    """A strided view must raise: an update of a silent copy would be lost."""
    arrays = valid_arrays(kernel)
    arrays[arg] = make(arrays[arg])
    assert not arrays[arg].flags.c_contiguous
    assert_refused(kernel, arrays, ValueError, rf"^{arg}: expected a C-contiguous array")


@pytest.mark.parametrize(("kernel", "arg"), ARRAY_ARGS)
def test_misaligned(kernel: str, arg: str) -> None:
    arrays = valid_arrays(kernel)
    arrays[arg] = _misaligned(arrays[arg])
    assert_refused(kernel, arrays, ValueError, rf"^{arg}: expected an aligned array")


@pytest.mark.parametrize(("kernel", "arg"), [(k, a) for k, a in ARRAY_ARGS if a != "grad"])
def test_read_only(kernel: str, arg: str) -> None:
    arrays = valid_arrays(kernel)
    arrays[arg] = _read_only(arrays[arg])
    assert_refused(kernel, arrays, ValueError, rf"^{arg}: expected a writeable array")


def _pair(a: str, b: str) -> str:
    return rf"({a}: must not share memory with {b}|{b}: must not share memory with {a})"


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_grad_is_param(kernel: str) -> None:
    arrays = valid_arrays(kernel)
    arrays["grad"] = arrays["param"]
    assert_refused(kernel, arrays, ValueError, _pair("grad", "param"))


@pytest.mark.parametrize(("kernel", "arg"), STATE_ARGS)
def test_state_overlaps_param(kernel: str, arg: str) -> None:
    arrays = valid_arrays(kernel)
    n = arrays["param"].size
    buffer = np.concatenate([arrays["param"].ravel(), arrays[arg].ravel()])
    # param is the first half; the state starts half-way into param's bytes
    arrays["param"] = buffer[:n].reshape(SHAPE)
    arrays[arg] = buffer[n // 2 : n // 2 + n].reshape(SHAPE)
    assert_refused(kernel, arrays, ValueError, _pair(arg, "param"), buffer)


@pytest.mark.parametrize("kernel", ["rmsprop", "adam"])
def test_overlapping_views_of_one_buffer(kernel: str) -> None:
    arrays = valid_arrays(kernel)
    a, b = KERNELS[kernel][1][2], KERNELS[kernel][1][3]
    buffer = np.ones(40)
    arrays[a] = buffer[:24].reshape(SHAPE)
    arrays[b] = buffer[16:40].reshape(SHAPE)
    assert_refused(kernel, arrays, ValueError, _pair(b, a), buffer)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_same_state_twice(kernel: str) -> None:
    arrays = valid_arrays(kernel)
    names = KERNELS[kernel][1]
    if len(names) < 4:
        arrays["grad"] = arrays[names[2]]  # a state read as the gradient
        assert_refused(kernel, arrays, ValueError, _pair("grad", names[2]))
    else:
        arrays[names[3]] = arrays[names[2]]
        assert_refused(kernel, arrays, ValueError, _pair(names[3], names[2]))


# --------------------------------------------------------------------------------------------
# Lists of arrays
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kernel", "arg"), ARRAY_ARGS)
def test_bad_item_in_list_is_named(kernel: str, arg: str) -> None:
    arrays = list_arrays(kernel)
    arrays[arg][1] = arrays[arg][1][::-1]  # a negative-stride view of the (5,) item
    assert_refused(kernel, arrays, ValueError, rf"^{arg}\[1\]: expected a C-contiguous array")


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_list_items_overlapping_each_other(kernel: str) -> None:
    arrays = list_arrays(kernel)
    buffer = np.ones(8)
    arrays["param"] = [buffer[:6].reshape(3, 2), buffer[3:8]]
    assert_refused(kernel, arrays, ValueError, _pair(r"param\[1\]", r"param\[0\]"), buffer)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_list_of_mixed_dtypes(kernel: str) -> None:
    """One call runs one dtype: a float32 item among float64 params is refused."""
    arrays = list_arrays(kernel, (np.float64, np.float32))
    assert_refused(
        kernel, arrays, TypeError, r"^param\[1\]: expected float64 like param\[0\].*got float32"
    )


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_empty_list(kernel: str) -> None:
    arrays = {k: [] for k in KERNELS[kernel][1]}
    assert_refused(kernel, arrays, ValueError, r"^param: expected at least one array")


# --------------------------------------------------------------------------------------------
# Hyper-parameters
# --------------------------------------------------------------------------------------------
FLOAT_HYPER = {
    "sgd": {"lr": ">= 0", "momentum": ">= 0", "dampening": r"in \[0, 1\]", "weight_decay": ">= 0"},
    "adagrad": {"lr": ">= 0", "lr_decay": ">= 0", "weight_decay": ">= 0", "eps": "> 0"},
    "rmsprop": {
        "lr": ">= 0",
        "alpha": r"in \[0, 1\]",
        "eps": "> 0",
        "weight_decay": ">= 0",
        "momentum": ">= 0",
    },
    "adam": {"lr": ">= 0", "eps": "> 0", "weight_decay": ">= 0"},
}
FLOAT_CASES = [(k, h, r) for k, hs in FLOAT_HYPER.items() for h, r in hs.items()]
BOOL_HYPER = {
    "sgd": ["nesterov", "maximize"],
    "adagrad": ["maximize"],
    "rmsprop": ["centered", "maximize"],
    "adam": ["amsgrad", "maximize", "decoupled_weight_decay"],
}
BOOL_CASES = [(k, h) for k, hs in BOOL_HYPER.items() for h in hs]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -1.0, -1e-300])
@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES)
def test_float_hyper_out_of_range(kernel: str, name: str, expect: str, value: float) -> None:
    assert_hyper_refused(
        kernel, name, value, ValueError, rf"expected a finite value {expect}, got "
    )


@pytest.mark.parametrize(
    ("kernel", "name", "value"),
    [
        ("sgd", "dampening", 1.5),
        ("rmsprop", "alpha", 1.01),
        ("adagrad", "eps", 0.0),
        ("rmsprop", "eps", 0.0),
        ("adam", "eps", 0.0),
        ("adam", "eps", -1e-8),
    ],
)
def test_float_hyper_outside_interval(kernel: str, name: str, value: float) -> None:
    assert_hyper_refused(kernel, name, value, ValueError, r"expected a finite value")


@pytest.mark.parametrize("value", [True, "0.1", None, [0.1], 1 + 2j])
@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES)
def test_float_hyper_wrong_type(kernel: str, name: str, expect: str, value: Any) -> None:
    assert_hyper_refused(kernel, name, value, TypeError, r"expected a real number")


@pytest.mark.parametrize(
    ("betas", "error", "match"),
    [
        ((0.9, 1.0), ValueError, r"^betas\[1\]: expected a finite value in \[0, 1\)"),
        ((1.0, 0.999), ValueError, r"^betas\[0\]: expected a finite value in \[0, 1\)"),
        ((0.9, 1.5), ValueError, r"^betas\[1\]"),
        ((-0.1, 0.999), ValueError, r"^betas\[0\]"),
        ((float("nan"), 0.999), ValueError, r"^betas\[0\]"),
        ((0.9, float("inf")), ValueError, r"^betas\[1\]"),
        (0.9, TypeError, r"^betas: expected a pair"),
        ((0.9,), TypeError, r"^betas: expected a pair"),
        ((0.9, 0.99, 0.999), TypeError, r"^betas: expected a pair"),
        ((True, 0.999), TypeError, r"^betas\[0\]: expected a real number"),
    ],
)
def test_bad_betas(betas: Any, error: type, match: str) -> None:
    assert_refused("adam", valid_arrays("adam"), error, match, betas=betas)


@pytest.mark.parametrize("value", [1, 0, None, "yes", 1.0])
@pytest.mark.parametrize(("kernel", "name"), BOOL_CASES)
def test_bool_hyper_wrong_type(kernel: str, name: str, value: Any) -> None:
    assert_hyper_refused(kernel, name, value, TypeError, r"expected True or False")


# per-row arrays
@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES)
def test_per_row_wrong_length(kernel: str, name: str, expect: str) -> None:
    for bad in [np.full(3, 0.5), np.full(5, 0.5), np.full((4, 1), 0.5), np.full((1, 4), 0.5)]:
        assert_hyper_refused(
            kernel, name, bad, ValueError, r"expected a number or a 1-D array of 4 values"
        )


@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES)
def test_per_row_for_param_not_2d(kernel: str, name: str, expect: str) -> None:
    for shape in [(24,), (2, 3, 4)]:
        assert_hyper_refused(
            kernel,
            name,
            np.full(4, 0.5),
            ValueError,
            r"per-row values need a 2-D param",
            arrays=valid_arrays(kernel, shape=shape),
        )
    lists = list_arrays(kernel)
    assert_hyper_refused(
        kernel, name, np.full(3, 0.5), ValueError, r"per-row values need a 2-D param", arrays=lists
    )


@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES)
def test_per_row_bad_value_names_the_row(kernel: str, name: str, expect: str) -> None:
    values = np.full(4, 0.5)
    values[2] = np.nan
    assert_hyper_refused(
        kernel, name, values, ValueError, rf"expected a finite value {expect}, got nan \(row 2\)"
    )


@pytest.mark.parametrize("dtype", [bool, complex, object, "U3"])
@pytest.mark.parametrize(("kernel", "name", "expect"), FLOAT_CASES[:6])
def test_per_row_wrong_dtype(kernel: str, name: str, expect: str, dtype: Any) -> None:
    values = np.array(["1", "1", "1", "1"]) if dtype == "U3" else np.ones(4, dtype)
    assert_hyper_refused(kernel, name, values, TypeError, r"expected real numbers")


def test_per_row_betas_wrong_length() -> None:
    assert_refused(
        "adam",
        valid_arrays("adam"),
        ValueError,
        r"^betas\[1\]: expected a number or a 1-D array of 4 values",
        betas=(np.full(4, 0.9), np.full(3, 0.99)),
    )


# step
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (2**70, ValueError),
        (1.0, TypeError),
        (True, TypeError),
        ("1", TypeError),
        (np.float64(2.0), TypeError),
    ],
)
@pytest.mark.parametrize("kernel", ["sgd", "adagrad", "adam"])  # RMSprop has no step
def test_bad_step(kernel: str, value: Any, error: type) -> None:
    assert_refused(kernel, valid_arrays(kernel), error, r"^step: expected an int >= 1", step=value)


def test_numpy_int_step_is_accepted() -> None:
    call("adam", valid_arrays("adam"), step=np.int64(4))


@pytest.mark.parametrize("kernel", ["adagrad", "adam"])
def test_missing_step(kernel: str) -> None:
    assert_refused(kernel, valid_arrays(kernel), TypeError, r"^step: required", step=_MISSING)
    assert_refused(kernel, valid_arrays(kernel), TypeError, r"^step: required", step=None)


def test_sgd_momentum_without_step() -> None:
    assert_refused(
        "sgd", valid_arrays("sgd"), ValueError, r"^step: required when momentum != 0", step=None
    )


# nesterov and required state
@pytest.mark.parametrize(
    "changes",
    [dict(momentum=0.0), dict(dampening=0.1), dict(momentum=np.array([0.9, 0.0, 0.9, 0.9]))],
)
def test_nesterov_needs_momentum_and_no_dampening(changes: dict) -> None:
    assert_refused(
        "sgd",
        valid_arrays("sgd"),
        ValueError,
        r"^nesterov: requires momentum > 0 and dampening == 0",
        nesterov=True,
        **changes,
    )


@pytest.mark.parametrize(
    ("kernel", "drop", "match", "changes"),
    [
        ("adam", "max_exp_avg_sq", r"^max_exp_avg_sq: required when amsgrad=True", {}),
        ("rmsprop", "grad_avg", r"^grad_avg: required when centered=True", {}),
        ("rmsprop", "momentum_buffer", r"^momentum_buffer: required when momentum != 0", {}),
        ("sgd", "momentum_buffer", r"^momentum_buffer: required when momentum != 0", {}),
        (
            "sgd",
            "momentum_buffer",
            r"^momentum_buffer: required when momentum != 0",
            dict(momentum=np.array([0.0, 0.0, 0.5, 0.0])),
        ),
    ],
)
def test_missing_required_state(kernel: str, drop: str, match: str, changes: dict) -> None:
    arrays = valid_arrays(kernel)
    dropped = arrays.pop(drop)
    assert_refused(kernel, arrays, ValueError, match, dropped, **changes)


def test_adagrad_needs_state_sum() -> None:
    arrays = valid_arrays("adagrad")
    arrays["state_sum"] = None
    assert_refused("adagrad", arrays, TypeError, r"^state_sum: expected a float32 or float64")


# --------------------------------------------------------------------------------------------
# Optimizer classes: constructor
# --------------------------------------------------------------------------------------------
CLASSES = {
    "SGD": optim.SGD,
    "Adagrad": optim.Adagrad,
    "RMSprop": optim.RMSprop,
    "Adam": optim.Adam,
    "AdamW": optim.AdamW,
}
CLASS_FLOAT_HYPER = {
    "SGD": ["lr", "momentum", "dampening", "weight_decay"],
    "Adagrad": ["lr", "lr_decay", "weight_decay", "eps"],
    "RMSprop": ["lr", "alpha", "eps", "weight_decay", "momentum"],
    "Adam": ["lr", "eps", "weight_decay"],
    "AdamW": ["lr", "eps", "weight_decay"],
}
CLASS_FLOAT_CASES = [(c, h) for c, hs in CLASS_FLOAT_HYPER.items() for h in hs]


def assert_construction_refused(
    cls: str, params: Any, error: type, match: str, *extra: Any, **hyper: Any
) -> None:
    before = snapshot(params, extra)
    with pytest.raises(error, match=match):
        CLASSES[cls](params, **hyper)
    assert snapshot(params, extra) == before


BAD_PARAMS = [
    (
        "float16",
        lambda: np.ones(SHAPE, np.float16),
        TypeError,
        r"^params: expected a float32 or float64 array",
    ),
    ("int", lambda: np.ones(SHAPE, np.int64), TypeError, r"^params: expected a float32"),
    ("complex", lambda: np.ones(SHAPE, complex), TypeError, r"^params: expected a float32"),
    ("object", lambda: np.ones(SHAPE, object), TypeError, r"^params: expected a float32"),
    (
        "non-native f8",
        lambda: np.ones(SHAPE, np.dtype(np.float64).newbyteorder()),
        TypeError,
        r"^params: expected a float32",
    ),
    (
        "strided",
        lambda: _strided(np.ones(SHAPE)),
        ValueError,
        r"^params: expected a C-contiguous array",
    ),
    ("fortran", lambda: _fortran(np.ones(SHAPE)), ValueError, r"^params: expected a C-contig"),
    ("negative", lambda: _negative(np.ones(SHAPE)), ValueError, r"^params: expected a C-contig"),
    (
        "read-only",
        lambda: _read_only(np.ones(SHAPE)),
        ValueError,
        r"^params: expected a writeable array",
    ),
    (
        "misaligned",
        lambda: _misaligned(np.ones(SHAPE)),
        ValueError,
        r"^params: expected an aligned array",
    ),
    ("not an array", lambda: 3.0, TypeError, r"^params: expected a float32 or float64 NumPy"),
    ("empty list", lambda: [], ValueError, r"^params: expected at least one array"),
    (
        "item strided",
        lambda: [np.ones(3), np.ones(6)[::2]],
        ValueError,
        r"^params\[1\]: expected a C-contiguous array",
    ),
    (
        "item not array",
        lambda: [np.ones(3), [1.0, 2.0]],
        TypeError,
        r"^params\[1\]: expected a float32 or float64 NumPy array, got list",
    ),
    (
        "mixed dtypes",
        lambda: [np.ones(3), np.ones(3, np.float32)],
        TypeError,
        r"^params\[1\]: expected float64 like params\[0\], got float32",
    ),
    (
        "same array twice",
        lambda: [a := np.ones(3), a],
        ValueError,
        _pair(r"params\[1\]", r"params\[0\]"),
    ),
    (
        "overlapping views",
        lambda: [(b := np.ones(10))[:6], b[4:]],
        ValueError,
        _pair(r"params\[1\]", r"params\[0\]"),
    ),
]


@pytest.mark.parametrize(
    ("label", "make", "error", "match"), BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS]
)
@pytest.mark.parametrize("cls", list(CLASSES))
def test_class_bad_params(cls: str, label: str, make: Callable, error: type, match: str) -> None:
    assert_construction_refused(cls, make(), error, match)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
@pytest.mark.parametrize(("cls", "name"), CLASS_FLOAT_CASES)
def test_class_float_hyper_out_of_range(cls: str, name: str, value: float) -> None:
    assert_construction_refused(
        cls, np.ones(SHAPE), ValueError, rf"^{name}: expected a finite value", **{name: value}
    )


@pytest.mark.parametrize("value", [True, "0.1", None])
@pytest.mark.parametrize(("cls", "name"), CLASS_FLOAT_CASES)
def test_class_float_hyper_wrong_type(cls: str, name: str, value: Any) -> None:
    assert_construction_refused(
        cls, np.ones(SHAPE), TypeError, rf"^{name}: expected a real number", **{name: value}
    )


@pytest.mark.parametrize(("cls", "name"), CLASS_FLOAT_CASES)
def test_class_per_row_wrong_length_or_not_2d(cls: str, name: str) -> None:
    assert_construction_refused(
        cls,
        np.ones(SHAPE),
        ValueError,
        rf"^{name}: expected a number or a 1-D array of 4 values",
        **{name: np.full(3, 0.5)},
    )
    assert_construction_refused(
        cls,
        np.ones(24),
        ValueError,
        rf"^{name}: per-row values need a 2-D param",
        **{name: np.full(4, 0.5)},
    )
    assert_construction_refused(
        cls,
        [np.ones(SHAPE)],
        ValueError,
        rf"^{name}: per-row values need a 2-D param",
        **{name: np.full(4, 0.5)},
    )


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
@pytest.mark.parametrize(
    ("betas", "error", "match"),
    [
        ((0.9, 1.0), ValueError, r"^betas\[1\]"),
        ((1.0, 0.9), ValueError, r"^betas\[0\]"),
        (0.9, TypeError, r"^betas: expected a pair"),
        ((0.9, "x"), TypeError, r"^betas\[1\]"),
    ],
)
def test_class_bad_betas(cls: str, betas: Any, error: type, match: str) -> None:
    assert_construction_refused(cls, np.ones(SHAPE), error, match, betas=betas)


@pytest.mark.parametrize(
    ("cls", "hyper", "error", "match"),
    [
        ("SGD", dict(nesterov=True), ValueError, r"^nesterov: requires momentum > 0"),
        (
            "SGD",
            dict(nesterov=True, momentum=0.9, dampening=0.5),
            ValueError,
            r"^nesterov: requires momentum > 0 and dampening == 0",
        ),
        ("SGD", dict(nesterov=1), TypeError, r"^nesterov: expected True or False"),
        ("SGD", dict(maximize="no"), TypeError, r"^maximize: expected True or False"),
        (
            "SGD",
            dict(dampening=2.0),
            ValueError,
            r"^dampening: expected a finite value in \[0, 1\]",
        ),
        ("RMSprop", dict(alpha=1.5), ValueError, r"^alpha: expected a finite value in \[0, 1\]"),
        ("RMSprop", dict(centered=1), TypeError, r"^centered: expected True or False"),
        ("RMSprop", dict(eps=0.0), ValueError, r"^eps: expected a finite value > 0"),
        ("Adagrad", dict(eps=0.0), ValueError, r"^eps: expected a finite value > 0"),
        (
            "Adagrad",
            dict(initial_accumulator_value=-1.0),
            ValueError,
            r"^initial_accumulator_value: expected a finite value >= 0",
        ),
        (
            "Adagrad",
            dict(initial_accumulator_value=float("nan")),
            ValueError,
            r"^initial_accumulator_value",
        ),
        ("Adam", dict(amsgrad=1), TypeError, r"^amsgrad: expected True or False"),
        ("AdamW", dict(maximize=None), TypeError, r"^maximize: expected True or False"),
    ],
)
def test_class_other_bad_hyper(cls: str, hyper: dict, error: type, match: str) -> None:
    assert_construction_refused(cls, np.ones(SHAPE), error, match, **hyper)


# --------------------------------------------------------------------------------------------
# Optimizer classes: step and setters
# --------------------------------------------------------------------------------------------
def stepped(cls: str, params: Any) -> optim.Optimizer:
    hyper = {
        "SGD": dict(momentum=0.9),
        "RMSprop": dict(centered=True, momentum=0.5),
        "Adam": dict(amsgrad=True),
    }.get(cls, {})
    opt = CLASSES[cls](params, lr=0.01, **hyper)
    grads = [np.ones_like(p) for p in params] if isinstance(params, list) else np.ones_like(params)
    opt.step(grads)
    return opt


def assert_step_refused(opt: optim.Optimizer, grads: Any, error: type, match: str) -> None:
    before = optimizer_snapshot(opt)
    grads_before = snapshot(grads)
    with pytest.raises(error, match=match):
        opt.step(grads)
    assert optimizer_snapshot(opt) == before, "the optimizer changed although the step was refused"
    assert snapshot(grads) == grads_before


BAD_GRADS = [
    (
        "float32",
        lambda p, o: p.astype(np.float32),
        TypeError,
        r"^grads: expected float64 array of shape \(4, 6\) like params, got float32",
    ),
    ("float16", lambda p, o: p.astype(np.float16), TypeError, r"^grads: expected a float32"),
    ("int", lambda p, o: p.astype(int), TypeError, r"^grads: expected a float32"),
    (
        "non-native f8",
        lambda p, o: p.astype(p.dtype.newbyteorder()),
        TypeError,
        r"^grads: expected a float32",
    ),
    (
        "shape",
        lambda p, o: np.ones((6, 4)),
        ValueError,
        r"^grads: expected float64 array of shape \(4, 6\)",
    ),
    ("flat", lambda p, o: np.ones(24), ValueError, r"^grads: expected float64 array of shape"),
    ("strided", lambda p, o: _strided(p), ValueError, r"^grads: expected a C-contiguous"),
    ("fortran", lambda p, o: _fortran(p), ValueError, r"^grads: expected a C-contiguous"),
    ("negative", lambda p, o: _negative(p), ValueError, r"^grads: expected a C-contiguous"),
    ("misaligned", lambda p, o: _misaligned(p), ValueError, r"^grads: expected an aligned"),
    ("is param", lambda p, o: p, ValueError, _pair("grads", "params")),
    (
        "list",
        lambda p, o: [p.copy()],
        ValueError,
        r"^grads: expected one array like param, got a list of 1 arrays",
    ),
    ("none", lambda p, o: None, TypeError, r"^grads: expected a float32 or float64 NumPy"),
]


@pytest.mark.parametrize(
    ("label", "make", "error", "match"), BAD_GRADS, ids=[b[0] for b in BAD_GRADS]
)
@pytest.mark.parametrize("cls", list(CLASSES))
def test_class_step_bad_grads(
    cls: str, label: str, make: Callable, error: type, match: str
) -> None:
    param = np.random.default_rng(0).standard_normal(SHAPE)
    opt = stepped(cls, param)
    assert_step_refused(opt, make(param, opt), error, match)


@pytest.mark.parametrize("cls", list(CLASSES))
def test_class_step_grad_overlaps_state(cls: str) -> None:
    opt = stepped(cls, np.ones(SHAPE))
    name, flat = next(iter(opt._buffers().items()))
    assert_step_refused(
        opt, flat.reshape(SHAPE), ValueError, _pair("grads", rf"state\['{name}'\]")
    )


@pytest.mark.parametrize("cls", list(CLASSES))
def test_class_step_bad_grad_lists(cls: str) -> None:
    opt = stepped(cls, [np.ones(3), np.ones((2, 2))])
    assert_step_refused(
        opt,
        [np.ones(3)],
        ValueError,
        r"^grads: expected a list of 2 arrays like param, got a list of 1",
    )
    assert_step_refused(
        opt,
        [np.ones(3), np.ones((2, 2)), np.ones(1)],
        ValueError,
        r"^grads: expected a list of 2 arrays",
    )
    assert_step_refused(
        opt,
        np.ones(3),
        ValueError,
        r"^grads: expected a list of 2 arrays like param, got one array",
    )
    assert_step_refused(
        opt,
        [np.ones(3), np.ones(4)],
        ValueError,
        r"^grads\[1\]: expected float64 array of shape \(2, 2\) like params\[1\]",
    )
    assert_step_refused(
        opt,
        [np.ones(3), np.ones((2, 4))[:, ::2]],
        ValueError,
        r"^grads\[1\]: expected a C-contiguous",
    )
    assert_step_refused(
        opt,
        [np.ones(3), opt.params[0][:2]],
        ValueError,
        r"^grads\[1\]: expected float64 array of shape \(2, 2\)",
    )


@pytest.mark.parametrize(
    ("cls", "name", "value", "error", "match"),
    [
        ("SGD", "lr", -1.0, ValueError, r"^lr: expected a finite value >= 0"),
        ("SGD", "lr", True, TypeError, r"^lr: expected a real number"),
        ("SGD", "momentum", float("nan"), ValueError, r"^momentum: expected a finite value"),
        ("SGD", "dampening", 1.5, ValueError, r"^dampening"),
        ("Adam", "betas", (0.9, 1.0), ValueError, r"^betas\[1\]"),
        ("Adam", "eps", 0.0, ValueError, r"^eps"),
        ("Adam", "lr", np.full(3, 0.1), ValueError, r"^lr: per-row values need a 2-D param"),
        ("RMSprop", "alpha", -0.1, ValueError, r"^alpha"),
        ("Adagrad", "lr_decay", float("inf"), ValueError, r"^lr_decay"),
    ],
)
def test_class_setter_refuses_and_keeps_value(
    cls: str, name: str, value: Any, error: type, match: str
) -> None:
    opt = stepped(cls, np.ones(SHAPE[1]))
    before = optimizer_snapshot(opt)
    old = getattr(opt, name)
    with pytest.raises(error, match=match):
        setattr(opt, name, value)
    assert optimizer_snapshot(opt) == before
    assert getattr(opt, name) == old


def test_sgd_momentum_cannot_be_switched_on_without_a_buffer() -> None:
    opt = optim.SGD(np.ones(3), lr=0.1)
    with pytest.raises(ValueError, match=r"^momentum: a non-zero momentum needs"):
        opt.momentum = 0.9
    assert opt.momentum == 0.0


def test_nesterov_setter_keeps_constraint() -> None:
    opt = optim.SGD(np.ones(3), lr=0.1, momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match=r"^nesterov: requires momentum > 0"):
        opt.momentum = 0.0
    with pytest.raises(ValueError, match=r"^nesterov: requires .* dampening == 0"):
        opt.dampening = 0.5
    assert (opt.momentum, opt.dampening) == (0.9, 0.0)


def test_steps_setter_refuses_negative() -> None:
    opt = stepped("Adam", np.ones(3))
    with pytest.raises(ValueError, match=r"^steps: expected an int >= 0"):
        opt.steps = -1
    assert opt.steps == 1


@pytest.mark.parametrize("cls", list(CLASSES))
def test_class_step_grads_crossed_with_params(cls: str) -> None:
    """Each gradient is checked against every registered array, not only its own param."""
    opt = stepped(cls, [np.ones(3), np.full(3, 2.0)])
    a, b = opt.params
    assert_step_refused(opt, [b, a], ValueError, r"must not share memory")
    assert_step_refused(opt, [np.ones(3), a], ValueError, _pair(r"grads\[1\]", r"params\[0\]"))
