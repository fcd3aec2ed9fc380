"""The pytest plugin stays out of other projects' way: light, opt-in, namespaced profiles."""

import os
import subprocess
import sys

import pytest

PROBE = (
    "from hypothesis import settings\n"
    "def test_profile():\n"
    "    print('max_examples', settings().max_examples)\n"
)


def run_pytest(project, *args, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("HYPOTHESIS_PROFILE", "INVARIANCES_PROFILE")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-s", "-p", "no:cacheprovider", *args, str(project)],
                          capture_output=True, text=True, env=environment, cwd=project, timeout=120)


def test_importing_the_plugin_imports_no_torch():
    code = ("import importlib.metadata as md, importlib, sys\n"
            "eps = [e for e in md.entry_points(group='pytest11') if e.dist and e.dist.name == 'convnet-invariances']\n"
            "[importlib.import_module(e.value.split(':')[0]) for e in eps]\n"
            "print(len(eps), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["1", "False"]


def test_another_projects_own_profile_stays_in_force(tmp_path):
    (tmp_path / "conftest.py").write_text("from hypothesis import settings\n"
                                          "settings.register_profile('nightly', max_examples=7)\n"
                                          "settings.load_profile('nightly')\n")
    (tmp_path / "test_theirs.py").write_text("from hypothesis import settings\n"
                                             "def test_profile_is_theirs():\n"
                                             "    assert settings.default.max_examples == 7\n")
    out = run_pytest(tmp_path, env={"HYPOTHESIS_PROFILE": "nightly"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "convnet-invariances: Hypothesis profile" not in out.stdout  # no header line: we were not asked


def test_without_being_asked_the_plugin_changes_nothing(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBE)
    out = run_pytest(tmp_path)
    assert out.returncode == 0 and "max_examples 100" in out.stdout  # Hypothesis' own default


@pytest.mark.parametrize("args, env, expected", [
    (("--invariances-profile=thorough",), {}, 1000),
    ((), {"INVARIANCES_PROFILE": "ci"}, 30),
    (("--invariances-profile=dev",), {"INVARIANCES_PROFILE": "ci"}, 50),  # the option wins
])
def test_our_profiles_load_when_asked_and_the_header_says_which(tmp_path, args, env, expected):
    (tmp_path / "test_probe.py").write_text(PROBE)
    out = run_pytest(tmp_path, *args, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"max_examples {expected}" in out.stdout
    assert "convnet-invariances: Hypothesis profile 'invariances-" in out.stdout


@pytest.mark.parametrize("args, env, source", [
    (("--invariances-profile=nightly",), {}, "--invariances-profile='nightly'"),
    ((), {"INVARIANCES_PROFILE": "nightly"}, "INVARIANCES_PROFILE='nightly'"),
])
def test_an_unknown_name_for_our_option_is_a_usage_error_listing_the_valid_ones(tmp_path, args, env, source):
    (tmp_path / "test_probe.py").write_text(PROBE)
    out = run_pytest(tmp_path, *args, env=env)
    assert out.returncode == 4, out.stdout + out.stderr  # pytest's exit code for usage errors
    assert f"{source} is not a convnet-invariances profile; valid names are dev, ci, thorough" in out.stderr
    assert "Traceback" not in out.stderr
