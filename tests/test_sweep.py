"""saddlepoint.sweep(): results equal independent single runs, bit for bit across paths, chunks
and threads; classification; bad grids."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference_optim as ref

pd = pytest.importorskip("pandas")

import saddlepoint  # noqa: E402
from _sweep_surfaces import Bowl, MonkeySaddle, Rosen, TinyNet  # noqa: E402
from saddlepoint import optim, sweep  # noqa: E402
from saddlepoint.sweeps import _sweep as sweep_mod  # noqa: E402

RESULTS = ["final_loss", "best_loss", "threshold_step", "grad_norm", "diverged", "kind"]


@pytest.fixture
def native_rosen(monkeypatch):
    """Let the test's Rosen (same maths as the C++ Rosenbrock) take the native loop."""
    real = sweep_mod._native_spec

    def spec(surface):
        if isinstance(surface, Rosen):
            return sweep_mod._NativeSpec("rosenbrock")
        return real(surface)

    monkeypatch.setattr(sweep_mod, "_native_spec", spec)


def _single_run(surface, opt_name, hyper, x0, steps, dtype):
    """One run stepped by a saddlepoint.optim object, with its per-step losses (float64)."""
    x = np.array([x0], dtype=dtype)
    kw = dict(hyper)
    if "beta1" in kw or "beta2" in kw:
        kw["betas"] = (kw.pop("beta1", 0.9), kw.pop("beta2", 0.999))
    opt = optim.create(opt_name, x, **kw)
    losses = []
    for _ in range(steps):
        losses.append(float(np.asarray(surface.value(x), dtype=dtype)[0]))
        opt.step(np.ascontiguousarray(surface.grad(x), dtype=dtype))
    losses.append(float(np.asarray(surface.value(x), dtype=dtype)[0]))
    return x[0], np.array(losses)


GRIDS = [
    ("adam", {"lr": [1e-3, 3e-2, 0.3], "beta1": [0.8, 0.9], "beta2": [0.99, 0.999]}),
    ("adam", {"lr": [1e-2], "weight_decay": [0.0, 0.1], "amsgrad": [False, True]}),
    ("adamw", {"lr": [1e-2, 0.1], "weight_decay": [0.0, 0.05]}),
    ("sgd", {"lr": [1e-4, 5e-4], "momentum": [0.0, 0.9], "weight_decay": [0.0, 0.01]}),
    ("sgd", {"lr": [2e-4], "momentum": [0.5, 0.9], "nesterov": [True], "dampening": [0.0]}),
    ("rmsprop", {"lr": [1e-3, 1e-2], "momentum": [0.0, 0.5], "centered": [False, True]}),
    ("adagrad", {"lr": [0.05, 0.5], "lr_decay": [0.0, 0.01], "weight_decay": [0.0, 0.1]}),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("opt_name", "grid"), GRIDS, ids=[f"{o}-{i}" for i, (o, _) in enumerate(GRIDS)]
)
def test_sweep_equals_single_optimizer_runs(native_rosen, opt_name, grid, dtype):
    steps = 300
    kwargs = dict(steps=steps, optimizer=opt_name, progress=False, dtype=dtype, threshold=4.0)
    native = sweep(Rosen(), grid, **kwargs)
    vectorized = sweep(Rosen(), grid, native=False, **kwargs)
    # the native loop and the vectorized kernel path: identical maths, identical bits
    pd.testing.assert_frame_equal(native, vectorized, check_exact=True)
    keys = list(grid)
    for run, row in native.iterrows():
        hyper = {k: row[k] for k in keys}
        x, losses = _single_run(Rosen(), opt_name, hyper, Rosen.start, steps, dtype)
        got = np.array([row["x_final_0"], row["x_final_1"]], dtype=dtype)
        assert got.tobytes() == x.tobytes(), (run, hyper)
        assert row["final_loss"] == losses[-1]
        finite = losses[np.isfinite(losses)]
        assert row["best_loss"] == (finite.min() if finite.size else math.inf)
        reached = np.flatnonzero(losses <= 4.0)
        expected_step = int(reached[0]) if reached.size else None
        assert (None if pd.isna(row["threshold_step"]) else row["threshold_step"]) == (
            expected_step
        )
        assert row["diverged"] == bool(np.any(~(np.abs(losses) <= 1e12)))


def _adam_reference(x0, lr, beta1, beta2, eps, steps):
    """Adam with torch.optim's single-tensor formulas in float64 (tests/reference_optim.py)."""
    opt = ref.Reference("adam", x0, lr=lr, betas=(beta1, beta2), eps=eps)
    surf = Rosen()
    for _ in range(steps):
        opt.step(surf.grad(opt.param))
    return opt.param


