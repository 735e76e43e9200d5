# Hand-written stub of the compiled module saddlepoint._core; tests/test_stub.py checks that
# its names equal the module's. Each area has its own section.
from typing import Any

__version__: str

# --- config (cpp/bindings/bind_config.cpp) ---------------------------------------------------
def build_config() -> dict[str, Any]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...

# --- kernels (cpp/bindings/bind_kernels.cpp) -------------------------------------------------

# --- optim (cpp/bindings/bind_optim.cpp) -----------------------------------------------------

# --- linalg (cpp/bindings/bind_linalg.cpp) ---------------------------------------------------
def eigh_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> tuple[Any, Any]: ...
def eigvalsh_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> Any: ...
def check_symmetric_stack(
    a: Any, *, symmetrize: bool = False, symmetry_rtol: float | None = None, name: str = "a"
) -> None: ...

# --- sweep (cpp/bindings/bind_sweep.cpp) -----------------------------------------------------
