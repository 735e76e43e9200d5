"""saddlepoint.torch curvature: hvp, eigenpairs, classify, spectral_density and escape on torch
models, against dense Hessians from torch.autograd.functional.hessian and numpy.linalg.eigh."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import saddlepoint  # noqa: E402
import saddlepoint.torch as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.func import functional_call  # noqa: E402

F = nn.functional


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- models and their dense reference Hessians ------------------------------------------------


class TwoWeights(nn.Module):
    """The lecture's network y = w1 w2 x. With x = 1, target 1 and the loss (y - 1)^2
    (nn.MSELoss on one example, no factor 1/2): L = (1 - w1 w2)^2, whose Hessian is
    [[2 w2^2, 4 w1 w2 - 2], [4 w1 w2 - 2, 2 w1^2]]: [[0, -2], [-2, 0]] at the origin,
    eigenvalues -2 and 2 (a saddle), eigenvectors (1, 1)/sqrt(2) and (1, -1)/sqrt(2)."""

    def __init__(self, dtype=torch.float32):
        super().__init__()
        self.w1 = nn.Parameter(torch.zeros((), dtype=dtype))
        self.w2 = nn.Parameter(torch.zeros((), dtype=dtype))

    def forward(self, x):
        return self.w1 * self.w2 * x


def lecture_data(dtype=torch.float32):
    return torch.ones(1, dtype=dtype), torch.ones(1, dtype=dtype)


def mlp(seed=0, sizes=(3, 4, 2), dtype=torch.float64):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1]).to(dtype)


def classification_data(n=30, features=3, classes=2, seed=1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, features, generator=g, dtype=dtype)
    y = torch.randint(0, classes, (n,), generator=g)
    return X, y


def reference_hessian(model, loss_fn, X, y):
    """torch.autograd.functional.hessian of the loss as a function of the flat trainable
    parameters (named_parameters order): independent of saddlepoint's products."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = [p.detach() for n, p in model.named_parameters() if p.requires_grad]
    sizes = [p.numel() for p in params]

    def loss(flat):
        parts = torch.split(flat, sizes)
        new = {n: t.reshape(p.shape) for n, t, p in zip(names, parts, params)}
        return loss_fn(functional_call(model, new, (X,)), y)

    flat = torch.cat([p.reshape(-1) for p in params])
    return torch.autograd.functional.hessian(loss, flat).double().numpy()


def columns(h):
    return np.stack([h(e) for e in np.eye(h.dim)], axis=1)


# --- hvp ----------------------------------------------------------------------------------------


# torch 2.13's mse_loss cannot run under jvp-of-grad (see hvp): that pair is not a method
# saddlepoint can offer, so it is not among the cases
@pytest.mark.parametrize(
    ("method", "loss_fn"),
    [("jvp", "ce"), ("vjp", "ce"), ("double_backward", "ce"), ("vjp", "mse"),
     ("double_backward", "mse")],
)  # fmt: skip
def test_hvp_equals_the_dense_hessian_for_every_method(method, loss_fn):
    model = mlp()
    X, y = classification_data()
    if loss_fn == "mse":
        loss_fn, y = nn.MSELoss(), F.one_hot(y, 2).double()
    else:
        loss_fn = F.cross_entropy
    h = st.hvp(model, loss_fn, (X, y), method=method)
    H = reference_hessian(model, loss_fn, X, y)
    assert h.method == method
    assert h.dim == H.shape[0] == 3 * 4 + 4 + 4 * 2 + 2
    np.testing.assert_allclose(columns(h), H, rtol=0, atol=1e-12 * np.abs(H).max())


def test_auto_method_falls_back_and_says_which():
    model = mlp()
    X, y = classification_data()
    h = st.hvp(model, F.cross_entropy, (X, y))
    v = np.random.default_rng(0).standard_normal(h.dim)
    h(v)
    assert h.method == "vjp"

    class Clamped(torch.autograd.Function):  # no vmap rule: torch.func cannot take it
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(-1.0, 1.0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x.abs() <= 1.0)

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = mlp()

        def forward(self, x):
            return self.inner(Clamped.apply(x))

    custom = Custom()
    h = st.hvp(custom, F.cross_entropy, (X, y))
    np.testing.assert_allclose(
        h(v), reference_hessian(custom, F.cross_entropy, X, y) @ v, rtol=1e-12, atol=1e-12
    )
    assert h.method == "double_backward"


