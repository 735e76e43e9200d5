"""saddlepoint.torch optimizers against torch.optim itself, over 200 steps of a real model.

The model is a small MLP (64-32-32-10, tanh) on scikit-learn's digits, mini-batches of 64
drawn with a fixed seed, cross-entropy loss; both runs start from the same weights and see
the same batches. The reference is torch.optim's single-tensor implementation (its default
on CPU, ``foreach=False``).

float64: every tensor within 1e-12 of torch's, relative to the tensor's largest value.
float32, two criteria. (1) Where torch has a fused CPU step (all but RMSprop), its fused
and foreach paths disagree with each other by rounding; ours must be within 4x that
measured spread of each of them (where that spread is not 0: plain SGD's fused and foreach
paths agree bit for bit). (2) For every optimizer, the float32 runs against the
float64 run of the same settings: ours must be no further from it than 2x the furthest of
torch's float32 paths (fused and foreach; RMSprop: foreach and single-tensor, which agree
bit for bit, so for RMSprop (2) is the criterion). The measured numbers are in
docs/torch.md (python bench/torch_optim.py --agreement prints them).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

import saddlepoint  # noqa: E402
import saddlepoint.torch as spt  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

STEPS = 200
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]

# every option of each optimizer, one at a time and combined
OPTIONS: dict[str, list[dict[str, Any]]] = {
    "SGD": [
        {"lr": 0.05},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "momentum": 0.5, "weight_decay": 1e-2},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3, "maximize": True},
    ],
    "Adagrad": [
        {"lr": 0.05},
        {"lr": 0.05, "lr_decay": 1e-2},
        {"lr": 0.05, "weight_decay": 1e-2},
        {"lr": 0.05, "initial_accumulator_value": 0.1, "eps": 1e-6},
        {"lr": 0.05, "lr_decay": 1e-3, "weight_decay": 1e-3, "maximize": True},
    ],
    "RMSprop": [
        {"lr": 1e-3},
        {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6},
        {"lr": 1e-3, "momentum": 0.9},
        {"lr": 1e-3, "centered": True},
        {"lr": 1e-3, "centered": True, "momentum": 0.5, "weight_decay": 1e-2},
        {"lr": 1e-3, "momentum": 0.9, "maximize": True},
    ],
    "Adam": [
        {"lr": 1e-2},
        {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 1e-2, "amsgrad": True},
        {"lr": 1e-2, "weight_decay": 1e-2},
        {"lr": 1e-2, "weight_decay": 1e-2, "decoupled_weight_decay": True},
        {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-3, "maximize": True},
    ],
    "AdamW": [
        {"lr": 1e-2},
        {"lr": 1e-2, "weight_decay": 0.1},
        {"lr": 1e-2, "amsgrad": True, "maximize": True},
    ],
}
CASES = [(name, opts) for name in NAMES for opts in OPTIONS[name]]
CASE_IDS = [f"{n}-" + ("-".join(f"{k}={v}" for k, v in o.items())) for n, o in CASES]

_BATCHES: dict[Any, list[tuple[Any, Any]]] = {}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def batches(dtype: Any, steps: int = STEPS, size: int = 64) -> list[tuple[Any, Any]]:
    """``steps`` seeded mini-batches of the digits training set."""
    key = (dtype, steps, size)
    if key not in _BATCHES:
        data = saddlepoint.data.digits()
        X = torch.tensor(data.X_train, dtype=dtype)
        y = torch.tensor(data.y_train)
        rng = np.random.default_rng(0)
        idx = [torch.from_numpy(rng.integers(0, X.shape[0], size)) for _ in range(steps)]
        _BATCHES[key] = [(X[i], y[i]) for i in idx]
    return _BATCHES[key]


def mlp(dtype: Any, seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 10)
    ).to(dtype)


def train(
    model: Any,
    opt: Any,
    data: list[tuple[Any, Any]],
    *,
    sign: float = 1.0,
    scheduler: Any = None,
) -> list[float]:
    """The plain torch loop; ``sign=-1`` for ``maximize=True`` (it then still learns)."""
    losses = []
    for X, y in data:
        opt.zero_grad()
        loss = sign * F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def rel_diff(a: Any, b: Any) -> float:
    """Largest |a - b| of any tensor, relative to that tensor's largest |b|."""
    out = 0.0
    for x, y in zip(a.parameters() if hasattr(a, "parameters") else a, b.parameters()
                    if hasattr(b, "parameters") else b):  # fmt: skip
        x, y = x.detach().double(), y.detach().double()
        out = max(out, float((x - y).abs().max() / y.abs().max().clamp_min(1e-300)))
    return out


