"""saddlepoint.torch optimizers keep torch's bookkeeping: state_dict in torch's format both
ways, lazily created state, skipped tensors without a grad, replaced grads and tensors,
added groups, closures, hooks, autograd's version counter, copies. The reference is always
torch.optim running the same loop (float64, within 1e-12, or bit for bit where the same
state must continue the same way)."""

from __future__ import annotations

import copy
import io
import pickle
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import saddlepoint.torch as spt  # noqa: E402
from torch import nn  # noqa: E402

F64 = torch.float64
# settings that make every kind of state each optimizer has
FULL = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    "Adagrad": {"lr": 0.05, "lr_decay": 1e-2, "initial_accumulator_value": 0.1},
    "RMSprop": {"lr": 1e-3, "momentum": 0.5, "centered": True},
    "Adam": {"lr": 1e-2, "amsgrad": True},
    "AdamW": {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1},
}
NAMES = list(FULL)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def model(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).to(F64)


def data(steps: int, seed: int = 1) -> list[tuple[Any, Any]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 5, generator=g, dtype=F64), torch.randn(16, 3, generator=g,
             dtype=F64)) for _ in range(steps)]  # fmt: skip


def loop(m: Any, opt: Any, batches: list[Any], before_step: Callable[..., Any] | None = None,
         set_to_none: bool = True, start: int = 0) -> None:  # fmt: skip
    for k, (x, y) in enumerate(batches, start):
        opt.zero_grad(set_to_none=set_to_none)
        ((m(x) - y) ** 2).mean().backward()
        if before_step is not None:
            before_step(k, m, opt)
        opt.step()


def close(a: Any, b: Any, tol: float = 1e-12) -> bool:
    for x, y in zip(a.parameters(), b.parameters()):
        if (x - y).abs().max() > tol * y.abs().max():
            return False
    return True


def identical(a: Any, b: Any) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def saved(sd: dict[str, Any]) -> dict[str, Any]:
    """A state dict through torch.save / torch.load, as a checkpoint file."""
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    return torch.load(buf)


def pair(name: str, **kw: Any) -> tuple[Any, Any, Any, Any]:
    opts = {**FULL[name], **kw}
    a, b = model(), model()
    # torch's default on CPU tensors is its single-tensor path (foreach=None)
    return (
        a,
        getattr(spt, name)(a.parameters(), **opts),
        b,
        getattr(torch.optim, name)(b.parameters(), **opts),
    )


