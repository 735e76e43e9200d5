"""Optimizer-step benchmark: saddlepoint against NumPy (and PyTorch when installed).

Used by ``bench/optimizers.py`` (the full table) and ``saddlepoint bench`` (a short run).
Every contender of one configuration runs interleaved in the same process on the same
arrays' sizes, and the report gives ratios, never bare absolute times: the host is shared
and noisy, and only side-by-side numbers mean anything. The memory yardstick is a plain
NumPy array copy measured in the same run.

Bytes per step count every array read plus every array written once (Adam reads p, g, m, v
and writes p, m, v: 7 arrays), the traffic of an ideal one-pass step.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from . import _core, kernels, optim

__all__ = ["Measurement", "format_table", "run"]

# arrays read + written by one step of each method, for GB/s
_TRAFFIC = {
    "sgd": 3,
    "momentum": 5,
    "nesterov": 5,
    "adagrad": 5,
    "rmsprop": 5,
    "adam": 7,
    "adamw": 7,
}

KINDS = tuple(_TRAFFIC)


@dataclass
class Measurement:
    kind: str
    n: int
    dtype: str
    threads: int
    arrays: int
    us: dict[str, float] = field(default_factory=dict)  # contender -> median microseconds/step
    gbps: dict[str, float] = field(default_factory=dict)

    def ratio(self, slow: str, fast: str) -> float | None:
        if slow in self.us and fast in self.us and self.us[fast] > 0:
            return self.us[slow] / self.us[fast]
        return None


def _time_interleaved(
    contenders: dict[str, Callable[[], Any]], budget: float, min_rounds: int = 5
) -> dict[str, float]:
    """Median seconds per call of each contender, rounds interleaved so drift hits all."""
    batch: dict[str, int] = {}
    for name, fn in contenders.items():  # warm up and size each batch to ~1 ms
        fn()
        k, t = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(k):
                fn()
            t = time.perf_counter() - start
            if t > 1e-3 or k >= 1 << 16:
                break
            k *= 4
        batch[name] = k
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    deadline = time.perf_counter() + budget
    rounds = 0
    while rounds < min_rounds or time.perf_counter() < deadline:
        for name, fn in contenders.items():
            k = batch[name]
            start = time.perf_counter()
            for _ in range(k):
                fn()
            samples[name].append((time.perf_counter() - start) / k)
        rounds += 1
        if rounds >= 200:
            break
    return {name: statistics.median(s) for name, s in samples.items()}


def _hyper(kind: str) -> dict[str, Any]:
    return {
        "sgd": {"lr": 1e-3},
        "momentum": {"lr": 1e-3, "momentum": 0.9},
        "nesterov": {"lr": 1e-3, "momentum": 0.9, "nesterov": True},
        "adagrad": {"lr": 1e-2},
        "rmsprop": {"lr": 1e-2},
        "adam": {"lr": 1e-3},
        "adamw": {"lr": 1e-3, "weight_decay": 1e-2},
    }[kind]


def _optimizer(kind: str, params: Any) -> optim.Optimizer:
    name = {"momentum": "sgd", "nesterov": "sgd"}.get(kind, kind)
    return optim.create(name, params, **_hyper(kind))


def _kernel_call(kind: str, p: np.ndarray, g: np.ndarray) -> Callable[[], None]:
    """The functional kernel with its state, as a zero-argument step."""
    z = np.zeros_like
    h = _hyper(kind)
    if kind in ("sgd", "momentum", "nesterov"):
        buf = z(p) if "momentum" in h else None
        mu, nest = h.get("momentum", 0.0), h.get("nesterov", False)
        return lambda: kernels.sgd_step(p, g, buf, lr=1e-3, momentum=mu, nesterov=nest, step=2)
    if kind == "adagrad":
        s = z(p)
        return lambda: kernels.adagrad_step(p, g, s, step=2, lr=1e-2)
    if kind == "rmsprop":
        v = z(p)
        return lambda: kernels.rmsprop_step(p, g, v, lr=1e-2)
    m, v = z(p), z(p)
    wd, dec = h.get("weight_decay", 0.0), kind == "adamw"
    return lambda: kernels.adam_step(
        p, g, m, v, step=2, lr=1e-3, weight_decay=wd, decoupled_weight_decay=dec
    )


def _average_square(v: np.ndarray, g: np.ndarray, decay: Any, tmp: np.ndarray) -> None:
    """v = decay v + (1 - decay) g^2 with out= (no temporaries)."""
    np.multiply(v, decay, out=v)
    np.multiply(g, g, out=tmp)
    np.multiply(tmp, 1 - decay, out=tmp)
    np.add(v, tmp, out=v)


def _step_over_root(
    p: np.ndarray,
    num: np.ndarray,
    acc: np.ndarray,
    lr: Any,
    eps: Any,
    tmp: np.ndarray,
    root_scale: Any = None,
) -> None:
    """p = p - lr num / (sqrt(acc) [/ root_scale] + eps) with out= (no temporaries)."""
    np.sqrt(acc, out=tmp)
    if root_scale is not None:
        np.divide(tmp, root_scale, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(num, tmp, out=tmp)
    np.multiply(tmp, -lr, out=tmp)
    np.add(p, tmp, out=p)


def _numpy_calls(kind: str, p: np.ndarray, g: np.ndarray) -> dict[str, Callable[[], None]]:
    """NumPy written naively (temporaries) and in place with out= (the best NumPy can do)."""
    z = np.zeros_like
    dt = p.dtype.type
    lr, mu, b1, b2, eps = dt(1e-3), dt(0.9), dt(0.9), dt(0.999), dt(1e-8)
    s1, s2 = dt(1e-3 / (1 - 0.9**2)), dt(np.sqrt(1 - 0.999**2))
    tmp = z(p)
    if kind == "sgd":

        def naive() -> None:
            p[...] = p - lr * g

        def inplace() -> None:
            np.multiply(g, -lr, out=tmp)
            np.add(p, tmp, out=p)

    elif kind in ("momentum", "nesterov"):
        b = z(p)
        nest = kind == "nesterov"

        def naive() -> None:
            b[...] = mu * b + g
            p[...] = p - lr * (g + mu * b if nest else b)

        def inplace() -> None:
            np.multiply(b, mu, out=b)
            np.add(b, g, out=b)
            if nest:
                np.multiply(b, mu, out=tmp)
                np.add(tmp, g, out=tmp)
                np.multiply(tmp, -lr, out=tmp)
            else:
                np.multiply(b, -lr, out=tmp)
            np.add(p, tmp, out=p)

    elif kind == "adagrad":
        s = z(p)

        def naive() -> None:
            s[...] = s + g * g
            p[...] = p - lr * g / (np.sqrt(s) + eps)

        def inplace() -> None:
            np.multiply(g, g, out=tmp)
            np.add(s, tmp, out=s)
            _step_over_root(p, g, s, lr, eps, tmp)

    elif kind == "rmsprop":
        v = z(p)
        a = dt(0.99)

        def naive() -> None:
            v[...] = a * v + (1 - a) * g * g
            p[...] = p - lr * g / (np.sqrt(v) + eps)

        def inplace() -> None:
            _average_square(v, g, a, tmp)
            _step_over_root(p, g, v, lr, eps, tmp)

    else:
        m, v = z(p), z(p)
        decay = dt(1 - 1e-3 * 1e-2) if kind == "adamw" else None

        def naive() -> None:
            if decay is not None:
                p[...] = p * decay
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            p[...] = p - s1 * m / (np.sqrt(v) / s2 + eps)

        def inplace() -> None:
            if decay is not None:
                np.multiply(p, decay, out=p)
            np.multiply(m, b1, out=m)
            np.multiply(g, 1 - b1, out=tmp)
            np.add(m, tmp, out=m)
            _average_square(v, g, b2, tmp)
            _step_over_root(p, m, v, s1, eps, tmp, root_scale=s2)

    return {"numpy": naive, "numpy_inplace": inplace}


def _torch_calls(kind: str, arrays: list[np.ndarray], grads: list[np.ndarray]) -> dict[str, Any]:
    """torch.optim's foreach and fused CPU implementations on the same sizes."""
    try:
        import torch
    except ImportError:
        return {}
    out: dict[str, Callable[[], Any]] = {}
    if kind not in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"):
        return out
    cls = {
        "sgd": torch.optim.SGD,
        "momentum": torch.optim.SGD,
        "nesterov": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }[kind]
    for impl in ("foreach", "fused"):
        params = [torch.from_numpy(a.copy()) for a in arrays]
        for t, g in zip(params, grads):
            t.grad = torch.from_numpy(g)
        try:
            opt = cls(params, **_hyper(kind), **{impl: True})
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            continue  # this implementation does not exist for this optimizer on CPU
        out[f"torch_{impl}"] = opt.step
    return out


