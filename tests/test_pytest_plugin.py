"""The pytest plugin: registered by entry point, announces the Hypothesis profile, obeys HYPOTHESIS_PROFILE."""

import os
import subprocess
import sys


def run_pytest(tmp_path, profile):
    (tmp_path / "test_user.py").write_text(
        "from hypothesis import settings\n"
        "def test_profile():\n"
        "    print('max_examples', settings().max_examples)\n"
    )
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile}
    return subprocess.run([sys.executable, "-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_header_names_the_profile_and_the_profile_is_loaded(tmp_path):
    out = run_pytest(tmp_path, "thorough")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "max_examples 1000" in out.stdout


def test_ci_profile_is_bounded(tmp_path):
    out = run_pytest(tmp_path, "ci")
    assert "max_examples 30" in out.stdout


def test_this_run_reports_its_profile(pytestconfig):
    from props._pytest_plugin import pytest_report_header

    assert "Hypothesis profile" in pytest_report_header(pytestconfig)
