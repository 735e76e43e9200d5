"""The runs of a sweep as columns: optimizer codes, the grid's checked columns, and every
setting a chunk needs (defaults filled in) computed with array operations over the runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._columns import OPTIMIZERS, Coded, Column, check_keys, checked, read_grid, takes_table
from ._grid import _FLAGS, _RANGES, OPTIMIZER_DEFAULTS, SPECIAL_KEYS, check_value

# Per setting, a value per optimizer code: its default (0 where it does not take the setting),
# and whether it takes it.
_NAMES = sorted(set().union(*OPTIMIZER_DEFAULTS.values()) | {"noise"})
_DEFAULT = {
    n: np.array([float(OPTIMIZER_DEFAULTS[o].get(n, 0.0)) for o in OPTIMIZERS]) for n in _NAMES
}
_TAKES = {
    n: np.array([n in SPECIAL_KEYS or n in OPTIMIZER_DEFAULTS[o] for o in OPTIMIZERS])
    for n in _NAMES
}
# Variant bits: runs sharing all of them (and the optimizer) share one kernel call.
_BITS = ("weight_decay", "momentum", "nesterov", "amsgrad", "centered", "maximize", "noise")


@dataclass
class Runs:
    keys: list[str]  # the grid's keys, in order
    opt: np.ndarray  # (runs,) int8: index into OPTIMIZERS
    cols: dict[str, Column]  # the grid's checked columns (optimizer excluded)
    ids: np.ndarray  # (runs,) int64: the runs' numbers in the whole sweep
    schedules: list[Any] = field(default_factory=list)  # distinct lr schedules
    lr_codes: np.ndarray | None = None  # per distinct lr value: its schedule's index or -1
    variants: np.ndarray | None = None  # (runs,) int64, see variant()
    # the optimizer code when every run has it (the common case: no per-run gathers then)
    single: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if len(self.opt) and np.all(self.opt == self.opt[0]):
            self.single = int(self.opt[0])

    def __len__(self) -> int:
        return len(self.opt)

    def take(self, rows: Any) -> Runs:
        cols = {k: c.take(rows) if isinstance(c, Coded) else c[rows] for k, c in self.cols.items()}
        variants = None if self.variants is None else self.variants[rows]
        return Runs(
            self.keys,
            self.opt[rows],
            cols,
            self.ids[rows],
            self.schedules,
            self.lr_codes,
            variants,
        )

    def uniform_variant(self) -> int | None:
        """The variant code when every run shares it (one kernel call for them all)."""
        v = self.variant()
        return int(v[0]) if len(v) and np.all(v == v[0]) else None

    def _given(self, name: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(value per run, whether the run gives it) of a grid key, or None if not in the grid."""
        col = self.cols.get(name)
        if col is None:
            return None
        if not isinstance(col, Coded):
            return col, np.ones(len(col), dtype=bool)
        dtype = np.int64 if name == "seed" else np.float64  # seeds beyond 2**53 stay exact
        table = np.array([0 if callable(v) else v for v in col.values] + [0], dtype=dtype)
        return table[col.codes], col.codes >= 0

    def setting(self, name: str, copy: bool = True) -> np.ndarray:
        """Every run's value of a hyper-parameter (or noise), its optimizer's default when not
        given, 0 when its optimizer does not take it; float64, or bool for switches."""
        dtype = bool if name in _FLAGS else np.float64
        if self.single is not None:  # one optimizer: a default is one number, taken or not
            col = self.cols.get(name)
            if not _TAKES[name][self.single] or col is None:
                return np.full(len(self), _DEFAULT[name][self.single], dtype=dtype)
            if not isinstance(col, Coded):
                return col.astype(dtype, copy=copy)  # copy: callers may write into it
        out = _DEFAULT[name].astype(dtype)[self.opt]
        given = self._given(name)
        if given is not None:
            np.copyto(out, given[0].astype(dtype), where=given[1] & _TAKES[name][self.opt])
        return out

    def seed(self) -> np.ndarray:
        given = self._given("seed")
        if given is None:
            return np.zeros(len(self), dtype=np.int64)
        return np.where(given[1], given[0], 0).astype(np.int64)

    def lr_index(self) -> np.ndarray:
        """Per run, its schedule's row in the learning-rate tables (-1: a constant lr)."""
        col = self.cols.get("lr")
        if not isinstance(col, Coded) or self.lr_codes is None:
            return np.full(len(self), -1, dtype=np.int64)
        return np.append(self.lr_codes, -1)[col.codes]

    def variant(self) -> np.ndarray:
        """A code per run: the optimizer and the switches its kernel call shares (see _run);
        computed once for the whole sweep, then taken along with the runs."""
        if self.variants is None:
            code: Any = self.single if self.single is not None else self.opt.astype(np.int64)
            for name in _BITS:
                if self.single is not None and name not in self.cols:  # the same for all
                    code = code * 2 + int(_DEFAULT[name][self.single] != 0)
                else:
                    code = code * 2 + (self.setting(name) != 0)
            self.variants = np.broadcast_to(np.asarray(code, dtype=np.int64), (len(self),))
        return self.variants

    def present(self, key: str) -> np.ndarray:
        """Whether a run has a value for the key: given, or its optimizer's default."""
        if key == "optimizer":
            return np.ones(len(self), dtype=bool)
        col = self.cols[key]
        given = np.ones(len(self), bool) if not isinstance(col, Coded) else col.codes >= 0
        if key in SPECIAL_KEYS:
            return given
        if self.single is not None:
            return np.full(len(self), _TAKES[key][self.single])
        return _TAKES[key][self.opt]