def _set_threads(n: int) -> None:
    _core.set_num_threads(n)
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def run(
    sizes: Sequence[int] = (100, 1_000, 100_000, 10_000_000),
    dtypes: Sequence[str] = ("float32", "float64"),
    threads: Sequence[int] = (1, 2),
    kinds: Iterable[str] = KINDS,
    budget: float = 0.3,
    model_like: bool = True,
    torch: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Measure every kind of step at every size, dtype and thread count.

    Contenders per configuration: ``kernel`` (the functional kernel), ``object`` (the
    optimizer class), ``numpy`` and ``numpy_inplace``, ``torch_foreach``/``torch_fused``
    (when torch is importable and ``torch`` is true) and ``copy`` (``np.copyto``, the memory
    yardstick). ``model_like`` adds a list of 100 arrays totalling 1,000 elements.
    """
    rng = np.random.default_rng(0)
    before = _core.get_num_threads()
    results: list[Measurement] = []
    configs: list[tuple[str, int, str, int, int]] = []
    for kind in kinds:
        if kind not in _TRAFFIC:
            raise ValueError(f"kinds: unknown {kind!r}; expected some of {list(_TRAFFIC)}")
        for dtype in dtypes:
            for t in threads:
                for n in sizes:
                    configs.append((kind, n, dtype, t, 1))
                if model_like:
                    configs.append((kind, 1_000, dtype, t, 100))
    _warm_up()
    try:
        for kind, n, dtype, t, n_arrays in configs:
            _set_threads(t)
            if progress:
                progress(f"{kind} n={n:,} {dtype} threads={t} arrays={n_arrays}")
            sizes_list = _split(n, n_arrays, rng)
            arrays = [rng.standard_normal(k).astype(dtype) for k in sizes_list]
            grads = [(rng.standard_normal(k) * 1e-3).astype(dtype) for k in sizes_list]
            contenders: dict[str, Callable[[], Any]] = {}
            params = arrays if n_arrays > 1 else arrays[0]
            g_arg: Any = grads if n_arrays > 1 else grads[0]
            opt = _optimizer(
                kind, [a.copy() for a in arrays] if n_arrays > 1 else arrays[0].copy()
            )
            contenders["object"] = partial(opt.step, g_arg)
            contenders["kernel"] = _list_kernel(kind, params, g_arg, n_arrays)
            if n_arrays == 1:
                contenders.update(_numpy_calls(kind, arrays[0].copy(), grads[0]))
                src, dst = arrays[0], np.empty_like(arrays[0])
                contenders["copy"] = partial(np.copyto, dst, src)
            else:
                per = [_numpy_calls(kind, a.copy(), g) for a, g in zip(arrays, grads)]
                inplace = [d["numpy_inplace"] for d in per]
                contenders["numpy_inplace"] = partial(_call_all, inplace)
            if torch:
                contenders.update(_torch_calls(kind, arrays, grads))
            times = _time_interleaved(contenders, budget)
            m = Measurement(kind, n, dtype, t, n_arrays)
            itemsize = np.dtype(dtype).itemsize
            for name, sec in times.items():
                m.us[name] = sec * 1e6
                traffic = 2 if name == "copy" else _TRAFFIC[kind]
                m.gbps[name] = traffic * n * itemsize / sec / 1e9
            results.append(m)
    finally:
        _set_threads(before)
    return results


def _warm_up(seconds: float = 0.5) -> None:
    """Keep the cores busy for a moment first: the first configuration measured in a cold
    process ran up to 2x slow here (clock ramp-up), which no ratio should inherit."""
    a = np.ones(1 << 16)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        np.sqrt(a, out=a)


def _call_all(fns: list[Callable[[], Any]]) -> None:
    for fn in fns:
        fn()


def _split(n: int, parts: int, rng: np.random.Generator) -> list[int]:
    if parts == 1:
        return [n]
    cuts = np.sort(rng.choice(np.arange(1, n), size=parts - 1, replace=False))
    return [int(x) for x in np.diff(np.concatenate(([0], cuts, [n])))]


def _list_kernel(kind: str, params: Any, grads: Any, n_arrays: int) -> Callable[[], None]:
    if n_arrays == 1:
        return _kernel_call(kind, params.copy(), grads)
    ps = [a.copy() for a in params]
    state = [np.zeros_like(a) for a in ps]
    state2 = [np.zeros_like(a) for a in ps]
    if kind in ("sgd", "momentum", "nesterov"):
        h = _hyper(kind)
        buf = state if "momentum" in h else None
        mu, nest = h.get("momentum", 0.0), h.get("nesterov", False)
        return lambda: kernels.sgd_step(
            ps, grads, buf, lr=1e-3, momentum=mu, nesterov=nest, step=2
        )
    if kind == "adagrad":
        return lambda: kernels.adagrad_step(ps, grads, state, step=2)
    if kind == "rmsprop":
        return lambda: kernels.rmsprop_step(ps, grads, state)
    dec = kind == "adamw"
    return lambda: kernels.adam_step(ps, grads, state, state2, step=2, decoupled_weight_decay=dec)


def format_table(results: Sequence[Measurement]) -> str:
    """One line per configuration: microseconds per step, GB/s and the ratios that matter."""
    head = (
        f"{'kind':<9}{'n':>11}{'arrays':>7}{'dtype':>8}{'thr':>4}"
        f"{'object us':>11}{'kernel us':>11}{'GB/s':>7}{'%copy':>7}"
        f"{'x np':>7}{'x np-inpl':>10}{'x t-foreach':>12}{'x t-fused':>10}"
    )
    lines = [head, "-" * len(head)]
    best = "object"
    for m in results:

        def r(peer: str, m: Measurement = m) -> str:
            v = m.ratio(peer, best)
            return f"{v:.2f}" if v is not None else "-"

        pct = f"{100 * m.gbps[best] / m.gbps['copy']:.0f}" if "copy" in m.gbps else "-"
        lines.append(
            f"{m.kind:<9}{m.n:>11,}{m.arrays:>7}{m.dtype:>8}{m.threads:>4}"
            f"{m.us['object']:>11.3f}{m.us['kernel']:>11.3f}{m.gbps[best]:>7.1f}{pct:>7}"
            f"{r('numpy'):>7}{r('numpy_inplace'):>10}{r('torch_foreach'):>12}{r('torch_fused'):>10}"
        )
    lines.append(
        "x peer = peer's time / saddlepoint optimizer object's time (higher is better); "
        "%copy = GB/s against np.copyto in the same run (a fused in-place step can exceed 100)."
    )
    return "\n".join(lines)


def to_json(results: Sequence[Measurement]) -> list[dict[str, Any]]:
    return [asdict(m) for m in results]
