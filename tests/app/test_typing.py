"""The package type-checks with mypy, laid out as it is installed.

mypy cannot follow the import hook of an editable install, so the test
copies the three source folders into the installed layout
(``convnet_invariances/``, ``…/models``, ``…/proofs``) and checks that copy
with the settings in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def installed_layout(destination):
    package = destination / "convnet_invariances"
    shutil.copytree(ROOT / "props", package, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("models", "proofs"):
        shutil.copytree(ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__", "rendered"))
    return destination


@pytest.mark.slow
def test_mypy_finds_no_errors(tmp_path, monkeypatch):
    from mypy import api
    monkeypatch.chdir(installed_layout(tmp_path))
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                                      str(tmp_path / ".mypy_cache"), "-p", "convnet_invariances"])
    assert status == 0, stdout + stderr