def test_adam_runs_equal_torch_formulas_written_out(native_rosen):
    lrs = np.logspace(-4, 0, 9).tolist()
    df = sweep(Rosen(), {"lr": lrs, "beta1": [0.5, 0.9]}, steps=400, progress=False)
    for _, row in df.iterrows():
        ref = _adam_reference(Rosen.start, row["lr"], row["beta1"], 0.999, 1e-8, 400)
        assert [row["x_final_0"], row["x_final_1"]] == ref.tolist()


def test_adam_runs_agree_with_torch(native_rosen):
    torch = pytest.importorskip("torch")
    df = sweep(Rosen(), {"lr": [1e-3, 1e-2, 1e-1]}, steps=200, progress=False)
    for _, row in df.iterrows():
        p = torch.tensor(Rosen.start, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=row["lr"], foreach=False)
        for _ in range(200):
            opt.zero_grad()
            x, y = p[0], p[1]
            (100 * (y - x * x) ** 2 + (1 - x) ** 2).backward()
            opt.step()
        np.testing.assert_allclose(
            [row["x_final_0"], row["x_final_1"]], p.detach().numpy(), rtol=1e-9, atol=1e-12
        )


def test_schedules_are_evaluated_like_the_optimizer_objects(native_rosen):
    def warm(t):
        return 0.05 * np.minimum(1.0, (np.asarray(t) + 1) / 20)

    def halve(t):
        return 0.02 * 0.5 ** (np.asarray(t) // 50)

    grid = {"lr": [warm, halve, 0.01], "beta1": [0.9]}
    for native in (True, False):
        df = sweep(Rosen(), grid, steps=200, progress=False, native=native)
        for i, lr in enumerate([warm, halve, 0.01]):
            x = np.array([Rosen.start])
            opt = optim.Adam(x, lr=lr if not callable(lr) else (lambda t, f=lr: float(f(t))))
            for _ in range(200):
                opt.step(np.ascontiguousarray(Rosen().grad(x)))
            assert [df.loc[i, "x_final_0"], df.loc[i, "x_final_1"]] == x[0].tolist()
        assert df["lr"].iloc[0].endswith("<locals>.warm") and " at 0x" not in df["lr"].iloc[0]
        assert df["lr"].iloc[2] == 0.01


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_do_not_depend_on_chunks_or_threads(native_rosen, dtype):
    grid = {"lr": np.logspace(-4, 0, 300).tolist(), "beta1": [0.8, 0.9, 0.95]}
    kw = dict(steps=600, progress=False, dtype=dtype)
    before = saddlepoint.get_num_threads()
    try:
        saddlepoint.set_num_threads(1)
        reference = sweep(Rosen(), grid, chunk_size=4096, **kw)
        saddlepoint.set_num_threads(2)
        for chunk_size in (1, 7, 300, 4096):
            df = sweep(Rosen(), grid, chunk_size=chunk_size, **kw)
            pd.testing.assert_frame_equal(df, reference, check_exact=True)
    finally:
        saddlepoint.set_num_threads(before)
    # a run alone (one lane, scalar tail) equals the same run inside a full block
    alone = sweep(Rosen(), {"lr": [grid["lr"][137]], "beta1": [0.9]}, **kw)
    inside = reference[(reference["lr"] == grid["lr"][137]) & (reference["beta1"] == 0.9)]
    assert alone[RESULTS].to_numpy().tolist() == inside[RESULTS].to_numpy().tolist()


def test_grid_as_list_of_dicts_and_several_optimizers(native_rosen):
    runs = [
        {"optimizer": "sgd", "lr": 1e-4, "momentum": 0.9},
        {"optimizer": "adam", "lr": 0.01},
        {"optimizer": "rmsprop", "lr": 1e-3},
    ]
    df = sweep(Rosen(), runs, steps=100, progress=False)
    assert list(df["optimizer"]) == ["sgd", "adam", "rmsprop"]
    assert pd.isna(df.loc[1, "momentum"])
    for i, run in enumerate(runs):
        hyper = {k: v for k, v in run.items() if k != "optimizer"}
        x, _ = _single_run(Rosen(), run["optimizer"], hyper, Rosen.start, 100, np.float64)
        assert [df.loc[i, "x_final_0"], df.loc[i, "x_final_1"]] == x.tolist()


def test_crossing_optimizers_runs_each_distinct_setting_once(native_rosen):
    # momentum is an axis for SGD only: Adam runs once per lr, not once per momentum value
    grid = {"optimizer": ["sgd", "adam"], "momentum": [0.0, 0.9], "lr": [1e-4, 1e-3]}
    df = sweep(Rosen(), grid, steps=50, progress=False)
    assert df["optimizer"].tolist() == ["sgd"] * 4 + ["adam"] * 2
    assert df["lr"].tolist() == [1e-4, 1e-3, 1e-4, 1e-3, 1e-4, 1e-3]
    assert df["momentum"].tolist()[:4] == [0.0, 0.0, 0.9, 0.9]
    assert df["momentum"].iloc[4:].isna().all()
    assert list(df.index) == list(range(6))
    for run, row in df.iterrows():
        hyper = {"lr": row["lr"]}
        if row["optimizer"] == "sgd":
            hyper["momentum"] = row["momentum"]
        x, _ = _single_run(Rosen(), row["optimizer"], hyper, Rosen.start, 50, np.float64)
        assert [row["x_final_0"], row["x_final_1"]] == x.tolist(), run
    # a list of dicts runs exactly as given, repeats included
    runs = [{"optimizer": "adam", "lr": 1e-3, "momentum": 0.9}] * 2 + [
        {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9}
    ]
    assert len(sweep(Rosen(), runs, steps=5, progress=False)) == 3


def test_start_points_from_grid_and_random_seeds():
    df = sweep(
        Rosen(),
        {"x0": [(0.0, 0.0), (1.0, 1.0)], "lr": [0.0]},
        steps=3,
        progress=False,
        optimizer="sgd",
    )
    assert df[["x_final_0", "x_final_1"]].to_numpy().tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert df["final_loss"].tolist() == [1.0, 0.0]
    r = sweep(
        Rosen(),
        {"lr": [0.0]},
        seeds=[1, 2, 1],
        x0="random",
        steps=1,
        progress=False,
        optimizer="sgd",
    )
    pts = r[["x_final_0", "x_final_1"]].to_numpy()
    expected = np.random.default_rng(2).uniform([-2.0, -1.0], [2.0, 3.0])
    assert pts[1].tolist() == expected.tolist()
    assert pts[0].tolist() == pts[2].tolist() != pts[1].tolist()


def test_kind_of_the_final_point():
    # the tiny network started at its saddle stays there; SGD settles in the bowl's minimum;
    # the monkey saddle's origin has a zero Hessian; a run stopped mid-way is not critical
    saddle = sweep(TinyNet(), {"lr": [0.1]}, steps=5, optimizer="sgd", progress=False)
    assert saddle["kind"].tolist() == ["saddle"]
    bowl = sweep(Bowl(), {"lr": [0.1]}, steps=2000, optimizer="sgd", progress=False)
    assert bowl["kind"].tolist() == ["minimum"]
    assert bowl["grad_norm"].iloc[0] <= 1e-6
    monkey = sweep(MonkeySaddle(), {"lr": [0.1]}, steps=3, optimizer="sgd", progress=False)
    assert monkey["kind"].tolist() == ["degenerate"]
    moving = sweep(Bowl(), {"lr": [1e-3]}, steps=3, optimizer="sgd", progress=False)
    assert moving["kind"].tolist() == ["not critical"]
    tiny_min = sweep(
        TinyNet(), {"lr": [0.05]}, steps=3000, optimizer="sgd", x0=(0.5, 0.5), progress=False
    )
    # on the valley w1*w2 = 1 the Hessian has a zero eigenvalue along the valley
    assert tiny_min["kind"].tolist() == ["degenerate"]


def test_divergence_and_threshold_columns():
    df = sweep(
        Bowl(),
        {"lr": [0.1, 0.6]},
        steps=400,
        optimizer="sgd",
        threshold=1e-4,
        divergence=1e6,
        progress=False,
    )
    # SGD on the 4-curvature axis diverges when lr > 2/4; independent reference below
    assert df["diverged"].tolist() == [False, True]
    y = 1.0
    for t in range(400):
        if 0.5 * (0.9**t) ** 2 + 2 * y * y <= 1e-4:
            break
        y = y * (1 - 0.4)
    assert df["threshold_step"].iloc[0] == t
    assert pd.isna(df["threshold_step"].iloc[1])


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        ({"learning_rate": [0.1]}, "grid key 'learning_rate': unknown"),
        ({"lr": []}, "grid key 'lr': expected at least one value"),
        ({}, "grid: expected a non-empty dict"),
        ([], "grid: expected a non-empty list"),
        ({"lr": [-1.0]}, r"grid key 'lr': expected a finite value >= 0, got -1.0"),
        ({"lr": [float("nan")]}, "grid key 'lr': expected a finite value"),
        ({"lr": ["fast"]}, "grid key 'lr': expected a number or a schedule"),
        ({"beta1": [1.0]}, r"grid key 'beta1': expected a finite value in \[0, 1\)"),
        ({"momentum": [0.9]}, "grid key 'momentum': not a hyper-parameter of adam"),
        ({"amsgrad": [1]}, "grid key 'amsgrad': expected True or False"),
        ({"optimizer": ["lbfgs"]}, "grid key 'optimizer': expected one of"),
    ],
)
def test_bad_grids_raise_naming_the_key(grid, match):
    with pytest.raises(ValueError, match=match):
        sweep(Rosen(), grid, steps=3, progress=False)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="steps: expected an int >= 0"):
        sweep(Rosen(), {"lr": [0.1]}, steps=-1, progress=False)
    with pytest.raises(TypeError, match="dtype: expected float32 or float64"):
        sweep(Rosen(), {"lr": [0.1]}, steps=1, dtype=np.int32, progress=False)
    with pytest.raises(ValueError, match="backend: expected 'local' or 'dask'"):
        sweep(Rosen(), {"lr": [0.1]}, steps=1, backend="ray", progress=False)
    with pytest.raises(ValueError, match="x0: expected 2 finite numbers"):
        sweep(Rosen(), {"lr": [0.1]}, steps=1, x0=(1.0, 2.0, 3.0), progress=False)
    with pytest.raises(ValueError, match="grid key 'nesterov': requires momentum > 0"):
        sweep(Rosen(), {"nesterov": [True]}, optimizer="sgd", steps=1, progress=False)
    with pytest.raises(
        ValueError, match="seeds: a seed draws gradient noise or random start points"
    ):
        sweep(Rosen(), {"lr": [0.1]}, seeds=[1, 2], steps=1, progress=False)
    with pytest.raises(TypeError, match="surface: expected a built-in name or an object"):
        sweep(object(), {"lr": [0.1]}, steps=1, progress=False)


