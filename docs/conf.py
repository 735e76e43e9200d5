"""Sphinx configuration of saddlepoint's documentation site.

Build it (from a checkout, with the package installed): ``pip install ".[docs]"`` then
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import os
from importlib.metadata import version as _version

os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery's scripts draw off-screen

project = "saddlepoint"
author = "the saddlepoint developers"
copyright = "2026, the saddlepoint developers"
release = _version("saddlepoint")
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "**/*.zip"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

templates_path = ["_templates"]
autosummary_generate = True
autosummary_ignore_module_all = False  # each module's __all__ is its public API
# a class a second module re-exports is documented at both names, indexed at its home only
autosummary_context = {"reexports": {"saddlepoint.train.Event"}}
autodoc_typehints = "none"  # the signatures carry them; numpydoc renders the parameters
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()  # docstrings are free-form prose in places
# the docstrings name types in prose ("array", "callable"), not as cross-references
numpydoc_xref_param_type = False


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every plot_*.py runs at build time
    "download_all_examples": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"saddlepoint {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}


def _kernel_docstrings_verbatim(app, what, name, obj, options, lines):
    """The compiled kernels' docstrings (pybind11, written for ``help()``) give their update
    rules as plain-text formulas: keep the first paragraph as prose, show the rest verbatim.
    Runs before numpydoc (priority 400), so numpydoc sees a literal block."""
    if getattr(obj, "__module__", None) != "saddlepoint._core":
        return
    text = [line.rstrip() for line in lines]
    while text and not text[0]:
        text.pop(0)
    while text and not text[-1]:
        text.pop()
    if "" not in text:
        lines[:] = text
        return
    cut = text.index("")
    lines[:] = [*text[:cut], "", "::", "", *("    " + line for line in text[cut + 1 :])]


def setup(app):
    app.connect("autodoc-process-docstring", _kernel_docstrings_verbatim, priority=400)
