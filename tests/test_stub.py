"""The hand-written stub _core.pyi names exactly what the compiled module defines."""

import ast
from pathlib import Path

import saddlepoint
from saddlepoint import _core

STUB = Path(saddlepoint.__file__).with_name("_core.pyi")


def _stub_names() -> set[str]:
    tree = ast.parse(STUB.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _module_names() -> set[str]:
    return {name for name in dir(_core) if not (name.startswith("__") and name != "__version__")}


def test_stub_names_equal_compiled_names():
    stub, module = _stub_names(), _module_names()
    assert stub - module == set(), "in _core.pyi but not compiled"
    assert module - stub == set(), "compiled but missing from _core.pyi"


def test_py_typed_marker_is_shipped():
    assert STUB.with_name("py.typed").exists()
