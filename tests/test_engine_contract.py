"""Each optimizer's hyper-parameter names are defined once, by its compiled engine
(``hyper_names``): the Python class, its constructor and _core.pyi must agree with that list."""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest
import saddlepoint
from saddlepoint import _core, optim

ENGINES = {
    optim.SGD: _core.SGDEngine,
    optim.Adagrad: _core.AdagradEngine,
    optim.RMSprop: _core.RMSpropEngine,
    optim.Adam: _core.AdamEngine,
    optim.AdamW: _core.AdamEngine,
}
STUB = Path(saddlepoint.__file__).with_name("_core.pyi")


@pytest.mark.parametrize("cls", list(ENGINES), ids=lambda c: c.__name__)
def test_python_class_takes_the_engines_hyper_names(cls) -> None:
    names = tuple(ENGINES[cls].hyper_names)
    assert cls._hyper_names == names
    annotated = [n for c in reversed(cls.__mro__) for n in vars(c).get("__annotations__", {})]
    assert set(names) <= set(annotated), "each hyper-parameter is declared on the class"
    signature = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert set(names) <= set(signature), "each hyper-parameter is a constructor argument"
    opt = cls(np.zeros(3))
    assert list(opt.hyperparameters()) == ["lr", *names]


@pytest.mark.parametrize(
    "engine", sorted(set(ENGINES.values()), key=lambda e: e.__name__), ids=lambda e: e.__name__
)
def test_stub_declares_the_engines_hyper_names(engine) -> None:
    tree = ast.parse(STUB.read_text())
    (node,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == engine.__name__]
    members = {i.name for i in node.body if isinstance(i, ast.FunctionDef)}
    members |= {i.target.id for i in node.body if isinstance(i, ast.AnnAssign)}
    assert set(engine.hyper_names) <= members
    (init,) = [i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"]
    args = [a.arg for a in init.args.args]
    assert args[: 4 + len(engine.hyper_names)] == [
        "self",
        "params",
        "state",
        "lr",
        *engine.hyper_names,
    ]


def test_refused_construction_leaves_no_engine() -> None:
    with pytest.raises(ValueError, match=r"^eps: "):
        optim.Adam(np.zeros(3), eps=-1.0)
    opt = optim.Adam.__new__(optim.Adam)
    assert opt._engine is None and repr(opt) == "<Adam, not constructed>"