def test_progress_bar_counts_runs(capsys):
    pytest.importorskip("tqdm")
    sweep(Rosen(), {"lr": [0.1, 0.2, 0.3]}, steps=2, chunk_size=2, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "run/s" in err
    sweep(Rosen(), {"lr": [0.1]}, steps=2, progress=False)
    assert capsys.readouterr().err == ""


# every surface with a C++ twin, with default arguments and with some others
NATIVE_DEFAULTS = (
    "rosenbrock himmelblau beale booth six_hump_camel three_hump_camel goldstein_price "
    "saddle monkey_saddle tiny_network"
).split()
NATIVE_NAMES = [
    *[(name, {}) for name in NATIVE_DEFAULTS],
    ("rosenbrock", {"n": 4}),
    ("rastrigin", {"n": 3}),
    ("styblinski_tang", {"n": 2}),
    ("quadratic", {"A": [[2.0, 0.5], [0.5, 1.0]]}),
    ("ill_conditioned", {"condition": 50.0}),
]


@pytest.mark.parametrize(("name", "kw"), NATIVE_NAMES, ids=[n for n, _ in NATIVE_NAMES])
def test_built_in_surfaces_native_loop_agrees_with_their_python_definitions(name, kw):
    from saddlepoint import surfaces

    s = surfaces.get(name, **kw)
    assert sweep_mod._native_spec(s) is not None
    grid = {"lr": [1e-4, 1e-3], "optimizer": ["sgd", "adam"]}
    a = sweep(name, grid, surface_kw=kw, steps=30, progress=False)
    b = sweep(name, grid, surface_kw=kw, steps=30, progress=False, native=False)
    # the C++ formulas equal the NumPy ones to rounding, not necessarily in every bit
    cols = ["final_loss", "best_loss", "grad_norm"] + [f"x_final_{k}" for k in range(s.dim)]
    np.testing.assert_allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-9, atol=1e-12)


