"""MLP: loss, gradient, Hessian and HVP against independent float64 references."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from saddlepoint.models import MLP

CASES = [
    ("relu", "cross_entropy", "labels"),
    ("tanh", "cross_entropy", "labels"),
    ("sigmoid", "cross_entropy", "labels"),
    ("linear", "cross_entropy", "labels"),
    ("tanh", "mse", "labels"),
    ("sigmoid", "mse", "targets"),
    ("relu", "mse", "targets"),
]


def _problem(activation, loss, kind, sizes=(3, 5, 4, 3), n=9, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(list(sizes), activation=activation, loss=loss)
    params = rng.normal(scale=0.7, size=model.n_params)
    X = rng.normal(size=(n, sizes[0]))
    if kind == "labels":
        y = rng.integers(0, sizes[-1], size=n)
    else:
        y = rng.normal(size=(n, sizes[-1]))
    return model, params, X, y


def _layers(params, sizes):
    """(W, b, hidden) per layer from the flat parameters (NumPy or torch): W of shape
    (fan_in, fan_out) then b, layer by layer; hidden is False for the output layer."""
    pos = 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = params[pos : pos + fan_in * fan_out].reshape(fan_in, fan_out)
        pos += fan_in * fan_out
        yield W, params[pos : pos + fan_out], i < len(sizes) - 2
        pos += fan_out


def _reference_outputs(model, params, X):
    """Forward pass written out independently: PyTorch's layout W^T, explicit activations."""
    act = {
        "relu": lambda z: np.where(z > 0, z, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
        "linear": lambda z: z,
    }[model.activation]
    a = X
    for W, b, hidden in _layers(params, model.sizes):
        a = a @ W + b
        if hidden:
            a = act(a)
    return a


def _reference_loss(model, params, X, y):
    z = _reference_outputs(model, params, X)
    if model.loss_name == "cross_entropy":
        from scipy.special import logsumexp

        return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))
    if y.ndim == 1:
        from scipy.special import softmax

        target = np.eye(z.shape[1])[y]
        return float(np.mean((softmax(z, axis=1) - target) ** 2))
    return float(np.mean((z - y) ** 2))


def _fd_gradient(f, p, h=1e-6):
    g = np.empty_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


