"""``saddlepoint sweep CONFIG.toml``: runs, summary table, and one-line errors."""

from __future__ import annotations

import pytest

pytest.importorskip("pandas")

from saddlepoint.cli import main

GOOD = """
surface = "rosenbrock"
steps = 200
x0 = [-1.5, 2.0]
out = "{out}"
[grid]
optimizer = ["sgd", "adam"]
lr = [1e-4, 1e-3, 1e-2]
momentum = [0.0, 0.9]
"""


def _write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_help_explains_the_format(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "[grid]" in out and 'surface = "rosenbrock"' in out and "[[runs]]" in out


def test_sweep_runs_a_config_and_prints_the_best_per_optimizer(tmp_path, capsys):
    out = tmp_path / "r.sqlite"
    cfg = _write(tmp_path, GOOD.format(out=out))
    assert main(["sweep", cfg, "--no-progress", "--csv", str(tmp_path / "r.csv")]) == 0
    text = capsys.readouterr().out
    # 6 SGD runs (lr x momentum) and 3 Adam runs (lr; Adam takes no momentum)
    assert "9 runs" in text and "sgd" in text and "adam" in text
    assert out.exists() and (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "surface = 'rosenbrock'\nsteps = 10\n[grid]\nlr = [-1.0]\n",
            "grid key 'lr': expected a finite value >= 0",
        ),
        (
            "surface = 'rosenbrock'\nsteps = 10\n[grid]\nlr = [0.1]\noptimizer = ['lbfgs']\n",
            "grid key 'optimizer'",
        ),
        ("surface = 'no_such_surface'\nsteps = 10\n[grid]\nlr = [0.1]\n", "surface:"),
        ("surface = 'rosenbrock'\nsteps = 10\n", "exactly one of \\[grid\\]"),
        (
            "surface = 'rosenbrock'\nsteps = 10\nspeed = 3\n[grid]\nlr = [0.1]\n",
            "unknown config key 'speed'",
        ),
        ("steps = 10\n[grid]\nlr = [0.1]\n", "the config needs 'surface'"),
        ("surface = 'rosenbrock'\nsteps = [1\n", "is not valid TOML"),
        (
            "surface = 'rosenbrock'\nsteps = 10\ndtype = 'float16'\n[grid]\nlr = [0.1]\n",
            "dtype: expected 'float32' or 'float64'",
        ),
    ],
)
def test_bad_configs_get_one_line_and_a_nonzero_exit(tmp_path, capsys, text, match):
    import re

    code = main(["sweep", _write(tmp_path, text), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("saddlepoint sweep: error: ")
    assert re.search(match, err), err


def test_unreadable_file(tmp_path, capsys):
    code = main(["sweep", str(tmp_path / "missing.toml")])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "cannot read" in err