def test_hvp_layout_names_the_trainable_parameters_in_order():
    model = mlp()
    model[0].bias.requires_grad_(False)  # frozen: not part of H
    X, y = classification_data()
    h = st.hvp(model, F.cross_entropy, (X, y))
    assert h.layout.names == ("0.weight", "2.weight", "2.bias")
    assert h.layout.shapes == ((4, 3), (2, 4), (2,))
    assert h.layout.offsets == (0, 12, 20, 22) and h.dim == 22
    weight = h.layout.unflatten(h.vector())["2.weight"]
    np.testing.assert_array_equal(weight, model[2].weight.detach().numpy())
    H = reference_hessian(model, F.cross_entropy, X, y)
    np.testing.assert_allclose(columns(h), H, atol=1e-12)


def test_hvp_follows_the_parameters_as_they_change():
    model = mlp()
    X, y = classification_data()
    h = st.hvp(model, F.cross_entropy, (X, y))
    v = np.random.default_rng(1).standard_normal(h.dim)
    before = h(v)
    with torch.no_grad():
        model[0].weight.mul_(1.5)  # in place, as an optimizer steps
    H = reference_hessian(model, F.cross_entropy, X, y)
    np.testing.assert_allclose(h(v), H @ v, atol=1e-12)
    assert not np.allclose(before, h(v))


def test_dataloader_average_equals_the_full_batch_product():
    model = mlp()
    X, y = classification_data(n=31)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=7,
        shuffle=True,  # last batch has 3
    )
    full = st.hvp(model, F.cross_entropy, (X, y))
    batched = st.hvp(model, F.cross_entropy, loader)
    v = np.random.default_rng(2).standard_normal(full.dim)
    np.testing.assert_allclose(batched(v), full(v), rtol=1e-12, atol=1e-14)
    assert math.isclose(batched.loss(), full.loss(), rel_tol=1e-13)
    np.testing.assert_allclose(batched.gradient(), full.gradient(), rtol=1e-12, atol=1e-15)
    # a plain list of batches is the same
    parts = [(X[:10], y[:10]), (X[10:], y[10:])]
    np.testing.assert_allclose(st.hvp(model, F.cross_entropy, parts)(v), full(v), atol=1e-14)


def test_numpy_batches_are_converted_to_the_model_dtype():
    model = mlp(dtype=torch.float32)
    X, y = classification_data(dtype=torch.float64)
    h = st.hvp(model, F.cross_entropy, (X.numpy(), y.numpy()))
    ref = st.hvp(model, F.cross_entropy, (X.float(), y))
    v = np.random.default_rng(3).standard_normal(h.dim)
    np.testing.assert_array_equal(h(v), ref(v))


class Noisy(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Dropout(0.5))
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.body(x))


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_mode_is_used_restored_and_the_product_stays_one_matrix(mode):
    torch.manual_seed(0)
    model = Noisy().double()
    model.train()
    model.head.eval()  # each module's own flag comes back, not one flag for all
    X, y = classification_data()
    stats = model.body[1].running_mean.clone()
    h = st.hvp(model, F.cross_entropy, (X, y), mode=mode)
    v = np.random.default_rng(4).standard_normal(h.dim)
    first = h(v)
    np.testing.assert_array_equal(h(v), first)  # dropout draws the same masks every time
    assert model.training and model.body.training and not model.head.training
    assert torch.equal(model.body[1].running_mean, stats)  # batch norm's statistics untouched
    # against the dense reference in the same mode (eval: no dropout, running statistics)
    if mode == "eval":
        model.eval()
        H = reference_hessian(model, F.cross_entropy, X, y)
        model.train()
        model.head.eval()
        np.testing.assert_allclose(first, H @ v, atol=1e-12)
    else:
        other = st.hvp(model, F.cross_entropy, (X, y), mode="eval")(v)
        assert not np.allclose(first, other)  # train mode really used batch statistics


