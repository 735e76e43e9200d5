"""Shared test configuration: the hypothesis profile used by default.

"ci" has no deadline (the machine's 2 cores are shared, so timings are noisy) and a modest
number of examples per property, which keeps the whole suite fast. Select another profile
with ``HYPOTHESIS_PROFILE=dev`` (more examples) for a longer local search.
"""

from __future__ import annotations

import os

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
