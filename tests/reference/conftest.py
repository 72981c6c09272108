"""Hypothesis profiles for the reference tests: CI's is fixed and checks 2,000 schedules.

``ci`` (the default) derandomizes, so every CI run checks the same 200
reports of ``schedules.BATCH`` (10) runs each, and a failure reproduces
anywhere; ``explore`` draws new ones each run, for hunting disagreements
locally (``HYPOTHESIS_PROFILE=explore``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The report is built from files on disk each time (some 0.15 s for a batch),
# so a per-example deadline would only measure the machine's load.
_COMMON = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", _COMMON, max_examples=200, derandomize=True)
settings.register_profile("explore", _COMMON, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
