"""Hypothesis strategies for fuzzing the public API at its boundary.

``arrays_anything()`` draws the arrays a user might hand over by mistake (or on purpose): every
NumPy dtype kind (bool, signed/unsigned ints, float16/32/64/longdouble, complex, object,
datetime64, timedelta64, bytes, str, structured), 0-d to 4-d, empty, Fortran order, strided
and negatively strided views, a huge stride (every 1000th element of a buffer), read-only,
misaligned, non-native byte order, with NaN/Inf/-0.0/denormals/extreme magnitudes in the float
ones. ``describe()`` gives the short, hashable key used to count distinct inputs tried.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

STRUCTURED = np.dtype([("a", "<f8"), ("b", "<i4")])

DTYPES: list[np.dtype] = [
    np.dtype(t)
    for t in (
        "?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
        "f2", "f4", "f8", "g", "c8", "c16", "O", "M8[ns]", "m8[s]", "S3", "U2",
    )
] + [STRUCTURED, np.dtype(">f8"), np.dtype(">f4")]  # fmt: skip

FLOAT_SPECIALS = [
    0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 5e-324, 2.2250738585072014e-308 / 3,
    1e-45, 1.4e-45, 1e308, -1e308, 3.4e38, 65504.0, 1e-300, 1e300, 0.5,
]  # fmt: skip

LAYOUTS = ("c", "fortran", "strided", "negative", "huge_stride", "misaligned", "broadcast0")


def float_values(allow_special: bool = True) -> st.SearchStrategy[float]:
    normal = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)
    if not allow_special:
        return normal
    return st.one_of(normal, st.sampled_from(FLOAT_SPECIALS))


def _fill(dtype: np.dtype, shape: tuple[int, ...], values: list[float]) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` filled from ``values`` (cycled, converted)."""
    size = int(np.prod(shape, dtype=np.int64))
    base = np.resize(np.asarray(values, dtype=np.float64), size) if size else np.zeros(0)
    with np.errstate(all="ignore"):
        if dtype == STRUCTURED:
            out = np.zeros(size, dtype)
            out["a"] = base
            return out.reshape(shape)
        if dtype.kind in "SU":
            return base.astype(dtype).reshape(shape)
        if dtype.kind == "M":
            return np.nan_to_num(base).astype(np.int64).astype(dtype).reshape(shape)
        if dtype.kind == "m":
            return np.nan_to_num(base).astype(np.int64).astype(dtype).reshape(shape)
        if dtype.kind == "O":
            return base.astype(object).reshape(shape)
        if dtype.kind in "iub":
            return np.nan_to_num(base, posinf=1, neginf=-1).astype(dtype).reshape(shape)
        return base.astype(dtype).reshape(shape)


def with_layout(a: np.ndarray, layout: str) -> np.ndarray:
    """The same values as ``a`` in another memory layout (a view of a bigger buffer)."""
    if layout == "c" or a.ndim == 0:
        return a
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":
        big = np.repeat(a, 2, axis=-1)
        return big[..., ::2]
    if layout == "negative":
        big = np.ascontiguousarray(np.flip(a, axis=-1))
        return big[..., ::-1]
    if layout == "huge_stride":
        big = np.repeat(a, 1000, axis=-1) if a.size * a.itemsize * 1000 < 4 << 20 else a
        return big[..., ::1000] if big is not a else a
    if layout == "misaligned" and a.dtype.kind in "fc" and a.dtype.itemsize > 1:
        raw = np.zeros(a.nbytes + 1, np.uint8)
        view = raw[1:].view(a.dtype).reshape(a.shape)
        view[...] = a
        return view
    if layout == "broadcast0":
        # stride 0 along the last axis: every element of a row is one memory location
        return np.broadcast_to(a[..., :1], a.shape) if a.shape[-1] > 0 else a
    return a


@st.composite
def arrays_anything(
    draw: st.DrawFn,
    dtypes: list[np.dtype] | None = None,
    shape: tuple[int, ...] | None = None,
    layouts: tuple[str, ...] = LAYOUTS,
) -> np.ndarray:
    """Any array: any dtype, 0-d to 4-d (or ``shape``), any layout, maybe read-only."""
    dtype = draw(st.sampled_from(dtypes if dtypes is not None else DTYPES))
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    values = draw(st.lists(float_values(), min_size=1, max_size=6))
    a = with_layout(_fill(dtype, shape, values), draw(st.sampled_from(layouts)))
    if draw(st.booleans()) and a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def describe(a: Any) -> tuple:
    """A hashable description of an input (dtype, shape, strides, flags) for counting."""
    if isinstance(a, np.ndarray):
        return (
            "array",
            str(a.dtype),
            a.shape,
            a.strides,
            a.flags.c_contiguous,
            a.flags.writeable,
            a.flags.aligned,
            a.tobytes()[:64] if a.dtype.kind != "O" else repr(a.tolist())[:64],
        )
    if isinstance(a, (list, tuple)):
        return (type(a).__name__, *(describe(x) for x in a))
    return (type(a).__name__, repr(a)[:64])


def hyper_values() -> st.SearchStrategy[Any]:
    """Arbitrary hyper-parameter values: numbers good and bad, arrays, strings, None, bools."""
    return st.one_of(
        float_values(),
        st.integers(-(2**70), 2**70),
        st.sampled_from([None, True, False, "0.1", b"1", [], [0.1], (0.9,), (0.9, 0.999, 1.0)]),
        st.sampled_from([complex(0.1, 0), np.float16(0.1), np.float32(np.nan), np.int8(1)]),
        arrays_anything(
            dtypes=[np.dtype("f8"), np.dtype("f4"), np.dtype("i8"), np.dtype("c16"), np.dtype("O")]
        ),
    )
