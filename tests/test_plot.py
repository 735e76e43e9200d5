"""Plots render off-screen to PNG and contain the artists they promise."""

from __future__ import annotations

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from saddlepoint import plot, schedules, surfaces  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render(ax):
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=50)
    data = buf.getvalue()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    return data


def test_reexports():
    assert schedules.plot is plot.plot_schedule
    assert surfaces.plot is plot.plot_surface


def test_plot_schedule_draws_the_values():
    s = schedules.cosine(0.1, T_max=25, eta_min=1e-3)
    ax = schedules.plot(s, 40)
    assert isinstance(ax, Axes)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(40))
    np.testing.assert_array_equal(line.get_ydata(), s(np.arange(40)))
    assert line.get_label() == repr(s)
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"
    render(ax)


def test_plot_schedule_on_given_axes_with_steps_array_and_plain_callable():
    fig = Figure()
    ax = fig.add_subplot()
    steps = np.array([0, 5, 10, 20])
    out = schedules.plot(schedules.step_decay(1.0, 5, 0.5), steps, ax=ax, label="step")
    assert out is ax
    schedules.plot(lambda k: 1.0 / (1 + k), steps, ax=ax, color="red")
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 0.5, 0.25, 0.0625])
    np.testing.assert_allclose(lines[1].get_ydata(), 1.0 / (1 + steps))
    assert lines[0].get_label() == "step"
    render(ax)


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        (0, ValueError, r"steps: expected a positive number of steps, got 0"),
        (np.array([0.5, 1.0]), ValueError, r"steps: expected an int or a 1-D integer array"),
        (np.zeros((2, 2), dtype=int), ValueError, r"1-D integer array"),
    ],
)
def test_plot_schedule_bad_steps(steps, error, message):
    with pytest.raises(error, match=message):
        schedules.plot(schedules.constant(0.1), steps)


def test_plot_schedule_bad_schedule():
    with pytest.raises(TypeError, match=r"schedule: expected a callable"):
        schedules.plot(0.1, 10)


def test_plot_surface_contours_critical_points_and_paths():
    s = surfaces.himmelblau()
    path_a = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 2.0]])
    path_b = np.array([[-1.0, 0.0], [-2.8, 3.1]])
    ax = surfaces.plot(s, {"gd": path_a, "adam": path_b}, resolution=60)
    assert isinstance(ax, Axes)
    # contourf + contour, plus one scatter per kind of critical point
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert {sc.get_label() for sc in scatters} == {"minimum", "saddle", "maximum"}
    n_points = sum(len(sc.get_offsets()) for sc in scatters)
    assert n_points == len(s.critical_points) == 9
    assert len(ax.collections) - len(scatters) >= 2  # the filled and the line contours
    labels = [line.get_label() for line in ax.get_lines()]
    assert "gd" in labels and "adam" in labels
    gd = next(line for line in ax.get_lines() if line.get_label() == "gd")
    np.testing.assert_array_equal(gd.get_xydata(), path_a)
    legend_texts = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"gd", "adam", "minimum"} <= legend_texts
    assert ax.get_xlim() == (-5.0, 5.0) and ax.get_title() == "himmelblau"
    render(ax)


def test_plot_surface_list_of_paths_log_scale_and_custom_bounds():
    s = surfaces.goldstein_price()
    ax = surfaces.plot(s, [np.array([[-1.5, 1.5], [0.0, -1.0]])], resolution=40)
    assert "log scale" in ax.get_title()  # values span six orders of magnitude
    ax2 = surfaces.plot(s, log=False, resolution=40, bounds=((-1, 1), (-2, 0)))
    assert "log scale" not in ax2.get_title()
    assert ax2.get_xlim() == (-1.0, 1.0) and ax2.get_ylim() == (-2.0, 0.0)
    render(ax)
    render(ax2)


def test_plot_surface_without_critical_points_on_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    out = surfaces.plot(surfaces.tiny_network(), ax=ax, critical_points=False, resolution=30)
    assert out is ax
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    assert ax.get_legend() is None
    render(ax)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"surface": surfaces.rosenbrock(3)}, ValueError, r"expected a 2-D \(or 1-D\) .*dim=3"),
        ({"trajectories": [np.zeros((4, 3))]}, ValueError, r"shape \(steps, 2\), got shape"),
        ({"trajectories": {"a": np.zeros((0, 2))}}, ValueError, r"trajectories: expected non"),
        ({"bounds": ((0, 1),)}, ValueError, r"bounds: expected 2 pairs"),
        ({"resolution": 1}, ValueError, r"resolution: expected an int >= 2, got 1"),
        ({"resolution": 2.5}, TypeError, r"resolution: expected an int >= 2"),
    ],
)
def test_plot_surface_bad_input(kwargs, error, message):
    kwargs = {"surface": surfaces.saddle(), **kwargs}
    with pytest.raises(error, match=message):
        surfaces.plot(**kwargs)


def test_plots_do_not_touch_pyplot_state():
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    schedules.plot(schedules.constant(0.1), 5)
    surfaces.plot(surfaces.saddle(), resolution=20)
    assert plt.get_fignums() == before


def test_plot_1d_surface_as_a_curve_with_paths_on_it():
    s = surfaces.bumpy_1d()
    x, gd = s.start.copy(), [s.start[0]]
    for _ in range(50):
        x = x - 0.005 * s.grad(x)
        gd.append(x[0])
    ax = surfaces.plot(s, {"gd": np.array(gd), "fixed": np.array([[1.0], [0.5]])}, resolution=50)
    curve = ax.get_lines()[0]
    np.testing.assert_allclose(curve.get_xdata(), np.linspace(-1.8, 2.2, 50))
    np.testing.assert_allclose(curve.get_ydata(), s.value(np.linspace(-1.8, 2.2, 50)[:, None]))
    gd_line = next(line for line in ax.get_lines() if line.get_label() == "gd")
    np.testing.assert_allclose(gd_line.get_ydata(), s.value(np.array(gd)[:, None]))
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    offsets = np.concatenate([sc.get_offsets() for sc in scatters])
    assert len(offsets) == 3  # two minima and the bump, drawn on the curve
    np.testing.assert_allclose(offsets[:, 1], s.value(offsets[:, :1]))
    assert ax.get_xlabel() == "$x$" and ax.get_title() == "bumpy_1d"
    render(ax)


def test_bad_trajectory_draws_nothing():
    fig = Figure()
    ax = fig.add_subplot()
    with pytest.raises(ValueError, match=r"trajectories"):
        surfaces.plot(surfaces.saddle(), [np.zeros((3, 2)), np.zeros(3)], ax=ax, resolution=10)
    assert not ax.collections and not ax.get_lines()