def run(
    make: Callable[[Any], Any],
    dtype: Any,
    *,
    sign: float = 1.0,
    scheduler: Callable[[Any], Any] | None = None,
    seed: int = 0,
) -> tuple[Any, Any, list[float]]:
    model = mlp(dtype, seed)
    opt = make(model)
    sched = scheduler(opt) if scheduler is not None else None
    losses = train(model, opt, batches(dtype), sign=sign, scheduler=sched)
    return model, opt, losses


_REFERENCE: dict[str, Any] = {}


def reference(name: str, opts: dict[str, Any], dtype: Any = None) -> tuple[Any, list[float]]:
    """torch.optim's single-tensor run (final model, losses), computed once per setting."""
    dtype = dtype or torch.float64
    key = f"{name}{sorted(opts.items())}{dtype}"
    if key not in _REFERENCE:
        sign = -1.0 if opts.get("maximize") else 1.0
        model, _, losses = run(
            lambda m: torch_class(name)(m.parameters(), foreach=False, **opts), dtype, sign=sign
        )
        _REFERENCE[key] = (model, losses)
    return _REFERENCE[key]


def torch_class(name: str) -> Any:
    return getattr(torch.optim, name)


def ours(name: str) -> Any:
    return getattr(spt, name)


# ----------------------------------------------------------------------------------------
# float64: within 1e-12 of torch.optim over 200 steps, every option
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "opts"), CASES, ids=CASE_IDS)
def test_float64_matches_torch(name: str, opts: dict[str, Any]) -> None:
    sign = -1.0 if opts.get("maximize") else 1.0
    ref, ref_losses = reference(name, opts)
    got, opt, losses = run(lambda m: ours(name)(m.parameters(), **opts), torch.float64, sign=sign)
    assert rel_diff(got, ref) <= 1e-12
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-12, atol=0)
    # it learned something: the check is not between two runs that did nothing
    assert abs(losses[-1]) < 0.8 * abs(losses[0])
    # and it went through the fused engine, not a fallback: one engine per group
    assert opt._saddlepoint_optimizer(0).steps == STEPS


