"""The package's top level: every name in ``__all__`` exists, the import stays cheap, and the
layout has one home per idea (no module named like a function it would shadow)."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import types

import pytest
import saddlepoint


@pytest.mark.parametrize("name", saddlepoint.__all__)
def test_every_name_in_all_resolves(name):
    value = getattr(saddlepoint, name)
    assert value is not None
    namespace: dict[str, object] = {}
    exec(f"from saddlepoint import {name}", namespace)
    assert namespace[name] is value


def test_dir_lists_all():
    assert set(saddlepoint.__all__) <= set(dir(saddlepoint))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'demo'"):
        saddlepoint.demo  # noqa: B018


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("minimize", "saddlepoint.train"),
        ("classify", "saddlepoint.hessian"),
        ("sweep", "saddlepoint.sweeps"),
    ],
)
def test_top_level_functions_are_the_functions_of_their_home(name, home):
    function = getattr(saddlepoint, name)
    assert inspect.isfunction(function)
    assert function is getattr(importlib.import_module(home), name)


def test_sweep_is_a_function_and_no_module_shadows_it():
    assert inspect.isfunction(saddlepoint.sweep)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("saddlepoint.sweep")


@pytest.mark.parametrize(
    "name", ["sweeps", "cli", "train", "surfaces", "schedules", "experiments", "hessian"]
)
def test_families_are_subpackages_that_re_export_their_public_names(name):
    module = importlib.import_module(f"saddlepoint.{name}")
    assert isinstance(module, types.ModuleType)
    assert hasattr(module, "__path__"), f"saddlepoint.{name} should be a subpackage"
    for public in getattr(module, "__all__", ()):
        assert hasattr(module, public), f"saddlepoint.{name}.{public}"


def test_import_is_cheap():
    # A fresh interpreter: other tests have imported the heavy libraries into this one.
    code = (
        "import sys, saddlepoint; "
        "heavy = [m for m in ('pandas', 'matplotlib', 'scipy', 'sklearn', 'dask', 'tqdm') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"import saddlepoint imported {out}"


@pytest.mark.parametrize("name", ["schedules", "surfaces"])
def test_schedules_and_surfaces_do_not_import_plot(name):
    # plot depends on schedules and surfaces, never the reverse at import time.
    code = f"import sys, saddlepoint.{name}; print('saddlepoint.plot' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False"


def test_python_dash_m_saddlepoint_help():
    out = subprocess.run(
        [sys.executable, "-m", "saddlepoint", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for command in ("demo", "bench", "sweep", "classify"):
        assert command in out.stdout