# --- the lecture's saddle -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lecture_network_is_a_saddle_with_eigenvalues_minus_two_and_two(dtype):
    net = TwoWeights(dtype)
    data = lecture_data(dtype)
    H = reference_hessian(net, nn.MSELoss(), *data)
    np.testing.assert_array_equal(H, [[0.0, -2.0], [-2.0, 0.0]])  # the loss convention above
    c = st.classify(net, nn.MSELoss(), data)
    assert c.kind == "saddle" and c.method == "dense"
    np.testing.assert_array_equal(c.eigenvalues, [-2.0, 2.0])
    assert (c.lambda_min, c.lambda_max, c.minimum_ratio) == (-2.0, 2.0, 0.5)
    assert c.gradient_norm == 0.0 and c.loss == 1.0
    d = c.escape_direction
    assert math.isclose(abs(d @ [1.0, 1.0]) / math.sqrt(2.0), 1.0, rel_tol=1e-6)
    assert set(c.escape_by_parameter()) == {"w1", "w2"}
    # the same label matrix-free (ARPACK on the 2x2 falls back to dense inside hessian)
    assert st.classify(net, nn.MSELoss(), data, dense_below=0).kind == "saddle"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_escape_from_the_lecture_saddle_reaches_the_valley(dtype):
    net = TwoWeights(dtype)
    w1, w2 = net.w1, net.w2
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    r = st.escape(net, nn.MSELoss(), lecture_data(dtype))
    product = float(net.w1.detach() * net.w2.detach())
    tol = 1e-6 if dtype == torch.float32 else 1e-9
    assert abs(product - 1.0) < tol  # on the valley of minima w1 w2 = 1, the loss 0
    assert math.isclose(abs(r.step), math.sqrt(2.0), rel_tol=tol)
    assert r.initial_value == 1.0 and r.value < tol and r.loss_drop > 1 - tol
    np.testing.assert_allclose(r.x, [float(net.w1.detach()), float(net.w2.detach())], rtol=1e-7)
    # in place: the same tensors, which the optimizer still holds
    assert net.w1 is w1 and net.w2 is w2 and opt.param_groups[0]["params"][0] is w1


def test_escape_tells_the_monitor_and_refuses_a_minimum():
    net = TwoWeights(torch.float64)
    data = lecture_data(torch.float64)

    class Watcher:
        jumps = 0

        def jumped(self):
            self.jumps += 1

    watcher = Watcher()
    st.escape(net, nn.MSELoss(), data, monitor=watcher)
    assert watcher.jumps == 1
    with torch.no_grad():  # exactly (1, 1): H = [[2, 2], [2, 2]], eigenvalues 0 and 4
        net.w1.fill_(1.0)
        net.w2.fill_(1.0)
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ValueError, match="model: the Hessian has no negative eigenvalue"):
        st.escape(net, nn.MSELoss(), data)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_escape_along_a_given_direction_and_no_descent_leaves_the_model():
    net = TwoWeights(torch.float64)
    data = lecture_data(torch.float64)
    r = st.escape(net, nn.MSELoss(), data, direction=[1.0, -1.0])  # w1 w2 <= 0 along it: up
    assert r.loss_drop == 0.0 and r.step == 0.0
    assert float(net.w1.detach()) == 0.0 == float(net.w2.detach())
    with pytest.raises(ValueError, match=r"direction: expected a flat vector of shape \(2,\)"):
        st.escape(net, nn.MSELoss(), data, direction=[1.0, 1.0, 1.0])


def test_escape_undoes_its_trial_points_when_the_loss_fails():
    net = TwoWeights(torch.float64)
    calls = [0]

    def flaky(out, target):  # fails on the fifth evaluation, inside the line search
        calls[0] += 1
        if calls[0] == 5:
            raise RuntimeError("data loader went away")
        return F.mse_loss(out, target)

    with pytest.raises(RuntimeError, match="data loader went away"):
        st.escape(net, flaky, lecture_data(torch.float64), direction=[1.0, 1.0])
    assert calls[0] == 5
    assert float(net.w1.detach()) == 0.0 == float(net.w2.detach())


# --- eigenpairs and classify against dense references -----------------------------------------


def bigger_problem(seed=0):
    model = mlp(seed, sizes=(4, 6, 3))  # 51 parameters: matrix-free paths
    X, y = classification_data(n=40, features=4, classes=3, seed=seed + 5)
    return model, X, y


@pytest.mark.parametrize("which", ["lowest", "highest"])
def test_eigenpairs_match_eigh_of_the_dense_hessian(which):
    model, X, y = bigger_problem()
    w = np.linalg.eigvalsh(reference_hessian(model, F.cross_entropy, X, y))
    pairs = st.eigenpairs(model, F.cross_entropy, (X, y), which, k=3)
    assert pairs.method == "eigsh"
    expected = w[:3] if which == "lowest" else w[::-1][:3]
    scale = np.abs(w).max()
    np.testing.assert_allclose(pairs.eigenvalues, expected, rtol=0, atol=1e-7 * scale)
    assert np.all(pairs.residual_norms < 1e-6 * scale)
    assert pairs.eigenvectors.shape == (51, 3)
    assert pairs.n_products > 3


