"""pytest plugin (entry point ``invariances``): Hypothesis profiles and a header line.

Profiles, chosen by the environment variable ``HYPOTHESIS_PROFILE``:

- ``dev`` (default): 50 examples, random seeds, the example database on;
- ``ci``: 30 examples, derandomized (the same examples every run), no
  database, no deadline: deterministic and time-bounded on a 2-core runner;
- ``thorough``: 1000 examples per property, for deep local runs.

``pytest --hypothesis-profile=NAME`` still wins over the variable.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
_SLOW_DATA_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("dev", max_examples=50, deadline=None, suppress_health_check=_SLOW_DATA_OK)
settings.register_profile(
    "ci", max_examples=30, derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=_SLOW_DATA_OK,
)
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=_SLOW_DATA_OK)


def active_profile_name():
    """The profile named by ``HYPOTHESIS_PROFILE`` (``dev`` when unset)."""
    return os.environ.get(PROFILE_VARIABLE, "dev")


def pytest_configure(config):
    name = active_profile_name()
    if name not in ("dev", "ci", "thorough"):
        raise ValueError(f"{PROFILE_VARIABLE}={name!r} must be one of 'dev', 'ci', 'thorough'")
    if not config.getoption("hypothesis_profile", default=None):
        settings.load_profile(name)


def pytest_report_header(config):
    current = settings.get_current_profile_name() if hasattr(settings, "get_current_profile_name") else None
    return f"convnet-invariances: Hypothesis profile '{current or active_profile_name()}' (set {PROFILE_VARIABLE}=dev|ci|thorough)"
