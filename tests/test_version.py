"""The version has one source (pyproject.toml's project.version): the package, its installed
metadata, the compiled core and the changelog agree."""

from __future__ import annotations

import importlib.metadata
import pathlib
import re

import pytest
import saddlepoint
from saddlepoint import _core

_CHANGELOG = pathlib.Path(__file__).resolve().parents[1] / "CHANGELOG.md"


def test_version_is_the_installed_metadata() -> None:
    assert saddlepoint.__version__ == importlib.metadata.version("saddlepoint")


def test_compiled_core_has_the_same_version() -> None:
    assert _core.__version__ == saddlepoint.__version__


def test_version_is_pep440() -> None:
    assert re.fullmatch(
        r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", saddlepoint.__version__
    )


def test_changelog_has_a_section_for_this_version() -> None:
    if not _CHANGELOG.is_file():
        pytest.skip("no CHANGELOG.md beside these tests")
    text = _CHANGELOG.read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(saddlepoint.__version__)}\]", text, re.MULTILINE)
