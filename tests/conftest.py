"""Shared test configuration: the hypothesis profile used by default, and torch's threads.

"ci" has no deadline (the machine's 2 cores are shared, so timings are noisy) and a modest
number of examples per property, which keeps the whole suite fast. Select another profile
with ``HYPOTHESIS_PROFILE=dev`` (more examples) for a longer local search.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """torch on one thread for a module (``pytestmark = pytest.mark.usefixtures(...)``): the
    results do not depend on it, and on a shared 2-core host torch's OpenMP workers spin-wait
    for a busy core (a 200-step run took 13 s on 2 threads under load, 0.4 s on one; one
    Hessian-vector product of a tiny model 184 ms against 2.3 ms; docs/torch.md, Threads)."""
    import torch  # only modules that have torch ask for this

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
