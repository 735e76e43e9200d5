"""saddlepoint.torch optimizers refuse what they cannot step in place, naming the tensor,
and leave every tensor and all state exactly as they were."""

from __future__ import annotations

import io
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import saddlepoint.torch as spt  # noqa: E402
from torch import nn  # noqa: E402

NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


def snapshot(opt: Any) -> list[Any]:
    """Bytes of every parameter, grad and state tensor, and the groups' settings."""
    out: list[Any] = []
    for group in opt.param_groups:
        out.append(sorted((k, repr(v)) for k, v in group.items() if k != "params"))
        for p in group["params"]:
            out.append(p.detach().clone())
            g = p.grad
            out.append(None if g is None else (g.to_dense() if g.is_sparse else g).clone())
            for key, value in sorted(opt.state.get(p, {}).items()):
                out.append((key, value.detach().clone() if torch.is_tensor(value) else value))
    return out


def same(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if torch.is_tensor(x) or torch.is_tensor(y):
            if not (torch.is_tensor(x) and torch.is_tensor(y) and torch.equal(x, y)):
                return False
        elif isinstance(x, tuple) and torch.is_tensor(x[1]):
            if x[0] != y[0] or not torch.equal(x[1], y[1]):
                return False
        elif x != y:
            return False
    return True


def stepped(name: str, **kw: Any) -> tuple[Any, list[Any]]:
    """An optimizer over two linear layers (two groups) after two steps."""
    torch.manual_seed(0)
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    opt = getattr(spt, name)([{"params": a.parameters()}, {"params": b.parameters()}], **kw)
    x = torch.randn(5, 3)
    for _ in range(2):
        opt.zero_grad()
        b(torch.tanh(a(x))).pow(2).sum().backward()
        opt.step()
    opt.zero_grad()
    b(torch.tanh(a(x))).pow(2).sum().backward()
    return opt, [*a.parameters(), *b.parameters()]


def refused_unchanged(opt: Any, error: type[Exception], match: str) -> list[Any]:
    """opt.step() raises ``error`` matching ``match`` and leaves every tensor and all state
    as they were; returns that state."""
    before = snapshot(opt)
    with pytest.raises(error, match=match):
        opt.step()
    assert same(snapshot(opt), before)
    return before


# ----------------------------------------------------------------------------------------
# At construction (and add_param_group)
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: torch.zeros(4, 3).t(), ValueError, r"params\[1\] \(shape \(3, 4\).*contiguous"),
        (lambda: torch.zeros(3, dtype=torch.complex64), TypeError,
         r"params\[1\] \(shape \(3,\), torch.complex64.*float32 or float64"),
        (lambda: torch.zeros(3, dtype=torch.float16), TypeError,
         r"params\[1\] \(shape \(3,\), torch.float16.*float32 or float64"),
        (lambda: torch.zeros(3, device="meta"), ValueError, r"params\[1\] .*meta.*CPU tensors"),
        (lambda: torch.zeros(3, dtype=torch.float64), TypeError,
         r"params\[1\] .*one dtype, params\[0\] is torch.float32"),
        (lambda: torch.eye(3).to_sparse(), ValueError, r"params\[1\] .*dense"),
    ],
    ids=["non-contiguous", "complex", "float16", "meta", "mixed-dtypes", "sparse-param"],
)  # fmt: skip
def test_refused_tensors_are_named(name: str, make: Any, error: type, match: str) -> None:
    good = nn.Parameter(torch.ones(2))
    bad = nn.Parameter(make())
    with pytest.raises(error, match=match):
        getattr(spt, name)([good, bad], lr=0.1)
    assert torch.equal(good.detach(), torch.ones(2))


@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_refuses_and_adds_nothing(name: str) -> None:
    opt, _ = stepped(name)
    before = snapshot(opt)
    bad = nn.Parameter(torch.zeros(4, 3).t())
    with pytest.raises(ValueError, match=r"param_groups\[2\]\['params'\]\[0\] .*contiguous"):
        opt.add_param_group({"params": [bad]})
    assert len(opt.param_groups) == 2
    assert same(snapshot(opt), before)
    opt.step()  # still works


