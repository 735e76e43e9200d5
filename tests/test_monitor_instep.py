"""The instruments an SGD/Adam/AdamW step takes in its own pass (Monitor.observe(loss)).

References are float64 NumPy formulas written here from the definitions in
cpp/saddlepoint/monitor/instrumented.hpp: the update u = theta_new - theta_old, the previous
direction q (SGD: the previous update; Adam: -lr'/bc1' times the momentum before the step).
"""

import numpy as np
import pytest
import saddlepoint as sp
from saddlepoint import _core

NAMES = _core.step_sum_names
CONFIGS = {
    "adam": lambda p: sp.optim.Adam(p, lr=1e-2),
    "adam_coupled_wd": lambda p: sp.optim.Adam(p, lr=1e-2, weight_decay=0.1),
    "adamw": lambda p: sp.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
    "amsgrad": lambda p: sp.optim.Adam(p, lr=1e-2, amsgrad=True, betas=(0.8, 0.99)),
    "adam_maximize": lambda p: sp.optim.Adam(p, lr=1e-2, maximize=True),
    "sgd": lambda p: sp.optim.SGD(p, lr=1e-2),
    "sgd_momentum": lambda p: sp.optim.SGD(
        p, lr=1e-2, momentum=0.9, dampening=0.3, weight_decay=0.01
    ),
    "nesterov": lambda p: sp.optim.SGD(p, lr=1e-2, momentum=0.9, nesterov=True),
}
# float32 sums are taken in float32 within blocks of 4096 elements, in float64 across them
RTOL = {np.float32: 2e-4, np.float64: 1e-11}


def _reference_run(name, dtype, n=9000, steps=6, seed=0):
    """Plain and instrumented optimizers side by side; per step the instrumented one's sums
    and the float64 reference sums."""
    rng = np.random.default_rng(seed)
    p_plain = rng.standard_normal(n).astype(dtype)
    p_inst = p_plain.copy()
    plain, inst = CONFIGS[name](p_plain), CONFIGS[name](p_inst)
    inst._engine._set_instrumented(True)
    adam = isinstance(inst, sp.optim.Adam)
    beta1 = inst.betas[0] if adam else None
    rows, prev_u, prev_scale = [], None, None
    for t in range(1, steps + 1):
        g = rng.standard_normal(n).astype(dtype)
        before = p_inst.astype(np.float64)
        m_before = inst._buffers()["exp_avg"].astype(np.float64) if adam else None
        plain.step(g)
        inst.step(g)
        np.testing.assert_array_equal(
            p_inst, p_plain
        )  # the update is the plain step's, bit for bit
        for key, buf in plain._buffers().items():
            np.testing.assert_array_equal(inst._buffers()[key], buf)
        got = dict(zip(NAMES, inst._engine._step_sums()[0]))
        u = p_inst.astype(np.float64) - before
        g64 = g.astype(np.float64)
        if adam:
            q = None if t == 1 else prev_scale * m_before
            prev_scale = -(1e-2 / (1 - beta1**t))
        else:
            q = prev_u
        ref = {"grad_sq": g64 @ g64, "update_sq": u @ u, "grad_dot_update": g64 @ u,
               "param_sq": p_inst.astype(np.float64) @ p_inst, "nonfinite_grad": 0.0,
               "nonfinite_param": 0.0}  # fmt: skip
        if q is not None:
            ref.update(update_dot_prev=u @ q, prev_sq=q @ q)
            if not adam:
                ref["grad_dot_prev"] = g64 @ q
        rows.append((got, ref))
        prev_u = u
    return rows, adam


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_step_sums_against_float64_reference(name, dtype):
    rows, adam = _reference_run(name, dtype)
    for t, (got, ref) in enumerate(rows, start=1):
        for key, value in ref.items():
            assert got[key] == pytest.approx(value, rel=RTOL[dtype], abs=1e-30), (t, key)
        if adam:  # the slope along the previous update is not taken from the momentum
            assert np.isnan(got["grad_dot_prev"])
        if t == 1:  # nothing before the first step
            assert got["prev_sq"] == 0.0


def test_same_bits_with_one_and_two_threads():
    n = 100_000  # above the parallel threshold: blocks spread over threads
    rng = np.random.default_rng(1)
    p0, grads = rng.standard_normal(n), rng.standard_normal((3, n))
    out = []
    for threads in (1, 2):
        sp.set_num_threads(threads)
        try:
            p = p0.copy()
            opt = sp.optim.Adam(p, lr=1e-3)
            opt._engine._set_instrumented(True)
            for g in grads:
                opt.step(g)
            out.append((p.copy(), opt._engine._step_sums().copy()))
        finally:
            sp.set_num_threads(2)
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_nonfinite_entries_are_counted():
    p = np.ones(10_000)
    g = np.zeros_like(p)
    g[[3, 5000, 9999]] = [np.nan, np.inf, -np.inf]
    opt = sp.optim.SGD(p, lr=0.1)
    opt._engine._set_instrumented(True)
    opt.step(g)
    got = dict(zip(NAMES, opt._engine._step_sums()[0]))
    assert got["nonfinite_grad"] == 3
    assert got["nonfinite_param"] == 3  # p - lr * g carries them over