def test_a_user_surface_named_like_a_built_in_is_not_native():
    from saddlepoint import surfaces

    fake = surfaces.Surface.from_functions(
        lambda X: np.sum(np.asarray(X) ** 2, axis=-1),
        lambda X: 2 * np.asarray(X),
        name="rosenbrock",
        dim=2,
        start=(1.0, 1.0),
    )
    assert sweep_mod._native_spec(fake) is None


def test_property_a_runs_result_does_not_depend_on_its_neighbours(native_rosen):
    """Whatever the chunking and the order of the grid (so whatever block, lane or tail a run
    lands in), every run's result is the same bit for bit."""
    hypothesis = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")
    lrs = np.logspace(-3, -0.5, 40).tolist()
    base = sweep(Rosen(), {"lr": lrs}, steps=150, progress=False, dtype=np.float32)
    by_lr = {row["lr"]: row[RESULTS].tolist() for _, row in base.iterrows()}

    @hypothesis.settings(max_examples=15, deadline=None)
    @hypothesis.given(st.permutations(lrs), st.integers(1, 45), st.booleans())
    def check(order, chunk_size, native):
        df = sweep(
            Rosen(),
            [{"lr": v} for v in order],
            steps=150,
            progress=False,
            dtype=np.float32,
            chunk_size=chunk_size,
            native=native,
        )
        for _, row in df.iterrows():
            assert row[RESULTS].tolist() == by_lr[row["lr"]]

    check()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adam_runs_with_mixed_betas_and_schedules_keep_their_bits_in_any_order(
    native_rosen, dtype
):
    """The native Adam loop groups a block's runs by (beta1, beta2) internally: whatever the
    grid's order, the block and the neighbours (several betas interleaved in one block, some runs
    on a schedule), each run equals the non-native path's run and an optimizer object's run."""

    def warm(t):
        return 0.03 * np.minimum(1.0, (np.asarray(t) + 1) / 25)

    runs = [
        {"lr": lr, "beta1": b1, "beta2": b2}
        for lr in [warm, *np.logspace(-3, -1, 6).tolist()]
        for b1 in (0.5, 0.8, 0.9)
        for b2 in (0.99, 0.999)
    ]
    kw = dict(steps=120, progress=False, dtype=dtype)
    order = np.random.default_rng(0).permutation(len(runs))
    for native, rows, chunk in ((False, runs, 4096), (True, runs, 4096),
                                (True, [runs[i] for i in order], 5)):  # fmt: skip
        df = sweep(Rosen(), rows, native=native, chunk_size=chunk, **kw)
        for (_, row), hyper in zip(df.iterrows(), rows):
            x = np.array([Rosen.start], dtype=dtype)
            lr = hyper["lr"]
            opt = optim.Adam(
                x,
                lr=(lambda t, f=lr: float(f(t))) if callable(lr) else lr,
                betas=(hyper["beta1"], hyper["beta2"]),
            )
            for _ in range(120):
                opt.step(np.ascontiguousarray(Rosen().grad(x), dtype=dtype))
            got = np.array([row["x_final_0"], row["x_final_1"]], dtype=dtype)
            assert got.tobytes() == x[0].tobytes(), (native, hyper)


