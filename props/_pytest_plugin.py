"""The pytest plugin (entry point ``invariances``): opt-in Hypothesis profiles for invariance checks.

Installing convnet-invariances must not change another project's tests, so
this module imports nothing heavy (no torch) and does nothing unless asked:

- it registers three namespaced Hypothesis profiles —
  ``invariances-dev`` (50 examples), ``invariances-ci`` (30 examples,
  derandomized, no database, no deadline: deterministic and time-bounded on
  a small CI runner) and ``invariances-thorough`` (1000 examples);
- it loads one only when asked, by ``pytest --invariances-profile=ci`` or
  the environment variable ``INVARIANCES_PROFILE=ci`` (the option wins);
- it never reads, rejects or replaces ``HYPOTHESIS_PROFILE`` or a profile the
  project loaded itself, and it adds a header line only when it loaded one.

An unknown name given to our own option or variable is a pytest usage error
that lists the valid names.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

OPTION = "--invariances-profile"
VARIABLE = "INVARIANCES_PROFILE"
PREFIX = "invariances-"
_SLOW_DATA_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

PROFILES = {
    "dev": dict(max_examples=50, deadline=None, suppress_health_check=_SLOW_DATA_OK),
    "ci": dict(max_examples=30, derandomize=True, database=None, deadline=None, print_blob=True,
               suppress_health_check=_SLOW_DATA_OK),
    "thorough": dict(max_examples=1000, deadline=None, suppress_health_check=_SLOW_DATA_OK),
}
for _name, _options in PROFILES.items():
    settings.register_profile(PREFIX + _name, **_options)  # type: ignore[arg-type]

_loaded: list[str] = []  # the profile this plugin loaded in this session, if any


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("invariances", "convnet-invariances")
    group.addoption(OPTION, dest="invariances_profile", default=None, metavar="NAME",
                    help=f"load the Hypothesis profile invariances-NAME, NAME one of {', '.join(PROFILES)} "
                         f"(default: the {VARIABLE} environment variable; unset: leave Hypothesis settings alone)")


def requested_profile(config: pytest.Config) -> str | None:
    """The short profile name asked for by the option or the variable, or None; validated."""
    name = config.getoption("invariances_profile", default=None) or os.environ.get(VARIABLE) or None
    if name is None:
        return None
    name = name.removeprefix(PREFIX)
    if name not in PROFILES:
        source = OPTION if config.getoption("invariances_profile", default=None) else VARIABLE
        raise pytest.UsageError(f"{source}={name!r} is not a convnet-invariances profile; "
                                f"valid names are {', '.join(PROFILES)}")
    return name


def pytest_configure(config: pytest.Config) -> None:
    name = requested_profile(config)
    if name is not None:
        settings.load_profile(PREFIX + name)
        _loaded[:] = [PREFIX + name]


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _loaded:
        return None
    return f"convnet-invariances: Hypothesis profile {_loaded[0]!r} (choose with {OPTION}=dev|ci|thorough)"
