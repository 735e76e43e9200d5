"""compare_fixes: the lecture's remedies ranked against plain GD (saddlepoint.experiments)."""

from __future__ import annotations

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint import schedules
from saddlepoint.cli import main
from saddlepoint.experiments import compare_fixes, format_fixes, plot_fixes

pytest.importorskip("pandas")

NEAR_SADDLE = [0.011, -0.01]  # tiny_network's saddle is the origin
LRS = np.logspace(-3, 0, 5)
# the lecture's settings, restated: momentum and Nesterov use 0.9; the rest their defaults
MOMENTUM = {"momentum": {"momentum": 0.9}, "Nesterov": {"momentum": 0.9, "nesterov": True}}


def _replay(surface, x0, row, steps):
    """The fix's single run by hand with saddlepoint.optim: (losses before each step, end)."""
    name, hyper = row["optimizer"], MOMENTUM.get(row["fix"].split(" + ")[0], {})
    lr = row["best_lr"]
    if row["schedule"] == "decay":
        lr = schedules.cosine(lr, T_max=steps)
    elif row["schedule"] == "warm-up":
        lr = schedules.linear_warmup(lr, warmup_steps=max(1, steps // 10))
    x = np.array(x0, dtype=float)
    opt = sp.optim.create(name, [x], lr=lr, **hyper)
    losses = []
    for _ in range(steps):
        losses.append(float(surface.value(x)))
        opt.step([surface.grad(x)])
    losses.append(float(surface.value(x)))
    return np.array(losses)


@pytest.fixture(scope="module")
def tiny():
    return compare_fixes("tiny_network", x0=NEAR_SADDLE, steps=100, seed=0)


def test_tiny_network_momentum_and_adam_beat_plain_gd_at_the_saddle(tiny):
    rank = dict(zip(tiny["fix"], tiny["rank"]))
    assert rank["momentum"] < rank["GD"] and rank["Adam"] < rank["GD"]
    # the Monitor's verdict on plain GD is why: it creeps away from the saddle
    assert tiny.attrs["verdict"] in ("saddle", "plateau")
    s = tiny.attrs["summary"]
    assert s.startswith(
        "plain GD creeps along a plateau"
        if tiny.attrs["verdict"] == "plateau"
        else "plain GD stalls at a saddle"
    )
    assert tiny.iloc[0]["fix"] in s and "sooner" in s
    assert sorted(tiny["rank"]) == list(range(1, len(tiny) + 1))
    assert len(tiny) == 18 and tiny.attrs["lrs"] == pytest.approx(LRS)


def test_tiny_network_verdict_matches_a_plain_gd_run(tiny):
    gd = tiny[tiny["fix"] == "GD"].iloc[0]
    res = sp.minimize("tiny_network", "sgd", lr=gd["best_lr"], x0=NEAR_SADDLE, steps=100)
    assert res.events[0].kind == tiny.attrs["verdict"]
    assert res.events[0].step == tiny.attrs["verdict_step"]


def test_table_agrees_with_independent_runs(tiny):
    surface = sp.surfaces.get("tiny_network")
    start = float(surface.value(np.array(NEAR_SADDLE)))
    # target: 90% of the way from the start loss to the valley's loss 0
    assert tiny.attrs["start_loss"] == pytest.approx(start)
    assert tiny.attrs["target"] == pytest.approx(0.1 * start)
    checked = [*tiny.head(3)["fix"].tolist(), "momentum", "Nesterov", "GD"]
    for _, row in tiny[tiny["fix"].isin(checked)].iterrows():
        losses = _replay(surface, NEAR_SADDLE, row, 100)
        assert row["best_loss"] == pytest.approx(losses.min(), rel=1e-6, abs=1e-12)
        first = int(np.flatnonzero(losses <= tiny.attrs["target"])[0])
        assert row["steps_to_target"] == first
    gd = tiny[tiny["fix"] == "GD"].iloc[0]
    best = tiny.iloc[0]
    assert best["speedup"] == pytest.approx(gd["steps_to_target"] / best["steps_to_target"])


def test_deterministic_for_a_seed(tiny):
    again = compare_fixes("tiny_network", x0=NEAR_SADDLE, steps=100, seed=0)
    assert again.equals(tiny) and again.attrs == tiny.attrs


def test_ill_conditioned_bowl_adaptive_and_momentum_beat_gd():
    df = compare_fixes("ill_conditioned", steps=100)
    rank = dict(zip(df["fix"], df["rank"]))
    for fix in ("Adam", "RMSprop", "momentum"):
        assert rank[fix] < rank["GD"]
    gd = df[df["fix"] == "GD"].iloc[0]
    assert not gd["reached"]
    # plain GD's best over the grid, computed directly: far above the target
    surface = sp.surfaces.get("ill_conditioned")
    losses = [
        _replay(
            surface,
            surface.start,
            {"fix": "GD", "optimizer": "sgd", "best_lr": lr, "schedule": "constant"},
            100,
        )
        for lr in LRS
    ]
    finite = [lo.min() for lo in losses if np.all(np.isfinite(lo)) and lo.max() < 1e12]
    assert gd["best_loss"] == pytest.approx(min(finite), rel=1e-6)
    assert min(finite) > df.attrs["target"]


def test_user_function():
    def fun(x):
        return 0.5 * (x[0] ** 2 + 100 * x[1] ** 2), np.array([x[0], 100 * x[1]])

    df = compare_fixes((fun, [1.0, 1.0]), steps=30, lrs=[0.001, 0.01])
    assert df.attrs["kind"] == "function" and df.attrs["start_loss"] == pytest.approx(50.5)
    gd = df[df["fix"] == "GD"].iloc[0]
    x, best = np.array([1.0, 1.0]), 50.5
    for _ in range(30):  # plain GD by hand at its best lr: x <- x - lr * grad
        x = x - gd["best_lr"] * fun(x)[1]
        best = min(best, fun(x)[0])
    assert gd["best_loss"] == pytest.approx(best, rel=1e-9)


def test_model_with_data_adds_batch_and_loss_variants():
    data = sp.data.blobs() if hasattr(sp.data, "blobs") else sp.data.digits()
    model = sp.models.MLP([data.X_train.shape[1], 8, data.n_classes])
    df = compare_fixes((model, data), steps=20, budget=21, batch_size=32)
    assert len(df) == 21 and df.attrs["kind"] == "model"
    assert {"GD, batch 8", "GD, batch 128", "GD, mse loss"} <= set(df["fix"])
    assert len(df.attrs["lrs"]) == 1


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"problem": "no_such_surface"}, ValueError, "problem"),
        ({"problem": "tiny_network", "steps": 0}, ValueError, "steps"),
        ({"problem": "tiny_network", "steps": -3}, ValueError, "steps"),
        ({"problem": "tiny_network", "steps": 1.5}, TypeError, "steps"),
        ({"problem": 42}, TypeError, "problem"),
        ({"problem": "tiny_network", "budget": 3}, ValueError, "budget"),
        ({"problem": "tiny_network", "lrs": [0.1, -1]}, ValueError, "lrs"),
        ({"problem": "tiny_network", "x0": [1.0]}, ValueError, "x0"),
    ],
)
def test_bad_input_names_the_argument(kwargs, exc, name):
    problem = kwargs.pop("problem")
    with pytest.raises(exc, match=name):
        compare_fixes(problem, **kwargs)


def test_cli_prints_the_ranking(capsys, tiny):
    assert main(["fixes", "tiny_network", "--x0", "0.011", "-0.01", "--steps", "100"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == format_fixes(tiny).strip()
    assert "rank" in out and tiny.attrs["summary"] in out
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["1", tiny.iloc[0]["fix"].split()[0]]


def test_cli_config_and_errors(tmp_path, capsys):
    cfg = tmp_path / "fixes.toml"
    cfg.write_text('surface = "tiny_network"\nx0 = [0.011, -0.01]\nsteps = 100\n')
    assert main(["fixes", str(cfg)]) == 0
    assert "baseline (plain GD) verdict" in capsys.readouterr().out
    assert main(["fixes", "no_such_surface"]) == 2
    assert "unknown surface" in capsys.readouterr().err
    cfg.write_text('surface = "tiny_network"\nbogus = 1\n')
    assert main(["fixes", str(cfg)]) == 2
    assert "bogus" in capsys.readouterr().err


def test_plot(tiny):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plot_fixes(tiny)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_top_level_name():
    assert sp.compare_fixes is compare_fixes
