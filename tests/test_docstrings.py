"""Every example in the package's docstrings runs and is true.

The doctests run over every module of the *installed* package (found by walking
``saddlepoint.__path__``), not over the files of the source tree: with ``pip install .`` the
compiled core lives only in the installed copy, and pytest's ``--doctest-modules`` would
import the source tree's ``python/saddlepoint`` without it. A module that cannot be imported
fails its test, unless what is missing is an optional third-party library outside the [test]
extra (torch, optax), which skips it with that reason.

Flags for every example: NORMALIZE_WHITESPACE, ELLIPSIS, and NUMBER (as pytest's doctest
option: a float in the expected output matches any float that agrees to the digits written,
so ``0.333`` matches ``0.33333333``). ``# doctest: +SKIP`` is for examples whose cost or
optional dependency is beyond a unit test, with the reason next to it.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import re
from types import ModuleType

import pytest
import saddlepoint

OPTIONAL = ("torch", "optax")  # not in the [test] extra: their examples may be skipped

NUMBER = doctest.register_optionflag("NUMBER")
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS | NUMBER

# a float literal with a fractional part or an exponent (integers are compared as text)
_FLOAT = re.compile(
    r"(?<![\w.])[-+]?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)(?![\w.])"
)


class _NumberChecker(doctest.OutputChecker):
    """doctest's checker, plus NUMBER: each float written in the expected output matches the
    float at the same place in the actual output if they agree to the precision written."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        if not optionflags & NUMBER:
            return False
        wants, gots = list(_FLOAT.finditer(want)), list(_FLOAT.finditer(got))
        if not wants or len(wants) != len(gots):
            return False
        pieces, last = [], 0
        for w, g in zip(wants, gots):
            text = w.group()
            mantissa, _, exponent = text.lower().partition("e")
            decimals = len(mantissa.partition(".")[2])
            tolerance = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
            if abs(float(g.group()) - float(text)) > tolerance * (1 + 1e-9):
                return False
            pieces += [got[last : g.start()], text]
            last = g.end()
        return super().check_output(want, "".join(pieces) + got[last:], optionflags)


def _module_names() -> list[str]:
    """The package and every module under it, but ``__main__`` (importing it runs the CLI)."""
    names = [saddlepoint.__name__]
    for info in pkgutil.walk_packages(saddlepoint.__path__, f"{saddlepoint.__name__}."):
        if info.name.rpartition(".")[2] != "__main__":
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs {exc.name}, which is not installed")
        raise


def test_every_module_is_found() -> None:
    # the walk sees the subpackages' private modules too, where the examples live
    assert "saddlepoint.hessian" in MODULES and "saddlepoint._core" in MODULES
    assert len(MODULES) > 20


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_are_true(name: str) -> None:
    module = _import(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(checker=_NumberChecker(), optionflags=FLAGS)
    out = io.StringIO()
    for test in finder.find(module, name, globs={}):
        test.globs = {"__name__": name, **vars(module)}
        runner.run(test, out=out.write)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, (
        f"{results.failed} of {results.attempted} examples\n{out.getvalue()}"
    )
