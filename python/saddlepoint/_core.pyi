# Hand-written stub of the compiled module saddlepoint._core; tests/test_stub.py checks that
# its names equal the module's. Each area has its own section.
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

_Array = NDArray[np.floating[Any]]
_Arrays = _Array | Sequence[_Array]
_Hyper = float | NDArray[Any]

__version__: str

# --- config (cpp/bindings/bind_config.cpp) ---------------------------------------------------
def build_config() -> dict[str, Any]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def _select_isa(name: str) -> None: ...

# --- kernels (cpp/bindings/bind_kernels.cpp) -------------------------------------------------
def sgd_step(
    param: _Arrays,
    grad: _Arrays,
    momentum_buffer: _Arrays | None = None,
    *,
    lr: _Hyper,
    momentum: _Hyper = 0.0,
    dampening: _Hyper = 0.0,
    nesterov: bool = False,
    weight_decay: _Hyper = 0.0,
    maximize: bool = False,
    step: int | None = None,
) -> None: ...
def adagrad_step(
    param: _Arrays,
    grad: _Arrays,
    state_sum: _Arrays,
    *,
    step: int,
    lr: _Hyper = 0.01,
    lr_decay: _Hyper = 0.0,
    weight_decay: _Hyper = 0.0,
    eps: _Hyper = 1e-10,
    maximize: bool = False,
) -> None: ...
def rmsprop_step(
    param: _Arrays,
    grad: _Arrays,
    square_avg: _Arrays,
    grad_avg: _Arrays | None = None,
    momentum_buffer: _Arrays | None = None,
    *,
    lr: _Hyper = 0.01,
    alpha: _Hyper = 0.99,
    eps: _Hyper = 1e-8,
    weight_decay: _Hyper = 0.0,
    momentum: _Hyper = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> None: ...
def adam_step(
    param: _Arrays,
    grad: _Arrays,
    exp_avg: _Arrays,
    exp_avg_sq: _Arrays,
    max_exp_avg_sq: _Arrays | None = None,
    *,
    step: int,
    lr: _Hyper = 1e-3,
    betas: tuple[_Hyper, _Hyper] = (0.9, 0.999),
    eps: _Hyper = 1e-8,
    weight_decay: _Hyper = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> None: ...

# --- optim (cpp/bindings/bind_optim.cpp) -----------------------------------------------------
# grads as raw addresses of live contiguous arrays (the torch bridge's fast path)
class GradAddresses:
    def __init__(self, addresses: Sequence[int], sizes: Sequence[int]) -> None: ...

class Engine:
    @property
    def params(self) -> list[_Array]: ...
    @property
    def _is_list(self) -> bool: ...
    def _buffers(self) -> dict[str, _Array]: ...
    steps: int
    lr: Any
    @property
    def schedule(self) -> Callable[[int], float] | None: ...
    # the Monitor's instruments inside the step (SGD and Adam/AdamW engines)
    def _set_instrumented(self, on: bool) -> None: ...
    @property
    def _instrumented(self) -> bool: ...
    def _step_sums(self) -> NDArray[np.float64] | None: ...
    @property
    def _sums_step(self) -> int: ...

class SGDEngine(Engine):
    def __init__(
        self,
        params: _Arrays,
        state: dict[str, _Array],
        lr: Any,
        momentum: _Hyper,
        dampening: _Hyper,
        weight_decay: _Hyper,
        nesterov: bool,
        maximize: bool,
    ) -> None: ...
    def step(self, grads: _Arrays) -> None: ...
    hyper_names: ClassVar[tuple[str, ...]]
    momentum: Any
    dampening: Any
    weight_decay: Any
    @property
    def nesterov(self) -> bool: ...
    @property
    def maximize(self) -> bool: ...
    _buffer_initialized: bool

class AdagradEngine(Engine):
    def __init__(
        self,
        params: _Arrays,
        state: dict[str, _Array],
        lr: Any,
        lr_decay: _Hyper,
        weight_decay: _Hyper,
        eps: _Hyper,
        maximize: bool,
    ) -> None: ...
    def step(self, grads: _Arrays) -> None: ...
    hyper_names: ClassVar[tuple[str, ...]]
    lr_decay: Any
    weight_decay: Any
    eps: Any
    @property
    def maximize(self) -> bool: ...

class RMSpropEngine(Engine):
    def __init__(
        self,
        params: _Arrays,
        state: dict[str, _Array],
        lr: Any,
        alpha: _Hyper,
        eps: _Hyper,
        weight_decay: _Hyper,
        momentum: _Hyper,
        centered: bool,
        maximize: bool,
    ) -> None: ...
    def step(self, grads: _Arrays) -> None: ...
    hyper_names: ClassVar[tuple[str, ...]]
    alpha: Any
    eps: Any
    weight_decay: Any
    momentum: Any
    @property
    def centered(self) -> bool: ...
    @property
    def maximize(self) -> bool: ...

class AdamEngine(Engine):
    def __init__(
        self,
        params: _Arrays,
        state: dict[str, _Array],
        lr: Any,
        betas: tuple[_Hyper, _Hyper],
        eps: _Hyper,
        weight_decay: _Hyper,
        amsgrad: bool,
        maximize: bool,
        decoupled_weight_decay: bool,
    ) -> None: ...
    def step(self, grads: _Arrays) -> None: ...
    hyper_names: ClassVar[tuple[str, ...]]
    betas: tuple[Any, Any]
    eps: Any
    weight_decay: Any
    @property
    def amsgrad(self) -> bool: ...
    @property
    def maximize(self) -> bool: ...
    @property
    def decoupled_weight_decay(self) -> bool: ...

# --- linalg (cpp/bindings/bind_linalg.cpp) ---------------------------------------------------
def eigh_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> tuple[Any, Any]: ...
def eigvalsh_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> Any: ...
def inertia_stack(
    a: Any,
    *,
    symmetrize: bool = False,
    symmetry_rtol: float | None = None,
    rtol: float,
    atol: float = 0.0,
    name: str = "a",
) -> tuple[Any, Any, Any]: ...
def check_symmetric_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> None: ...

# --- sweep (cpp/bindings/bind_sweep.cpp) -----------------------------------------------------
def native_sweep_surfaces() -> list[str]: ...
def native_surface_value_grad(
    surface: str, x: NDArray[Any], matrix: NDArray[Any] | None = None
) -> tuple[NDArray[Any], NDArray[Any]]: ...
def native_sweep(
    surface: str,
    x: NDArray[Any],
    steps: int,
    optimizer: str,
    hyper: dict[str, NDArray[Any]],
    lr_index: NDArray[Any],
    lr_table: NDArray[Any],
    matrix: NDArray[Any] | None = None,
    threshold: float = ...,
    divergence: float = 1e12,
    flags: dict[str, bool] = ...,
) -> dict[str, NDArray[Any]]: ...

# --- monitor (cpp/bindings/bind_monitor.cpp) -------------------------------------------------
step_sum_names: tuple[str, ...]

def observe_params(
    grad: _Arrays,
    param: _Arrays,
    last_param: _Array,
    direction: _Array,
    initial: _Array | None = None,
) -> NDArray[np.float64]: ...
def observe_gradient(
    grad: _Arrays,
    buffer: _Array | None,
    direction: _Array,
    displacement: _Array,
    lr: float,
    momentum: float,
    first: bool,
) -> NDArray[np.float64]: ...

monitor_columns: int

class MonitorLog:
    def __init__(
        self, window: int, ema_weight: float, loss_atol: float, params_known: bool
    ) -> None: ...
    def watch(self, engine: Engine | None) -> None: ...
    def record_step(
        self,
        loss: float,
        noise_scale: float = ...,
        gsnr: float = ...,
        loss_noise: float = ...,
        noise_trace: float = ...,
        noise_signal: float = ...,
    ) -> int: ...
    def record_sums(
        self,
        loss: float,
        lr: float,
        sums: NDArray[np.float64],
        noise_scale: float,
        gsnr: float,
        loss_noise: float,
        noise_trace: float,
        noise_signal: float,
    ) -> int: ...
    def window_stats(
        self, lo: int, n: int
    ) -> tuple[float, float, float, float, float, float, float, int]: ...
    @property
    def table(self) -> NDArray[np.float64]: ...
    @property
    def rows(self) -> int: ...
    def load(self, table: NDArray[np.float64]) -> None: ...
    window: int
    last_observed: int
    start: int
    fresh: bool
    have_last: bool
    last_loss: float
    lowest_loss: float
    max_grad_norm: float
    first_effective_lr: float
