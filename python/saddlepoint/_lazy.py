"""Attributes a module resolves from another module on first use."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_attributes(owner: str, source: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` for ``owner``: ``owner.<key>`` is ``source.<value>``,
    imported when first asked for. This is how ``schedules.plot`` and ``surfaces.plot`` reach
    :mod:`saddlepoint.plot` while imports point one way (plot uses schedules and surfaces,
    never the reverse at import time)."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(source), names[name])
        raise AttributeError(f"module {owner!r} has no attribute {name!r}")

    return __getattr__