def variant_key(code: int) -> tuple[Any, ...]:
    """The variant code's (optimizer, wd_on, mom_on, nesterov, amsgrad, centered, maximize,
    noisy)."""
    bits = []
    for _ in _BITS:
        bits.append(bool(code & 1))
        code >>= 1
    return (OPTIMIZERS[code], *reversed(bits))


def build_runs(grid: Any, optimizer: str) -> Runs:
    """Every run of the grid, checked (ValueError/TypeError naming the key), with runs that
    would repeat another exactly left out (see the package docs)."""
    keys, raw, n, axes = read_grid(grid)
    check_keys(keys)
    default_opt = OPTIMIZERS.index(check_value("optimizer", optimizer))
    if "optimizer" in raw:
        col = checked("optimizer", raw["optimizer"])
        assert isinstance(col, Coded)
        names = np.array([OPTIMIZERS.index(v) for v in col.values] + [default_opt], np.int8)
        opt = names[col.codes]
    else:
        opt = np.full(n, default_opt, dtype=np.int8)
    used = [OPTIMIZERS[o] for o in np.unique(opt)]
    for key in keys:  # a key that no optimizer of the sweep takes is a mistake, not a no-op
        if key not in SPECIAL_KEYS and not any(key in OPTIMIZER_DEFAULTS[o] for o in used):
            raise ValueError(
                f"grid key {key!r}: not a hyper-parameter of {' or '.join(sorted(used))}"
            )
    cols = {k: checked(k, raw[k]) for k in keys if k != "optimizer"}
    if axes is not None:  # a dict grid: drop the runs at a later value of an axis they ignore
        takes = takes_table(keys)[opt]  # (runs, keys)
        keep = np.ones(n, dtype=bool)
        for j, key in enumerate(keys):
            if key != "optimizer" and not takes[:, j].all():
                col = cols[key]
                assert isinstance(col, Coded)
                keep &= takes[:, j] | (col.codes == 0)
        if not keep.all():
            rows = np.flatnonzero(keep)
            opt = opt[rows]
            cols = {k: c.take(rows) if isinstance(c, Coded) else c[rows] for k, c in cols.items()}
    runs = Runs(keys, opt, cols, np.arange(len(opt), dtype=np.int64))
    lr = cols.get("lr")
    if isinstance(lr, Coded) and any(callable(v) for v in lr.values):
        index: dict[int, int] = {}
        codes = []
        for v in lr.values:
            codes.append(index.setdefault(id(v), len(index)) if callable(v) else -1)
            if callable(v) and len(runs.schedules) < len(index):
                runs.schedules.append(v)
        runs.lr_codes = np.array(codes, dtype=np.int64)
    if "nesterov" in cols or "momentum" in cols or "dampening" in cols:
        bad = runs.setting("nesterov") & ~(
            (runs.setting("momentum") > 0) & (runs.setting("dampening") == 0)
        )
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                "grid key 'nesterov': requires momentum > 0 and dampening == 0, got a run with "
                f"momentum={runs.setting('momentum')[i].item()!r}, "
                f"dampening={runs.setting('dampening')[i].item()!r}"
            )
    return runs


def display(runs: Runs, key: str, schedule_name: Any, show: Any) -> np.ndarray:
    """The table's column of a grid key, with pandas' dtypes for the values it holds: float64
    (NaN where a run has no value), bool, int64, or objects (None where a run has none)."""
    present = runs.present(key)
    if key == "optimizer":
        return np.array(OPTIMIZERS, dtype=object)[runs.opt]
    col = runs.cols[key]
    if key in _RANGES and not (isinstance(col, Coded) and any(callable(v) for v in col.values)):
        out = runs.setting(key)
        out[~present] = np.nan
        return out
    if key == "seed" and present.all():
        return runs.seed()
    if key == "seed":
        out = runs.seed().astype(np.float64)
        out[~present] = np.nan
        return out
    if key in _FLAGS and present.all():
        return runs.setting(key)
    if key in _FLAGS:
        table = np.array([False, True, None], dtype=object)
        return table[np.where(present, runs.setting(key).astype(np.int64), 2)]
    # lr with schedules, x0: objects
    assert isinstance(col, Coded)
    table = np.empty(len(col.values) + 1, dtype=object)
    for i, v in enumerate(col.values):
        table[i] = schedule_name(v) if callable(v) else show(v)
    out = table[col.codes]
    if key == "lr":  # a run not giving lr has its optimizer's default
        missing = col.codes < 0
        out[missing] = runs.setting("lr")[missing].astype(object)
    return out