def test_eigenpairs_find_the_negative_end_power_iteration_misses():
    model, X, y = bigger_problem(seed=3)
    w = np.linalg.eigvalsh(reference_hessian(model, F.cross_entropy, X, y))
    assert w[0] < 0 < abs(w[0]) < w[-1]  # positive curvature dominates: |lambda|max = lambda_max
    low = st.eigenpairs(model, F.cross_entropy, (X, y), "lowest")
    assert math.isclose(low.eigenvalues[0], w[0], rel_tol=1e-6)


def test_classify_matrix_free_agrees_with_the_dense_hessian():
    model, X, y = bigger_problem(seed=3)
    H = reference_hessian(model, F.cross_entropy, X, y)
    w = np.linalg.eigvalsh(H)
    reference = saddlepoint.classify(H)
    free = st.classify(model, F.cross_entropy, (X, y), dense_below=0)
    dense = st.classify(model, F.cross_entropy, (X, y))
    assert free.kind == dense.kind == reference.kind == "saddle"
    assert free.method == "eigsh" and dense.method == "dense"
    assert math.isclose(free.lambda_min, w[0], rel_tol=1e-6)
    assert math.isclose(free.lambda_max, w[-1], rel_tol=1e-6)
    assert free.minimum_ratio is None and dense.minimum_ratio == reference.minimum_ratio
    np.testing.assert_allclose(dense.eigenvalues, w, atol=1e-10 * abs(w).max())
    # the escape direction is the lowest eigenvector (up to sign)
    v = np.linalg.eigh(H)[1][:, 0]
    assert math.isclose(abs(free.escape_direction @ v), 1.0, rel_tol=1e-6)
    assert free.escape_by_parameter()["0.weight"].shape == (6, 4)


@pytest.mark.parametrize("dense_below", [0, 64])
def test_classify_minimum_and_degenerate_on_least_squares(dense_below):
    # L = mean((X w - t)^2): H = 2 X^T X / n. Full column rank: a minimum; fewer examples
    # than weights: zero eigenvalues next to positive ones, degenerate (never a minimum)
    g = torch.Generator().manual_seed(0)
    for n, kind in ((40, "minimum"), (8, "degenerate")):
        model = nn.Linear(20, 1, bias=False).double()
        X = torch.randn(n, 20, generator=g, dtype=torch.float64)
        t = torch.randn(n, 1, generator=g, dtype=torch.float64)
        c = st.classify(model, nn.MSELoss(), (X, t), dense_below=dense_below)
        w = np.linalg.eigvalsh(2.0 * X.T.numpy() @ X.numpy() / n)
        assert c.kind == kind, (c.kind, c.lambda_min, c.tol, c.residual_min)
        assert math.isclose(c.lambda_max, w[-1], rel_tol=1e-8)
        assert c.escape_direction is None
        if kind == "minimum":
            assert math.isclose(c.lambda_min, w[0], rel_tol=1e-6)


def test_classify_a_maximum():
    model = nn.Linear(3, 1, bias=False).double()
    X = torch.eye(3, dtype=torch.float64)

    def negative_mse(out, target):
        return -F.mse_loss(out, target)

    c = st.classify(model, negative_mse, (X, torch.zeros(3, 1, dtype=torch.float64)))
    assert c.kind == "maximum"
    np.testing.assert_allclose(c.eigenvalues, [-2 / 3] * 3)
    assert c.escape_direction is not None  # every direction goes down


# --- spectral density -------------------------------------------------------------------------


def test_spectral_density_with_enough_steps_is_the_exact_spectrum():
    model, X, y = bigger_problem(seed=3)
    w = np.linalg.eigvalsh(reference_hessian(model, F.cross_entropy, X, y))
    d = st.spectral_density(model, F.cross_entropy, (X, y), steps=60, n_vectors=2)
    assert d.nodes.shape == (2, 51) and d.n_products == 102
    for row in d.nodes:
        np.testing.assert_allclose(row, w, atol=1e-8 * abs(w).max())
    np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, rtol=1e-12)
    assert d.negative_share + d.zero_share + d.positive_share == pytest.approx(1.0)
    assert d.minimum_ratio == d.positive_share
    t = d.grid(20001)
    assert np.trapezoid(d.density(t), t) == pytest.approx(1.0, rel=1e-3)