# ----------------------------------------------------------------------------------------
# state_dict: torch's format, both ways
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_has_torchs_layout(name: str) -> None:
    a, ours, b, ref = pair(name)
    batches = data(3)
    loop(a, ours, batches)
    loop(b, ref, batches)
    got, want = ours.state_dict(), ref.state_dict()
    assert got["param_groups"] == want["param_groups"]
    assert got["state"].keys() == want["state"].keys()
    for k in want["state"]:
        assert list(got["state"][k]) == list(want["state"][k])  # keys, in torch's order
        for key, value in want["state"][k].items():
            mine = got["state"][k][key]
            assert (mine.dtype, mine.shape) == (value.dtype, value.shape), key
            torch.testing.assert_close(mine, value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_from_ours_continues_in_torch_and_back(name: str) -> None:
    batches = data(40)
    # ours for 20 steps, checkpoint; torch.optim continues from it
    a, ours, _, _ = pair(name)
    loop(a, ours, batches[:20])
    sd = saved(ours.state_dict())
    b = copy.deepcopy(a)
    ref = getattr(torch.optim, name)(b.parameters())
    ref.load_state_dict(sd)
    assert ref.param_groups[0]["lr"] == FULL[name]["lr"]  # the settings came with it
    for p, q in zip(a.parameters(), b.parameters()):  # the state arrived bit for bit
        for key, value in ours.state[p].items():
            assert torch.equal(ref.state[q][key], value), key
    loop(b, ref, batches[20:])
    loop(a, ours, batches[20:])
    assert close(a, b)
    # and torch's checkpoint back into a fresh one of ours, which continues as torch does
    sd = saved(ref.state_dict())
    c = copy.deepcopy(b)
    back = getattr(spt, name)(c.parameters())
    back.load_state_dict(sd)
    for p, q in zip(c.parameters(), b.parameters()):
        for key, value in ref.state[q].items():
            assert torch.equal(back.state[p][key], value), key
    more = data(10, seed=2)
    loop(c, back, more)
    loop(b, ref, more)
    assert close(c, b)
    if name != "SGD":  # the engine took over the count (SGD has none)
        assert back._saddlepoint_optimizer().steps == 50


@pytest.mark.parametrize("name", NAMES)
def test_resumed_run_continues_bit_for_bit(name: str) -> None:
    batches = data(30)
    a, ours, _, _ = pair(name)
    loop(a, ours, batches)
    b, resumed, _, _ = pair(name)
    loop(b, resumed, batches[:15])
    sd = saved(resumed.state_dict())
    c = copy.deepcopy(b)
    fresh = getattr(spt, name)(c.parameters())
    fresh.load_state_dict(sd)
    loop(c, fresh, batches[15:])
    assert identical(a, c)


def test_loading_changes_settings_and_switches() -> None:
    """A loaded state dict brings its groups' settings (torch's rule), switches included."""
    _, _, b, ref = pair("Adam")
    loop(b, ref, data(5))
    plain = spt.Adam(model().parameters(), lr=0.5)  # amsgrad=False
    plain.load_state_dict(saved(ref.state_dict()))
    assert plain.param_groups[0]["amsgrad"] is True
    assert plain.param_groups[0]["lr"] == FULL["Adam"]["lr"]
    assert "max_exp_avg_sq" in plain._saddlepoint_optimizer()._buffers()


# ----------------------------------------------------------------------------------------
# torch's per-tensor semantics: lazy state, skipped tensors, own step counts
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_tensors_without_grad_are_skipped_as_torch_does(name: str) -> None:
    """The last layer gets no grad on every third step and the first layer none for the
    first five: torch skips them and keeps a step count per tensor; so must we."""

    def drop(k: int, m: Any, opt: Any) -> None:
        if k % 3 == 0:
            m[2].weight.grad = None
            m[2].bias.grad = None
        if k < 5:
            m[0].weight.grad = None

    a, ours, b, ref = pair(name)
    batches = data(30)
    loop(a, ours, batches[:1], drop)
    loop(b, ref, batches[:1], drop)
    assert ours.state_dict()["state"].keys() == ref.state_dict()["state"].keys()
    loop(a, ours, batches[1:], drop, start=1)
    loop(b, ref, batches[1:], drop, start=1)
    assert close(a, b)
    if name != "SGD":
        steps = [int(ours.state[p]["step"]) for p in a.parameters()]
        assert steps == [int(ref.state[q]["step"]) for q in b.parameters()]
        assert steps == [25, 30, 20, 20]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_either_way_matches_torch(set_to_none: bool) -> None:
    a, ours, b, ref = pair("Adam")
    batches = data(20)
    loop(a, ours, batches, set_to_none=set_to_none)
    loop(b, ref, batches, set_to_none=set_to_none)
    assert close(a, b)
    ours.zero_grad(set_to_none=set_to_none)
    ref.zero_grad(set_to_none=set_to_none)
    for p, q in zip(a.parameters(), b.parameters()):
        assert (p.grad is None) == (q.grad is None) == set_to_none
    if set_to_none:
        assert all(plan.grads == [] for plan in ours._plans)  # no reference kept either


@pytest.mark.parametrize("name", NAMES)
def test_replaced_grads_and_tensors_are_followed(name: str) -> None:
    """p.grad replaced by a new tensor, p.grad.data and p.data given new storage: the step
    uses what the tensors hold now."""

    def meddle(k: int, m: Any, opt: Any) -> None:
        if k == 3:
            m[0].weight.grad = m[0].weight.grad.clone() * 2
        if k == 5:
            m[0].bias.grad.data = m[0].bias.grad.data.clone()
        if k == 7:
            m[2].weight.data = m[2].weight.data.clone()

    a, ours, b, ref = pair(name)
    batches = data(12)
    loop(a, ours, batches, meddle, set_to_none=False)
    loop(b, ref, batches, meddle, set_to_none=False)
    assert close(a, b)
    engine = ours._saddlepoint_optimizer()
    assert engine.params[2].__array_interface__["data"][0] == a[2].weight.data_ptr()


def test_same_grads_stepped_again_are_read_again() -> None:
    """A grad changed in place between steps (same tensor) is read afresh."""
    w = nn.Parameter(torch.zeros(3, dtype=F64))
    ours = spt.SGD([w], lr=1.0)
    w.grad = torch.ones(3, dtype=F64)
    ours.step()
    w.grad.mul_(2)
    ours.step()
    assert w.detach().tolist() == [-3.0, -3.0, -3.0]


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad"])
def test_add_param_group_mid_run_matches_torch(name: str) -> None:
    def build(cls: Any, m: Any, **kw: Any) -> Any:
        return cls(m[0].parameters(), **FULL[name], **kw)

    a, b = model(), model()
    ours, ref = build(getattr(spt, name), a), build(getattr(torch.optim, name), b, foreach=False)
    if name == "Adagrad":  # torch's Adagrad makes its state only in __init__
        extra = {"params": list(b[2].parameters()), "lr": 0.02}
        ref.add_param_group(extra)
        for p in extra["params"]:
            ref.state[p] = {"step": torch.tensor(0.0), "sum": torch.full_like(p, 0.1)}
    batches = data(20)
    loop(a, ours, batches[:8])
    if name != "Adagrad":
        loop(b, ref, batches[:8])
        ref.add_param_group({"params": b[2].parameters(), "lr": 0.02})
    else:
        for group in ref.param_groups[1:]:
            for p in group["params"]:
                p.requires_grad_(False)
        loop(b, ref, batches[:8])
        for group in ref.param_groups[1:]:
            for p in group["params"]:
                p.requires_grad_(True)
    ours.add_param_group({"params": a[2].parameters(), "lr": 0.02})
    loop(a, ours, batches[8:])
    loop(b, ref, batches[8:])
    assert close(a, b)


# ----------------------------------------------------------------------------------------
# The rest of torch.optim.Optimizer's contract
# ----------------------------------------------------------------------------------------
def test_closure_hooks_and_profiler() -> None:
    a, ours, _, _ = pair("Adam")
    x, y = data(1)[0]
    calls: list[str] = []
    ours.register_step_pre_hook(lambda opt, args, kw: calls.append("pre"))
    ours.register_step_post_hook(lambda opt, args, kw: calls.append("post"))

    def closure() -> Any:
        ours.zero_grad()
        loss = ((a(x) - y) ** 2).mean()
        loss.backward()
        return loss

    loss = ours.step(closure)
    assert calls == ["pre", "post"] and loss.requires_grad
    with torch.profiler.profile() as prof:
        ours.step(closure)
    assert any(e.name == "Optimizer.step#Adam.step" for e in prof.events())


def test_step_bumps_autograd_version_as_torch_does() -> None:
    """A graph that saved a parameter before the step must not backpropagate after it."""
    w = nn.Parameter(torch.ones(3, dtype=F64))
    ours = spt.SGD([w], lr=0.1)
    w.grad = torch.ones(3, dtype=F64)
    loss = (w * w).sum()  # saves w
    ours.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_continue_like_the_original(how: str) -> None:
    a, ours, _, _ = pair("RMSprop")
    batches = data(10)
    loop(a, ours, batches[:5])
    if how == "deepcopy":
        b, copied = copy.deepcopy((a, ours))
    else:
        b, copied = pickle.loads(pickle.dumps((a, ours)))
    loop(a, ours, batches[5:])
    loop(b, copied, batches[5:])
    assert identical(a, b)


def test_saddlepoint_optimizer_per_group_and_instruments_carry_over() -> None:
    a = model()
    ours = spt.Adam([{"params": a[0].parameters()}, {"params": a[2].parameters()}])
    first = ours._saddlepoint_optimizer(0)
    assert [p.shape for p in first.params] == [(8, 5), (8,)]
    assert [p.shape for p in ours._saddlepoint_optimizer(1).params] == [(3, 8), (3,)]
    with pytest.raises(IndexError, match="group_index"):
        ours._saddlepoint_optimizer(2)
    first._engine._set_instrumented(True)
    a[0].weight.data = a[0].weight.data.clone()  # new storage: the group's engine is rebuilt
    loop(a, ours, data(1))
    again = ours._saddlepoint_optimizer(0)
    assert again is not first and again._engine._instrumented
    assert again._engine._step_sums() is not None
