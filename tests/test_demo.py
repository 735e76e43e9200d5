"""The quick demo report: it runs, its summary holds the lecture's facts, its page is whole."""

from __future__ import annotations

import json
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from saddlepoint.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    assert main(["demo", "--quick", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def summary(report: Path) -> dict:
    return json.loads((report / "summary.json").read_text())


def test_every_section_is_present(summary: dict) -> None:
    assert list(summary["sections"]) == [
        "critical_points",
        "minimum_ratio",
        "batch_size",
        "momentum",
        "adaptive",
        "loss_functions",
        "speed",
    ]
    assert summary["meta"]["quick"] is True


def test_tiny_network_saddle_and_escape(summary: dict) -> None:
    n = summary["sections"]["critical_points"]["numbers"]
    # Hessian of (1 - w1 w2)^2 at the origin is [[0, -2], [-2, 0]]: eigenvalues -2 and 2.
    np.testing.assert_allclose(n["tiny_network_origin_eigenvalues"], [-2.0, 2.0], atol=1e-12)
    assert n["tiny_network_origin_kind"] == "saddle"
    assert n["tiny_network_origin_minimum_ratio"] == 0.5
    d = np.abs(n["escape_direction"])
    np.testing.assert_allclose(d, [2**-0.5, 2**-0.5], atol=1e-12)
    assert n["escape_reached_valley"] is True
    assert abs(np.prod(n["escape_point"]) - 1.0) < 1e-6
    assert n["escape_loss_drop"] == pytest.approx(1.0, abs=1e-9)
    assert n["gd_stalled_reason"] == "saddle"
    assert n["gd_escaped_reached_valley"] is True


def test_himmelblau_map_is_classified(summary: dict) -> None:
    n = summary["sections"]["critical_points"]["numbers"]
    assert n["himmelblau_kinds"] == {"minimum": 4, "saddle": 4, "maximum": 1, "degenerate": 0}
    assert n["himmelblau_classification_agrees"] == n["himmelblau_critical_points"] == 9


def test_saddles_outnumber_minima(summary: dict) -> None:
    n = summary["sections"]["minimum_ratio"]["numbers"]
    kinds = n["kinds"]
    assert kinds.get("saddle", 0) > kinds.get("minimum", 0)
    assert n["spearman_loss_vs_minimum_ratio"] < 0


def test_batch_size_time_per_epoch_falls(summary: dict) -> None:
    rows = summary["sections"]["batch_size"]["numbers"]["rows"]
    small, large = rows[0], rows[-1]
    assert large["batch"] > small["batch"]
    # per-update time grows far less than the batch, so an epoch gets cheaper
    assert summary["sections"]["batch_size"]["numbers"]["update_time_growth"] < (
        large["batch"] / small["batch"]
    )
    assert large["ms/epoch"] < small["ms/epoch"]


def test_momentum_rolls_through_the_bump(summary: dict) -> None:
    n = summary["sections"]["momentum"]["numbers"]
    assert n["momentum_reached_global_minimum"] is True
    assert n["gd_stuck_in_local_minimum"] is True


def test_ill_conditioned_bowl_is_a_plateau_not_a_critical_point(summary: dict) -> None:
    n = summary["sections"]["adaptive"]["numbers"]
    assert n["gd_plateau_diagnosed"] is True
    # GD with lr = 2/L on f = (x^2 + 100 y^2)/2 flips y every step: |grad| stays at 100*|y0|
    assert n["gd_plateau_grad_norm"] > 1.0
    burst = n["burst_factor"]
    assert burst["Adagrad, lecture RMS"] > 1e3  # the late burst
    assert burst["lecture RMS + decay"] == pytest.approx(1.0)


def test_cross_entropy_beats_mse_from_a_saturated_start(summary: dict) -> None:
    n = summary["sections"]["loss_functions"]["numbers"]
    # d/dz of (1 - sigmoid(z))^2 and of log(1 + e^-z) at z = -6, written out here
    s = 1 / (1 + np.exp(6.0))
    assert n["gradient_at_z_minus_6"]["mse"] == pytest.approx(2 * (1 - s) ** 2 * s, rel=1e-2)
    assert n["gradient_at_z_minus_6"]["cross_entropy"] == pytest.approx(1 - s, rel=1e-3)
    acc = n["final_train_accuracy"]
    assert acc["cross_entropy"] > acc["mse"]


def test_speed_section_measured_adam(summary: dict) -> None:
    numbers = summary["sections"]["speed"]["numbers"]
    assert any(k.startswith("adam n=") for k in numbers)
    assert all(row["saddlepoint µs"] > 0 for row in numbers.values())


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_every_figure_is_a_valid_png(report: Path, summary: dict) -> None:
    figures = [f for s in summary["sections"].values() for f in s["figures"]]
    assert len(figures) >= 7
    for rel in figures:
        w, h = _png_size(report / rel)
        assert w > 200 and h > 150


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append(value)


def test_html_references_only_files_that_exist(report: Path) -> None:
    page = (report / "index.html").read_text()
    parser = _Links()
    parser.feed(page)
    assert parser.refs, "the page references no figures"
    for ref in parser.refs:
        if ref.startswith("#"):
            assert f"id='{ref[1:]}'" in page
            continue
        assert not re.match(r"^[a-z]+://", ref), f"external reference {ref}"
        assert (report / ref).is_file(), f"missing {ref}"


def test_every_number_on_the_page_comes_from_the_summary(report: Path, summary: dict) -> None:
    page = (report / "index.html").read_text()
    for section in summary["sections"].values():
        for finding in section["findings"]:
            from html import escape

            assert escape(finding) in page