def test_spectral_density_shares_estimate_the_minimum_ratio():
    # a quadratic with a known spectrum and no eigenvalue near 0: 12 negative of 40
    g = np.random.default_rng(0)
    Q, _ = np.linalg.qr(g.standard_normal((40, 40)))
    spectrum = np.concatenate([-g.uniform(0.5, 2.0, 12), g.uniform(0.5, 5.0, 28)])
    A = torch.tensor(Q @ np.diag(spectrum) @ Q.T)

    class Quadratic(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.tensor(g.standard_normal(40)))

        def forward(self, x):
            return 0.5 * self.w @ A @ self.w + 0.0 * x.sum()

    d = st.spectral_density(
        Quadratic(), lambda out, _: out, (torch.zeros(1, 1), None), steps=12, n_vectors=50
    )
    # each vector's weight on the negative nodes averages 12/40 (variance ~ 0.21/21 per vector)
    assert abs(d.negative_share - 12 / 40) < 0.06
    assert abs(d.positive_share - 28 / 40) < 0.06
    assert d.zero_share < 0.02
    assert abs(d.trace - spectrum.sum()) < 0.25 * abs(spectrum).sum()
    assert d.lambda_min >= spectrum.min() - 1e-9 and d.lambda_max <= spectrum.max() + 1e-9


def test_spectral_density_plot():
    pytest.importorskip("matplotlib")
    model, X, y = bigger_problem()
    d = st.spectral_density(model, F.cross_entropy, (X, y), steps=20)
    ax = d.plot()
    assert ax.get_yscale() == "log" and "negative" in ax.get_title()
    assert len(ax.lines) == 2  # the density and the zero line
    # the grid resolves every smoothed node: spacing at most sigma / 4
    grid = d.grid()
    assert grid[1] - grid[0] <= d.sigma / 4 and grid[0] < d.lambda_min < d.lambda_max < grid[-1]


# --- bad input ----------------------------------------------------------------------------------


def test_bad_models():
    X, y = classification_data()
    with pytest.raises(ValueError, match="model: ReLU has no parameters that require a gradient"):
        st.hvp(nn.ReLU(), F.cross_entropy, (X, y))
    frozen = mlp().requires_grad_(False)
    with pytest.raises(ValueError, match="model: Sequential has no parameters"):
        st.classify(frozen, F.cross_entropy, (X, y))
    with torch.device("meta"):
        meta = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="model: parameter 'weight' is on the meta device"):
        st.eigenpairs(meta, F.cross_entropy, (X, y))
    with pytest.raises(TypeError, match=r"model: expected a torch\.nn\.Module, got function"):
        st.hvp(lambda x: x, F.cross_entropy, (X, y))


def test_bad_losses_and_data():
    model = mlp()
    X, y = classification_data()
    per_example = nn.CrossEntropyLoss(reduction="none")
    with pytest.raises(ValueError, match=r"loss_fn: expected a scalar loss .* got \(30,\)"):
        st.hvp(model, per_example, (X, y))
    with pytest.raises(TypeError, match="loss_fn: expected a callable"):
        st.hvp(model, "cross_entropy", (X, y))
    with pytest.raises(TypeError, match="data: an iterator is used up after one pass"):
        st.hvp(model, F.cross_entropy, iter([(X, y)]))
    with pytest.raises(TypeError, match="data: expected a batch"):
        st.hvp(model, F.cross_entropy, 3.0)
    with pytest.raises(ValueError, match="data: expected at least one batch"):
        st.hvp(model, F.cross_entropy, [])
    with pytest.raises(TypeError, match="data: batch 0 is a Tensor"):
        st.hvp(model, F.cross_entropy, [X])
    with pytest.raises(ValueError, match="mode: expected 'eval' or 'train'"):
        st.hvp(model, F.cross_entropy, (X, y), mode="training")
    with pytest.raises(ValueError, match="method: expected one of"):
        st.hvp(model, F.cross_entropy, (X, y), method="finite")
    with pytest.raises(ValueError, match="which: expected 'lowest' or 'highest'"):
        st.eigenpairs(model, F.cross_entropy, (X, y), "smallest")


def test_bad_vectors():
    model = mlp()
    X, y = classification_data()
    h = st.hvp(model, F.cross_entropy, (X, y))
    shape = r"v: expected a flat vector of shape \(26,\) .* got \(25,\)"
    with pytest.raises(ValueError, match=shape):
        h(np.zeros(25))
    with pytest.raises(ValueError, match=r"v: expected a flat vector .* got \(2, 13\)"):
        h(np.zeros((2, 13)))
    with pytest.raises(TypeError, match="v: expected a real vector, got complex128"):
        h(np.zeros(26, dtype=complex))
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"vector: expected a flat vector of shape \(26,\)"):
        h.assign(np.zeros(3))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    # the product works from a torch tensor too, and the monitor's checks accept it
    np.testing.assert_array_equal(h(torch.ones(26, dtype=torch.float64)), h(np.ones(26)))
