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


def _stub_classes() -> dict[str, set[str]]:
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name != "__init__":
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return classes


def test_stub_class_members_equal_compiled_members():
    for name, stub_members in _stub_classes().items():
        cls = getattr(_core, name)
        compiled = {m for m in vars(cls) if not m.startswith("__") and "pybind11" not in m}
        bases = [b for b in cls.__mro__[1:] if b.__module__ == _core.__name__]
        inherited = {m for b in bases for m in vars(b) if not m.startswith("__")}
        stub_inherited = set().union(
            *(_stub_classes().get(b.__name__, set()) for b in bases), set()
        )
        assert stub_members | stub_inherited >= compiled, f"{name}: missing from the stub"
        assert stub_members <= compiled | inherited, f"{name}: in the stub but not compiled"