def test_gradient_noise_follows_the_seeded_generator(native_rosen):
    """Noisy runs: the optimizer sees g + noise * xi, xi from default_rng(seed), drawn
    rng.standard_normal(dim) per step (as saddlepoint.train.minimize draws it)."""
    grid = {"lr": [1e-3, 1e-2], "noise": [0.0, 0.5]}
    df = sweep(Rosen(), grid, seeds=[3, 4], steps=300, progress=False, chunk_size=3)
    surf = Rosen()
    for _, row in df.iterrows():
        x = np.array([Rosen.start])
        opt = optim.Adam(x, lr=row["lr"])
        rng = np.random.default_rng(row["seed"])
        for _ in range(300):
            g = surf.grad(x)
            opt.step(
                np.ascontiguousarray(g + row["noise"] * rng.standard_normal(g.shape))
                if row["noise"] > 0
                else g
            )
        assert [row["x_final_0"], row["x_final_1"]] == x[0].tolist()
    quiet = df[df["noise"] == 0.0]
    assert quiet.groupby("lr")["final_loss"].nunique().eq(1).all()  # the seed is inert there
    noisy = df[df["noise"] > 0.0]
    assert noisy.groupby("lr")["final_loss"].nunique().eq(2).all()  # seeds differ


def test_single_runs_of_minimize_agree():
    grid = {"lr": [1e-3, 3e-2], "beta1": [0.8, 0.9], "noise": [0.0, 0.2]}
    df = sweep(Rosen(), grid, seeds=[7], steps=400, progress=False)
    for _, row in df.iterrows():
        res = saddlepoint.minimize(
            Rosen(),
            "adam",
            lr=row["lr"],
            betas=(row["beta1"], 0.999),
            x0=Rosen.start,
            steps=400,
            grad_tol=0.0,
            noise=row["noise"],
            seed=7,
        )
        assert [row["x_final_0"], row["x_final_1"]] == np.asarray(res.x).tolist()