def _fd_hessian_from_values(f, p, h=1e-4):
    """Second central differences of the loss values only (independent of MLP.grad)."""
    n = p.size
    H = np.empty((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (
                f(p + E[i] + E[j]) - f(p + E[i] - E[j]) - f(p - E[i] + E[j]) + f(p - E[i] - E[j])
            ) / (4 * h * h)
    return H


@pytest.mark.parametrize(("activation", "loss", "kind"), CASES)
def test_loss_equals_reference_formula(activation, loss, kind):
    model, params, X, y = _problem(activation, loss, kind)
    assert model.loss(params, X, y) == pytest.approx(
        _reference_loss(model, params, X, y), rel=1e-13, abs=1e-15
    )


@pytest.mark.parametrize(("activation", "loss", "kind"), CASES)
def test_gradient_against_central_differences(activation, loss, kind):
    model, params, X, y = _problem(activation, loss, kind)
    fd = _fd_gradient(lambda p: _reference_loss(model, p, X, y), params)
    np.testing.assert_allclose(model.grad(params, X, y), fd, rtol=1e-6, atol=1e-8)
    value, grad = model.loss_and_grad(params, X, y)
    assert value == pytest.approx(_reference_loss(model, params, X, y), rel=1e-13)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(("activation", "loss", "kind"), CASES)
def test_hessian_against_second_differences_of_the_loss(activation, loss, kind):
    model, params, X, y = _problem(activation, loss, kind, sizes=(2, 3, 3), n=6)
    H_ref = _fd_hessian_from_values(lambda p: _reference_loss(model, p, X, y), params)
    H = model.hessian(params, X, y)
    assert H.shape == (model.n_params, model.n_params)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_allclose(H, H_ref, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize(("activation", "loss", "kind"), CASES)
def test_hessian_against_differences_of_the_gradient(activation, loss, kind):
    model, params, X, y = _problem(activation, loss, kind)
    h = 1e-6
    cols = [
        (model.grad(params + h * e, X, y) - model.grad(params - h * e, X, y)) / (2 * h)
        for e in np.eye(model.n_params)
    ]
    np.testing.assert_allclose(model.hessian(params, X, y), np.array(cols), rtol=1e-6, atol=1e-8)


def test_l2_penalty_adds_half_squared_norm_and_its_derivatives():
    model, params, X, y = _problem("tanh", "cross_entropy", "labels", sizes=(3, 4, 3))
    reg = MLP([3, 4, 3], activation="tanh", l2=0.3)

    def ref(p):
        return _reference_loss(model, p, X, y) + 0.15 * float(p @ p)

    assert reg.loss(params, X, y) == pytest.approx(ref(params), rel=1e-13)
    np.testing.assert_allclose(
        reg.grad(params, X, y), _fd_gradient(ref, params), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        reg.hessian(params, X, y) - model.hessian(params, X, y),
        0.3 * np.eye(model.n_params),
        atol=1e-14,
    )
    with pytest.raises(ValueError, match="l2: expected a finite value >= 0"):
        MLP([3, 2], l2=-1.0)


def test_hvp_equals_hessian_times_vector_single_and_stacked():
    model, params, X, y = _problem("tanh", "cross_entropy", "labels", sizes=(4, 6, 5, 3))
    H = model.hessian(params, X, y)
    rng = np.random.default_rng(1)
    v = rng.normal(size=model.n_params)
    np.testing.assert_allclose(model.hvp(params, X, y, v), H @ v, rtol=1e-12, atol=1e-13)
    V = rng.normal(size=(5, model.n_params))
    np.testing.assert_allclose(model.hvp(params, X, y, V), V @ H, rtol=1e-12, atol=1e-13)


def test_cross_entropy_is_stable_for_huge_logits():
    # One layer, no hidden units: logits = X @ W + b exactly, so they can be made huge.
    model = MLP([1, 3])
    params = np.array([1.0, -1.0, 0.0, 0.0, 0.0, 0.0])  # W = [[1, -1, 0]], b = 0
    X = np.array([[1000.0], [-800.0]])
    y = np.array([0, 2])
    # Hand-computed: sample 1 logits (1000, -1000, 0): loss = log(1 + e^-1000 + e^-2000) = 0;
    # sample 2 logits (-800, 800, 0), label 2: loss = 800 + log(1 + e^-800 + e^-1600) = 800.
    assert model.loss(params, X, y) == pytest.approx(400.0, rel=1e-15)
    g = model.grad(params, X, y)
    assert np.all(np.isfinite(g))
    H = model.hessian(params, X, y)
    assert np.all(np.isfinite(H))


def test_predict_and_accuracy():
    model = MLP([2, 2], activation="relu")
    params = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])  # identity layer: class = argmax(x)
    X = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(model.predict(params, X), [0, 1, 0, 1])
    assert model.accuracy(params, X, np.array([0, 1, 1, 1])) == 0.75
    proba = model.predict_proba(params, X)
    np.testing.assert_allclose(proba[0], np.exp([2.0, 1.0]) / np.exp([2.0, 1.0]).sum())


def test_init_is_seeded_and_follows_torch_linear_bounds():
    model = MLP([16, 8, 4])
    a, b, c = model.init(3), model.init(3), model.init(4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    (W1, b1), (W2, b2) = model.unflatten(a)
    assert W1.shape == (16, 8) and b1.shape == (8,) and W2.shape == (8, 4)
    assert np.abs(W1).max() <= 0.25 and np.abs(b1).max() <= 0.25  # 1/sqrt(16)
    assert np.abs(W2).max() <= 1 / np.sqrt(8) and np.abs(b2).max() <= 1 / np.sqrt(8)
    assert np.abs(W1).max() > 0.2  # actually spread over the interval
    assert model.init(0, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(model.flatten(model.unflatten(a)), a)


def test_unflatten_gives_writable_views():
    model = MLP([2, 3, 2])
    params = np.zeros(model.n_params)
    (W1, _), _ = model.unflatten(params)
    W1[0, 1] = 5.0
    assert params[1] == 5.0


def test_float32_parameters_give_float32_results():
    model, params, X, y = _problem("tanh", "cross_entropy", "labels")
    p32 = params.astype(np.float32)
    g32 = model.grad(p32, X, y)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, model.grad(params, X, y), rtol=1e-3, atol=1e-5)
    assert model.hessian(p32, X, y).dtype == np.float32


def test_against_torch_autograd():
    torch = pytest.importorskip("torch")
    for activation, loss, kind in CASES:
        model, params, X, y = _problem(activation, loss, kind, sizes=(3, 4, 3), n=8)
        Xt = torch.tensor(X)
        yt = torch.tensor(y)

        def f(p, model=model, Xt=Xt, yt=yt):
            a = Xt
            for W, b, hidden in _layers(p, model.sizes):
                a = torch.nn.functional.linear(a, W.T, b)
                if hidden:
                    a = {
                        "relu": torch.relu,
                        "tanh": torch.tanh,
                        "sigmoid": torch.sigmoid,
                        "linear": lambda z: z,
                    }[model.activation](a)
            if model.loss_name == "cross_entropy":
                return torch.nn.functional.cross_entropy(a, yt)
            if yt.ndim == 1:
                onehot = torch.nn.functional.one_hot(yt, a.shape[1]).to(a.dtype)
                return torch.nn.functional.mse_loss(torch.softmax(a, dim=1), onehot)
            return torch.nn.functional.mse_loss(a, yt)

        pt = torch.tensor(params, requires_grad=True)
        value = f(pt)
        (g,) = torch.autograd.grad(value, pt)
        H = torch.autograd.functional.hessian(f, torch.tensor(params))
        assert model.loss(params, X, y) == pytest.approx(value.item(), rel=1e-12)
        np.testing.assert_allclose(model.grad(params, X, y), g.numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(model.hessian(params, X, y), H.numpy(), rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": [3]}, "sizes: expected a sequence of at least two ints"),
        ({"sizes": [3, 0, 2]}, "sizes: expected"),
        ({"sizes": [3, 2.0]}, "sizes: expected"),
        ({"sizes": [3, 2], "activation": "gelu"}, "activation: expected one of"),
        ({"sizes": [3, 2], "loss": "hinge"}, "loss: expected one of"),
    ],
)
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


def test_bad_calls_raise_and_leave_arrays_unchanged():
    model, params, X, y = _problem("tanh", "cross_entropy", "labels")
    before = snapshot(params, X, y)
    with pytest.raises(ValueError, match=r"params: expected shape \(59,\)"):
        model.loss(params[:-1], X, y)
    with pytest.raises(TypeError, match="params: expected a float32 or float64 array"):
        model.grad(params.astype(np.int64), X, y)
    with pytest.raises(ValueError, match=r"X: expected an array of shape \(n, 3\)"):
        model.grad(params, X[:, :2], y)
    with pytest.raises(ValueError, match=r"y: expected class labels in \[0, 3\)"):
        model.grad(params, X, y + 3)
    with pytest.raises(ValueError, match="y: expected 9 labels like X"):
        model.grad(params, X, y[:4])
    with pytest.raises(TypeError, match="y: cross_entropy expects a 1-D integer array"):
        model.grad(params, X, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"v: expected shape \(59,\)"):
        model.hvp(params, X, y, np.ones(3))
    with pytest.raises(ValueError, match="exceeds max_params=10"):
        model.hessian(params, X, y, max_params=10)
    assert snapshot(params, X, y) == before


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    activation=st.sampled_from(["tanh", "sigmoid", "linear", "relu"]),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_properties_on_random_architectures(sizes, activation, n, seed):
    if sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    model, params, X, y = _problem(
        activation, "cross_entropy", "labels", sizes=sizes, n=n, seed=seed
    )
    H = model.hessian(params, X, y)
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(2, model.n_params))
    # Symmetry of the exact second derivative: u . (H v) == v . (H u).
    Hu, Hv = model.hvp(params, X, y, np.stack([u, v]))
    assert u @ Hv == pytest.approx(v @ Hu, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(H @ v, Hv, rtol=1e-10, atol=1e-12)
    # Directional derivative of the loss along v equals grad . v (central differences).
    h = 1e-6
    fd = (
        _reference_loss(model, params + h * v, X, y) - _reference_loss(model, params - h * v, X, y)
    ) / (2 * h)
    assert model.grad(params, X, y) @ v == pytest.approx(fd, rel=1e-5, abs=1e-7)