def test_list_of_arrays_gives_one_row_per_array():
    rng = np.random.default_rng(2)
    params = [rng.standard_normal((30, 4)), rng.standard_normal(7)]
    opt = sp.optim.SGD(params, lr=0.1, momentum=0.5)
    opt._engine._set_instrumented(True)
    grads = [rng.standard_normal(a.shape) for a in params]
    before = [a.copy() for a in params]
    opt.step(grads)
    table = opt._engine._step_sums()
    assert table.shape == (2, len(NAMES))
    for row, a, b, g in zip(table, params, before, grads):
        u = (a - b).ravel()
        assert row[NAMES.index("grad_dot_update")] == pytest.approx(g.ravel() @ u, rel=1e-12)


# --------------------------------------------------------------------- Monitor.observe(loss)


def _watch(make, steps, with_grad, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(500)
    scale = np.linspace(0.5, 3.0, 500)
    opt = make(x)
    mon = sp.Monitor(optimizer=opt, curvature_every=0)
    momenta = []
    for _ in range(steps):
        grad = scale * x + 0.01 * rng.standard_normal(500)
        loss = 0.5 * float(scale @ x**2)
        if isinstance(opt, sp.optim.Adam):
            momenta.append(opt._buffers()["exp_avg"].copy())
        opt.step(grad)
        if with_grad:
            mon.observe(loss, grad)
        else:
            mon.observe(loss)
    return mon, momenta


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "nesterov"])
def test_sgd_in_step_history_equals_the_given_gradient_path(name):
    inside, _ = _watch(CONFIGS[name], 120, with_grad=False)
    given, _ = _watch(CONFIGS[name], 120, with_grad=True)
    assert inside.instrumented and not given.instrumented
    a, b = inside.columns(), given.columns()
    for col in ("loss", "grad_norm", "update_norm", "param_norm", "cos_update",
                "cos_grad_update", "alpha", "effective_lr"):  # fmt: skip
        np.testing.assert_allclose(a[col], b[col], rtol=1e-10, atol=0, err_msg=col)
    # the distance travelled: once a window and for the last row
    rows = np.isfinite(a["distance"])
    assert rows[-1] and rows.sum() >= 120 // inside.window
    np.testing.assert_allclose(a["distance"][rows], b["distance"][rows], rtol=1e-10)


def test_adam_in_step_cosine_is_against_the_previous_momentum():
    mon, _ = _watch(CONFIGS["adam"], 60, with_grad=False)
    ref, _ = _watch(CONFIGS["adam"], 60, with_grad=True)  # the same run, exact updates
    c, r = mon.columns(), ref.columns()
    np.testing.assert_allclose(c["update_norm"], r["update_norm"], rtol=1e-12)
    # update u_t from the exact run's trajectory is not kept: rebuild it from the norms' run
    rng = np.random.default_rng(3)
    x = rng.standard_normal(500)
    opt = sp.optim.Adam(x, lr=1e-2)
    scale = np.linspace(0.5, 3.0, 500)
    for t in range(60):
        grad = scale * x + 0.01 * rng.standard_normal(500)
        m_before = opt._buffers()["exp_avg"].copy()
        before = x.copy()
        opt.step(grad)
        if t == 0:
            continue
        u = x - before
        cos = -(u @ m_before) / (np.linalg.norm(u) * np.linalg.norm(m_before))
        assert c["cos_update"][t] == pytest.approx(cos, rel=1e-9)


def test_adam_in_step_alpha_is_the_three_value_parabola():
    mon, _ = _watch(CONFIGS["adam"], 40, with_grad=False)
    c = mon.columns()
    loss = c["loss"]
    # slope at the start along the update: g . u = cos_grad_update * |g| |u|
    slope = c["cos_grad_update"] * c["grad_norm"] * c["update_norm"]
    for t in range(1, 39):
        a = loss[t + 1] - loss[t] - slope[t]
        expected = 1.0 / (-slope[t] / (2 * a)) - 1.0 if a > 0 else np.nan
        if np.isnan(expected):
            assert np.isnan(c["alpha"][t])
        else:
            assert c["alpha"][t] == pytest.approx(expected, rel=1e-9)