@pytest.mark.parametrize(
    ("name", "kw", "match"),
    [
        ("Adam", {"capturable": True}, "capturable=True"),
        ("AdamW", {"capturable": True}, "capturable=True"),
        ("RMSprop", {"capturable": True}, "capturable=True"),
        ("Adam", {"differentiable": True}, "differentiable=True"),
        ("SGD", {"differentiable": True}, "differentiable=True"),
        ("Adagrad", {"differentiable": True}, "differentiable=True"),
    ],
)
def test_unsupported_options_are_refused(name: str, kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        getattr(spt, name)([nn.Parameter(torch.ones(2))], **kw)


@pytest.mark.parametrize(
    ("name", "kw", "match"),
    [
        ("Adam", {"lr": -1.0}, "Invalid learning rate"),
        ("SGD", {"lr": -0.1}, "Invalid learning rate"),
        ("Adam", {"betas": (1.0, 0.9)}, "beta"),
        ("RMSprop", {"alpha": -0.5}, "alpha"),
        ("Adagrad", {"eps": 0.0}, "eps: expected a finite value > 0"),
    ],
)
def test_bad_hyperparameters_are_refused(name: str, kw: dict[str, Any], match: str) -> None:
    w = nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match=match):
        getattr(spt, name)([w], **kw)
    assert torch.equal(w.detach(), torch.ones(2))


def test_foreach_and_fused_are_accepted_and_do_not_change_the_step() -> None:
    results = []
    for kw in ({}, {"foreach": True}, {"fused": True}, {"foreach": False}):
        w = nn.Parameter(torch.tensor([1.0, -1.0], dtype=torch.float64))
        opt = spt.Adam([w], lr=0.1, **kw)
        assert not opt._step_supports_amp_scaling  # GradScaler unscales for us
        w.grad = torch.tensor([0.5, 2.0], dtype=torch.float64)
        opt.step()
        results.append(w.detach().clone())
    assert all(torch.equal(r, results[0]) for r in results)


# ----------------------------------------------------------------------------------------
# At a step: bad grads, bad settings written into a group; nothing moves, in any group
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_sparse_grad_is_refused_unchanged(name: str) -> None:
    opt, params = stepped(name)
    params[2].grad = torch.eye(2, 4).to_sparse()  # group 1's weight
    refused_unchanged(opt, ValueError, r"param_groups\[1\]\['params'\]\[0\] .*sparse")


@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_grad_is_refused_unchanged(name: str) -> None:
    opt, params = stepped(name)
    params[2].grad = torch.ones(4, 2).t()
    refused_unchanged(opt, ValueError, r"param_groups\[1\]\['params'\]\[0\] .*not contiguous")


def test_grad_of_another_dtype_is_refused_unchanged() -> None:
    opt, params = stepped("Adam")
    params[1].grad_dtype = None  # torch lets a grad differ from its tensor's dtype then
    params[1].grad = torch.ones(4, dtype=torch.float64)
    refused_unchanged(opt, TypeError, r"params\[1\] .*grad is torch.float64, expected")


@pytest.mark.parametrize(
    ("name", "key", "value", "match"),
    [
        ("Adam", "lr", -1.0, "lr: expected a finite value >= 0"),
        ("Adam", "betas", (0.9, 1.5), r"betas\[1\]"),
        ("SGD", "dampening", 2.0, "dampening"),
        ("RMSprop", "alpha", 1.5, "alpha"),
        ("Adagrad", "eps", -1.0, "eps"),
    ],
)
def test_bad_setting_written_into_a_group_is_refused_unchanged(
    name: str, key: str, value: Any, match: str
) -> None:
    opt, _ = stepped(name, momentum=0.5) if name == "SGD" else stepped(name)
    opt.param_groups[1][key] = value
    before = refused_unchanged(opt, ValueError, match)
    # and once it is put right, the step goes on
    opt.param_groups[1][key] = opt.param_groups[0][key]
    opt.step()
    assert not same(snapshot(opt), before)


def test_switch_needing_state_that_was_never_made_is_refused() -> None:
    """torch raises KeyError when amsgrad is switched on after steps; we name the state."""
    opt, _ = stepped("Adam")
    opt.param_groups[0]["amsgrad"] = True
    refused_unchanged(opt, ValueError, r"params\[0\] .*no 'max_exp_avg_sq'")


@pytest.mark.parametrize("name", NAMES)
def test_mismatched_state_dict_is_refused_unchanged(name: str) -> None:
    opt, _ = stepped(name, momentum=0.5) if name in ("SGD", "RMSprop") else stepped(name)
    sd = opt.state_dict()
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    sd = torch.load(buf)
    key = next(k for k in sd["state"][0] if k != "step")
    sd["state"][0][key] = torch.zeros(7)
    before = snapshot(opt)
    with pytest.raises(ValueError, match=rf"params\[0\] .*state\['{key}'\] has shape \(7,\)"):
        opt.load_state_dict(sd)
    assert same(snapshot(opt), before)
    opt.step()
