"""Runtime dispatch over instruction-set levels (cpp/saddlepoint/dispatch/levels.hpp).

- ``show_config`` names the level in use and those compiled; the one in use is the best this
  CPU runs, unless ``SADDLEPOINT_ISA`` names another, and a name that is unknown or that the
  CPU cannot run fails the import with a message naming the variable;
- the determinism promise per level: same inputs, same level, same thread count, same bits;
- across levels: the optimizer steps, the native sweeps and the surfaces are elementwise and
  built without fused multiply-adds, so every level gives the same bits; reductions (the
  Monitor's sums) and the eigensolvers differ by the order of their SIMD lanes: within 1e-12
  (float64) and 1e-5 (float32) relative to the problem's scale;
- the extension, disassembled: no function outside the x86-64-v3/v4 namespaces holds a VEX or
  EVEX instruction, an AVX register or a BMI/LZCNT/MOVBE instruction, so code shared by all
  levels (the bindings, the C++ standard library's inline functions) runs on any x86-64-v2 CPU.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint import _core, kernels, linalg

CONFIG = _core.build_config()
COMPILED = [level["name"] for level in CONFIG["isa_compiled"]]
RUNNABLE = [level["name"] for level in CONFIG["isa_compiled"] if level["supported"]]


@pytest.fixture
def restore_level():
    before = _core.build_config()["isa"]
    yield
    _core._select_isa(before)


def test_config_names_the_level_in_use_and_those_compiled():
    config = sp.show_config(file=io.StringIO())
    assert config["isa"] in RUNNABLE
    assert config["isa_compiled"] == CONFIG["isa_compiled"]
    for level in config["isa_compiled"]:
        assert set(level) == {"name", "requires", "supported"} and level["requires"]
    if not os.environ.get("SADDLEPOINT_ISA"):
        assert config["isa"] == RUNNABLE[-1]  # the best this CPU runs (lowest first)
    if len(COMPILED) > 1:
        assert COMPILED == ["x86-64-v2", "x86-64-v3", "x86-64-v4"]


def _import_with(value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, SADDLEPOINT_ISA=value)
    code = "import saddlepoint; print(saddlepoint._core.build_config()['isa'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("name", RUNNABLE)
def test_environment_variable_forces_a_level(name):
    done = _import_with(name)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == name


def test_environment_variable_with_an_unknown_level_fails_the_import_naming_it():
    done = _import_with("x86-64-v9")
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "SADDLEPOINT_ISA=x86-64-v9" in done.stderr
    for name in COMPILED:
        assert name in done.stderr  # the message lists what this build has


def test_select_rejects_unknown_names_and_keeps_the_level(restore_level):
    before = _core.build_config()["isa"]
    with pytest.raises(ValueError, match="name: no kernels compiled for 'avx9000'"):
        _core._select_isa("avx9000")
    assert _core.build_config()["isa"] == before


# --- the same computation at every level ------------------------------------------------------


def _adam(dtype, n, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(n).astype(dtype)
    m, v = np.zeros_like(p), np.zeros_like(p)
    for t in range(1, 6):
        g = rng.standard_normal(n).astype(dtype)
        kernels.adam_step(p, g, m, v, step=t, lr=1e-2, weight_decay=0.01)
    return [p, m, v]


def _per_row_sgd(dtype, seed=1):
    # short rows with per-row hyper-parameters: the sweep path of the kernels
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((37, 5)).astype(dtype)
    buf = np.zeros_like(p)
    lr = np.linspace(1e-3, 0.3, 37)
    for t in range(1, 5):
        g = rng.standard_normal(p.shape).astype(dtype)
        kernels.sgd_step(p, g, buf, lr=lr, momentum=0.9, nesterov=True, step=t)
    return [p, buf]


def _rmsprop_adagrad(dtype, seed=2):
    rng = np.random.default_rng(seed)
    p1 = rng.standard_normal(3001).astype(dtype)
    p2 = p1.copy()
    sq, avg, buf, s = (np.zeros_like(p1) for _ in range(4))
    for t in range(1, 5):
        g = rng.standard_normal(p1.shape).astype(dtype)
        kernels.rmsprop_step(p1, g, sq, avg, buf, lr=1e-2, centered=True, momentum=0.5)
        kernels.adagrad_step(p2, g, s, step=t, lr=0.1, lr_decay=0.01)
    return [p1, sq, avg, buf, p2, s]


def _sweep(dtype):
    runs, steps = 300, 40
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (runs, 2)).astype(dtype)
    hyper = {
        "lr": np.linspace(1e-3, 2e-2, runs),
        "beta1": np.full(runs, 0.9),
        "beta2": np.full(runs, 0.999),
        "eps": np.full(runs, 1e-8),
        "weight_decay": np.zeros(runs),
    }
    out = _core.native_sweep(
        "rosenbrock", x, steps, "adam", hyper, np.full(runs, -1), np.zeros((1, steps))
    )
    values, grads = _core.native_surface_value_grad("himmelblau", x)
    return [x, out["final_loss"], out["best_loss"], out["threshold_step"], values, grads]


ELEMENTWISE = {
    "adam 1e3": lambda dt: _adam(dt, 1000),
    "adam 1e5": lambda dt: _adam(dt, 100_003),
    "sgd per-row": _per_row_sgd,
    "rmsprop+adagrad": _rmsprop_adagrad,
    "native sweep": _sweep,
}


def _instrumented_sums(dtype):
    rng = np.random.default_rng(4)
    p = rng.standard_normal(50_001).astype(dtype)
    opt = sp.optim.Adam([p], lr=1e-2)
    opt._engine._set_instrumented(True)
    sums = []
    for _ in range(3):
        opt.step([rng.standard_normal(p.shape).astype(dtype)])
        sums.append(opt._engine._step_sums()[0].copy())
    return [p, np.array(sums)]


def _eigh(dtype):
    # the eigenvalues; the eigenvectors of close eigenvalues are ill-conditioned, so each level
    # is held to its own residual instead (below)
    rng = np.random.default_rng(5)
    out = []
    for n in (3, 8, 32):
        a = rng.standard_normal((40, n, n))
        a = (a + np.swapaxes(a, 1, 2)).astype(dtype)
        w, v = linalg.eigh(a)
        a64, w64, v64 = a.astype(np.float64), w.astype(np.float64), v.astype(np.float64)
        residual = np.abs(a64 @ v64 - v64 * w64[:, None, :]).max() / np.abs(a64).max()
        assert residual < 50 * np.finfo(dtype).eps * n, (n, residual)
        out.append(w)
    return out


REDUCING = {"instrumented sums": _instrumented_sums, "eigh 3/8/32": _eigh}
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _at_level(name, fn, dtype):
    _core._select_isa(name)
    return fn(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted({**ELEMENTWISE, **REDUCING}))
def test_each_level_is_deterministic(case, dtype, restore_level):
    fn = {**ELEMENTWISE, **REDUCING}[case]
    for name in RUNNABLE:
        first, again = _at_level(name, fn, dtype), _at_level(name, fn, dtype)
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b, err_msg=f"{case} at {name}")


@pytest.mark.skipif(len(RUNNABLE) < 2, reason="one compiled level runs here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
def test_elementwise_kernels_give_the_same_bits_at_every_level(case, dtype, restore_level):
    reference = _at_level(RUNNABLE[0], ELEMENTWISE[case], dtype)
    for name in RUNNABLE[1:]:
        for a, b in zip(reference, _at_level(name, ELEMENTWISE[case], dtype)):
            np.testing.assert_array_equal(a, b, err_msg=f"{case}: {RUNNABLE[0]} vs {name}")


@pytest.mark.skipif(len(RUNNABLE) < 2, reason="one compiled level runs here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(REDUCING))
def test_reductions_agree_across_levels_within_tolerance(case, dtype, restore_level):
    reference = _at_level(RUNNABLE[0], REDUCING[case], dtype)
    for name in RUNNABLE[1:]:
        for a, b in zip(reference, _at_level(name, REDUCING[case], dtype)):
            scale = float(np.nanmax(np.abs(a.astype(np.float64)))) or 1.0  # NaN: not measured
            np.testing.assert_allclose(
                b, a, rtol=0, atol=TOL[dtype] * scale, err_msg=f"{case}: {RUNNABLE[0]} vs {name}"
            )


# --- the disassembly ------------------------------------------------------------------------

# Instructions a CPU of the lowest level may lack: VEX/EVEX-encoded ones (AT&T mnemonics
# starting with v: vmovsd, vfmadd..., vzeroupper), anything on ymm/zmm or mask registers, and
# the scalar BMI1/BMI2/LZCNT/MOVBE instructions that x86-64-v3 brings.
_V3_MNEMONIC = re.compile(
    r"^(v(?!err|erw)\w+|andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|"
    r"lzcnt|movbe)\b"
)
_V3_OPERAND = re.compile(r"%(ymm|zmm)\d+|%k[0-7]\b|\{%k[0-7]\}")
_LEVEL_CODE = re.compile(r"x86_64_v[34]")  # the v3/v4 namespaces, their Eigen and their tables


def _functions(path: str) -> dict[int, tuple[str, list[str]]]:
    """(demangled name, instructions) per function of the extension's text, by address: names
    repeat (each translation unit's local clone of a library function has the same one)."""
    text = subprocess.run(
        [shutil.which("objdump"), "-d", "-C", "--no-show-raw-insn", "-j", ".text", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    functions: dict[int, tuple[str, list[str]]] = {}
    body: list[str] = []
    for line in text.splitlines():
        head = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if head:
            body = []
            functions[int(head.group(1), 16)] = (head.group(2), body)
        elif "\t" in line:
            body.append(line.split("\t", 1)[1].strip())
    return functions


def _direct_callers(functions: dict[int, tuple[str, list[str]]]) -> dict[int, set[int]]:
    """Callee -> the functions that call or jump to its start directly (not by pointer)."""
    callers: dict[int, set[int]] = {}
    for address, (_, body) in functions.items():
        for ins in body:
            target = re.match(r"^(?:call|jmp)\w*\s+([0-9a-f]+) <", ins)
            if target:
                callee = int(target.group(1), 16)
                if callee != address and callee in functions:
                    callers.setdefault(callee, set()).add(address)
    return callers


def _needs_v3(body: list[str]) -> list[str]:
    return [ins for ins in body if _V3_MNEMONIC.match(ins) or _V3_OPERAND.search(ins)]


@pytest.mark.skipif(
    "x86-64-v2" not in COMPILED or shutil.which("objdump") is None,
    reason="needs a portable x86-64 build (levels v2-v4) and objdump",
)
def test_no_code_outside_the_v3_v4_namespaces_needs_more_than_x86_64_v2():
    # Code outside the v3/v4 namespaces with an AVX instruction is safe only when nothing but
    # v3/v4 code can reach it: GCC's local clones of a library function made inside a v3/v4
    # translation unit ("std::__introsort_loop<double*, ...> [clone .isra.0]") are such code.
    # So: a function is confined to the levels when it has direct callers and all of them are
    # level code or confined themselves (to a fixed point); every other function outside the
    # namespaces, reachable from the bindings, the lowest level or a pointer, must be clean.
    functions = _functions(_core.__file__)
    callers = _direct_callers(functions)
    confined = {a for a, (name, _) in functions.items() if _LEVEL_CODE.search(name)}
    level_code = len(confined)
    grew = True
    while grew:
        grew = False
        for address in functions:
            calls = callers.get(address, set())
            if address not in confined and calls and calls <= confined:
                confined.add(address)
                grew = True
    offenders = {
        f"{name} at {address:#x}": _needs_v3(body)[:3]
        for address, (name, body) in functions.items()
        if address not in confined and _needs_v3(body)
    }
    shared = len(functions) - len(confined)
    assert level_code > 100 and shared > 100  # both kinds were found and examined
    assert not offenders, "\n".join(f"{n}: {b}" for n, b in list(offenders.items())[:20])


@pytest.mark.skipif(
    "x86-64-v4" not in RUNNABLE or shutil.which("objdump") is None,
    reason="needs the x86-64-v4 level on this CPU and objdump",
)
def test_the_v4_level_uses_avx512_and_the_v3_level_avx2():
    # the levels are what they say: their Adam step holds zmm (v4) and ymm but no zmm (v3)
    seen = {"v3": set(), "v4": set()}
    for name, body in _functions(_core.__file__).values():
        for level in seen:
            if f"x86_64_{level}::adam_step<float>" in name:
                seen[level] |= {r for ins in body for r in re.findall(r"%([xyz]mm)\d+", ins)}
    assert "zmm" in seen["v4"]
    assert "ymm" in seen["v3"] and "zmm" not in seen["v3"]