def small_cnn(dtype: Any, seed: int = 0) -> Any:
    """Two 3x3 conv blocks with batch norm on the 8x8 digits, then a linear layer."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 16, 10),
    ).to(dtype)  # fmt: skip


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_small_cnn_has_torchs_loss_curve(dtype: Any) -> None:
    """The issue's CNN check: Adam on a small CNN, same seed, the same loss curve (float64
    1e-12; float32 within the fused/foreach spread, measured on the curve itself)."""

    def curve(make: Callable[[Any], Any]) -> list[float]:
        model = small_cnn(dtype)
        return train(model, make(model), batches(dtype))

    ours_curve = np.array(curve(lambda m: spt.Adam(m.parameters(), lr=3e-3)))
    if dtype == torch.float64:
        ref = np.array(curve(lambda m: torch.optim.Adam(m.parameters(), lr=3e-3, foreach=False)))
        np.testing.assert_allclose(ours_curve, ref, rtol=1e-12, atol=0)
    else:
        fused = np.array(curve(lambda m: torch.optim.Adam(m.parameters(), lr=3e-3, fused=True)))
        each = np.array(curve(lambda m: torch.optim.Adam(m.parameters(), lr=3e-3, foreach=True)))
        spread = np.max(np.abs(fused - each) / np.abs(fused))
        # torch's own two paths drift apart in float32 over 200 steps of a CNN by a spread that
        # depends on the CPU's kernels (6.6e-5 to 1.9e-4 seen on AMD EPYC, below 1e-4 on
        # Intel): the same curve to 0.1%, and a step that differs from torch's only by
        # rounding stays within a few times it
        assert 0 < spread < 1e-3
        deviation = np.max(np.abs(ours_curve - fused) / np.abs(fused))
        assert deviation <= 4 * spread, (deviation, spread)
    assert ours_curve[-20:].mean() < 0.3 * ours_curve[:5].mean()  # it learned


def test_param_groups_with_different_options() -> None:
    def groups(m: Any) -> list[dict[str, Any]]:
        layers = [m[0], m[2], m[4]]
        return [
            {"params": layers[0].parameters(), "lr": 3e-3, "amsgrad": True},
            {"params": layers[1].parameters(), "weight_decay": 1e-2, "betas": (0.8, 0.9)},
            {"params": layers[2].parameters(), "lr": 2e-2, "maximize": False, "eps": 1e-5},
        ]

    ref, _, _ = run(lambda m: torch.optim.Adam(groups(m), lr=1e-2, foreach=False), torch.float64)
    got, opt, _ = run(lambda m: spt.Adam(groups(m), lr=1e-2), torch.float64)
    assert rel_diff(got, ref) <= 1e-12
    assert [opt._saddlepoint_optimizer(i).steps for i in range(3)] == [STEPS] * 3


@pytest.mark.parametrize(
    ("name", "opts", "make_scheduler"),
    [
        ("SGD", {"lr": 0.1, "momentum": 0.9},
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5)),
        ("SGD", {"lr": 0.1, "momentum": 0.9},
         lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=STEPS)),
        ("Adam", {"lr": 1e-2},
         lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=2e-2, total_steps=STEPS)),
        ("AdamW", {"lr": 1e-2},
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50)),
        ("RMSprop", {"lr": 1e-3, "momentum": 0.5},
         lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=2e-3, total_steps=STEPS)),
        ("Adagrad", {"lr": 0.05},
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.99)),
    ],
    ids=["SGD-StepLR", "SGD-OneCycle-momentum", "Adam-OneCycle-betas", "AdamW-cosine",
         "RMSprop-OneCycle-momentum", "Adagrad-exponential"],
)  # fmt: skip
def test_lr_scheduler_drives_them_as_torch(name: str, opts: Any, make_scheduler: Any) -> None:
    ref, ref_opt, _ = run(
        lambda m: torch_class(name)(m.parameters(), foreach=False, **opts), torch.float64,
        scheduler=make_scheduler,
    )  # fmt: skip
    got, opt, _ = run(
        lambda m: ours(name)(m.parameters(), **opts), torch.float64, scheduler=make_scheduler
    )
    assert rel_diff(got, ref) <= 1e-12
    # the schedule really moved what it cycles (OneCycleLR: the momentum or Adam's beta1)
    assert opt.param_groups[0]["lr"] == ref_opt.param_groups[0]["lr"]
    assert opt.param_groups[0]["lr"] != opts["lr"]
    for key in ("betas", "momentum"):
        if key in opts or key in opt.param_groups[0]:
            assert opt.param_groups[0][key] == ref_opt.param_groups[0][key]


# ----------------------------------------------------------------------------------------
# float32: within the agreement torch's own implementations have with each other
# ----------------------------------------------------------------------------------------
def float32_agreement(name: str, opts: dict[str, Any]) -> dict[str, float]:
    """Max relative differences after 200 float32 steps between torch's paths, ours, and
    the float64 run of the same settings (see the module docstring)."""
    sign = -1.0 if opts.get("maximize") else 1.0
    cls = torch_class(name)
    # RMSprop has no fused path: its single-tensor one is the second torch path
    kinds: dict[str, dict[str, Any]] = {"foreach": {"foreach": True}}
    if name == "RMSprop":
        kinds["single"] = {"foreach": False}
    else:
        kinds["fused"] = {"fused": True}
    runs = {
        k: run(lambda m, kw=kw: cls(m.parameters(), **kw, **opts), torch.float32, sign=sign)[0]
        for k, kw in kinds.items()
    }
    got = run(lambda m: ours(name)(m.parameters(), **opts), torch.float32, sign=sign)[0]
    exact = reference(name, opts)[0]
    out = {f"{k}_vs_f64": rel_diff(r, exact) for k, r in runs.items()}
    out["ours_vs_f64"] = rel_diff(got, exact)
    if "fused" in runs:
        out["fused_vs_foreach"] = rel_diff(runs["fused"], runs["foreach"])
        out["ours_vs_fused"] = rel_diff(got, runs["fused"])
        out["ours_vs_foreach"] = rel_diff(got, runs["foreach"])
    return out


@pytest.mark.parametrize(("name", "opts"), CASES, ids=CASE_IDS)
def test_float32_within_torchs_own_agreement(name: str, opts: dict[str, Any]) -> None:
    d = float32_agreement(name, opts)
    if d.get("fused_vs_foreach", 0.0) > 0:  # plain SGD's two paths agree bit for bit
        assert d["ours_vs_fused"] <= 4 * d["fused_vs_foreach"], d
        assert d["ours_vs_foreach"] <= 4 * d["fused_vs_foreach"], d
    torch_worst = max(v for k, v in d.items() if k.endswith("_vs_f64") and k != "ours_vs_f64")
    assert d["ours_vs_f64"] <= 2 * torch_worst, d


# ----------------------------------------------------------------------------------------
# The same classes as torch's: signatures, defaults, isinstance
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_signature_and_defaults_are_torchs(name: str) -> None:
    ours_sig = inspect.signature(ours(name).__init__)
    theirs = inspect.signature(torch_class(name).__init__)
    assert [(p.name, p.kind, p.default) for p in ours_sig.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ]
    w = nn.Parameter(torch.zeros(3))
    opt, ref = ours(name)([w]), torch_class(name)([nn.Parameter(torch.zeros(3))])
    assert isinstance(opt, torch.optim.Optimizer) and isinstance(opt, torch_class(name))
    assert opt.defaults == ref.defaults
    assert {k: v for k, v in opt.param_groups[0].items() if k != "params"} == {
        k: v for k, v in ref.param_groups[0].items() if k != "params"
    }


def test_steps_in_place_without_copies() -> None:
    """The engine's arrays are the tensors' own memory, and its buffers are the state."""
    model = mlp(torch.float32)
    opt = spt.Adam(model.parameters())
    engine = opt._saddlepoint_optimizer()
    for p, a in zip(model.parameters(), engine.params):
        assert a.__array_interface__["data"][0] == p.data_ptr()
    X, y = batches(torch.float32)[0]
    F.cross_entropy(model(X), y).backward()
    before = [p.detach().clone() for p in model.parameters()]
    opt.step()
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    flat = engine._buffers()["exp_avg"]
    start = flat.__array_interface__["data"][0]
    for p in model.parameters():
        ptr = opt.state[p]["exp_avg"].data_ptr()
        assert start <= ptr < start + flat.nbytes


def test_copy_of_model_and_numpy_view_stay_consistent() -> None:
    """What users see through .numpy() and through the tensor is the same step."""
    w = nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    view = w.detach().numpy()
    opt = spt.SGD([w], lr=0.5)
    w.grad = torch.tensor([1.0, -1.0], dtype=torch.float64)
    opt.step()
    np.testing.assert_array_equal(view, [0.5, 2.5])
    assert copy.deepcopy(w).detach().tolist() == [0.5, 2.5]
