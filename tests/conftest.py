"""Shared fixtures; this repository's own choice of Hypothesis profile.

The plugin that convnet-invariances installs loads a profile only when asked
(``--invariances-profile`` or ``INVARIANCES_PROFILE``); this suite asks for
``invariances-dev`` when nothing else was asked, and CI asks for
``invariances-ci``.
"""

import os

import pytest
import torch
from hypothesis import settings


def pytest_configure(config):
    if not (config.getoption("invariances_profile", default=None) or os.environ.get("INVARIANCES_PROFILE")):
        settings.load_profile("invariances-dev")


@pytest.fixture(autouse=True)
def _deterministic_torch():
    # Tests that draw with torch's RNG get the same numbers every run; Hypothesis controls its own draws.
    torch.manual_seed(0)
    yield


# ----------------------------------------------------------------------------- the suite leaves no files behind

#: tool caches that pytest and Hypothesis keep on purpose (Hypothesis' example database replays failures)
_CACHES = (".hypothesis", ".pytest_cache", ".mypy_cache", "__pycache__")


def _files_here(root):
    return {str(path.relative_to(root)) for path in root.rglob("*")
            if not any(part in _CACHES or part == ".git" or part == ".venv" for part in path.relative_to(root).parts)}


def pytest_sessionstart(session):
    session.config._files_before = _files_here(session.config.rootpath)


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_files_before", None)
    if before is None:
        return
    new = sorted(_files_here(session.config.rootpath) - before)
    if new:
        session.config.get_terminal_writer().line(
            f"the test suite left {len(new)} new file(s) in the working directory: {new[:10]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