def test_bowl_oscillation_from_the_step_itself():
    bowl = sp.surfaces.get("ill_conditioned", condition=1000)
    x = np.array([1.0, 1.0])
    opt = sp.optim.SGD(x, lr=1.999 / 1000)
    mon = sp.Monitor(optimizer=opt, hvp=lambda v: bowl.hessian(x) @ v)
    for _ in range(3000):
        loss = float(bowl.value(x))
        opt.step(bowl.grad(x))
        mon.observe(loss)
    assert [e.kind for e in mon.events] == ["oscillation"]
    assert mon.events[0].details["stability_ratio"] == pytest.approx(0.9995, abs=5e-5)


# ------------------------------------------------------------------------------ bad calls


def test_observe_without_grad_needs_an_instrumented_optimizer():
    p = np.zeros(4)
    opt = sp.optim.Adagrad(p, lr=0.1)
    mon = sp.Monitor(optimizer=opt)
    assert not mon.instrumented
    opt.step(np.ones(4))
    with pytest.raises(TypeError, match=r"^grad: "):
        mon.observe(1.0)


def _one_sgd_step():
    opt = sp.optim.SGD(np.zeros(4), lr=0.1)
    mon = sp.Monitor(optimizer=opt)
    opt.step(np.ones(4))
    return opt, mon


def test_observe_without_grad_twice_for_one_step_is_refused():
    _, mon = _one_sgd_step()
    mon.observe(1.0)
    with pytest.raises(ValueError, match="once per step"):
        mon.observe(1.0)
    assert len(mon.columns()["step"]) == 1


def test_observe_without_grad_before_any_step_is_refused():
    opt = sp.optim.SGD(np.zeros(4), lr=0.1)
    mon = sp.Monitor(optimizer=opt)
    with pytest.raises(ValueError, match=r"^grad: the optimizer took no instrumented step"):
        mon.observe(1.0)


def test_once_given_a_gradient_the_monitor_keeps_to_gradients():
    opt, mon = _one_sgd_step()
    mon.observe(1.0, np.ones(4))
    assert not mon.instrumented and not opt._engine._instrumented  # nobody pays twice
    opt.step(np.ones(4))
    with pytest.raises(TypeError, match=r"^grad: "):
        mon.observe(1.0)


def test_per_row_optimizers_are_not_instrumented():
    P = np.zeros((3, 2))
    opt = sp.optim.SGD(P, lr=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="vary by row"):
        opt._engine._set_instrumented(True)
    assert not sp.Monitor(optimizer=opt).instrumented


def test_adagrad_engine_refuses_instruments():
    opt = sp.optim.Adagrad(np.zeros(3), lr=0.1)
    with pytest.raises(TypeError, match="SGD and Adam"):
        opt._engine._set_instrumented(True)


def test_resumed_in_step_monitor_continues_the_history(tmp_path):
    """Saved and loaded mid-run with its optimizer, the monitor records every later row as an
    uninterrupted one does, except what needs the previous direction on the first step after
    the resume (the restored engine starts a new sequence: that row's cosine is NaN)."""

    def run(split):
        x = np.linspace(-1.0, 1.0, 300)
        opt = sp.optim.SGD(x, lr=0.05, momentum=0.9)
        mon = sp.Monitor(optimizer=opt)
        for t in range(120):
            if t == split:
                mon.save(tmp_path / "monitor.npz")
                state = opt.state_dict()
                x = x.copy()
                opt = sp.optim.SGD(x, lr=0.05, momentum=0.9)
                opt.load_state_dict(state)
                mon = sp.Monitor.load(tmp_path / "monitor.npz", optimizer=opt)
            loss = float(x @ x)
            opt.step(2 * x + 0.01 * np.sin(t * np.arange(300)))
            mon.observe(loss)
        return mon.columns()

    whole, resumed = run(None), run(60)
    for col in ("loss", "grad_norm", "update_norm", "param_norm", "improvement"):
        np.testing.assert_array_equal(resumed[col], whole[col], err_msg=col)
    after = np.arange(120) != 60
    np.testing.assert_array_equal(resumed["cos_update"][after], whole["cos_update"][after])
    assert np.isnan(resumed["cos_update"][60])
    # the row before the resume is fitted without its end slope (the restored engine does not
    # know the previous direction), every other row as in the whole run
    keep = np.arange(120) != 59
    np.testing.assert_array_equal(resumed["alpha"][keep], whole["alpha"][keep])
    assert np.isfinite(resumed["alpha"][59])


def test_in_step_state_needs_its_optimizer(tmp_path):
    _, mon = _one_sgd_step()
    mon.observe(1.0)
    mon.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="optimizer"):
        sp.Monitor.load(tmp_path / "m.npz")
