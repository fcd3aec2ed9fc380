"""Installing convnet-invariances leaves other projects alone: one import root, a user's own packages intact.

Each test installs a clean copy of this repository into a fresh virtual
environment that borrows the heavy dependencies (torch, numpy …) from the
running one, then runs a throwaway user project that has its own ``models``,
``proofs`` and ``props`` packages.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERIC = {"models", "proofs", "props", "tests"}

USER_CODE = """
import torch
from models import MyNet
from proofs import X
from props import Y
import convnet_invariances as ci
from convnet_invariances.models import REGISTRY
from convnet_invariances.proofs import THEOREM_NAMES
assert (MyNet.__name__, X, Y) == ("MyNet", 1, 2)
report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"])
assert report.ok and len(REGISTRY) > 0 and len(THEOREM_NAMES) > 0
print("theirs and ours:", ci.__file__)
"""


def clean_copy(destination):
    """The tracked files of the repository (what a fresh clone has), so no build litter lands in the checkout."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    return destination


def borrowing_venv(path):
    """A virtual environment without pip whose sys.path ends with this environment's site-packages."""
    venv.create(path, with_pip=False)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # a path line in a .pth file adds the directory without running that directory's own .pth files,
    # so the running environment's editable install of this project stays invisible
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site


def user_project(path):
    for name, text in (("models", "class MyNet: pass\n"), ("proofs", "X = 1\n"), ("props", "Y = 2\n")):
        (path / name).mkdir(parents=True)
        (path / name / "__init__.py").write_text(text)
    (path / "use_both.py").write_text(USER_CODE)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["regular", "editable"])
def test_an_install_adds_one_import_root_and_a_users_own_packages_still_import(tmp_path, editable):
    source = clean_copy(tmp_path / "source")
    python, site = borrowing_venv(tmp_path / "venv")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
               *(["--editable"] if editable else []), str(source)]
    subprocess.run(install, check=True, capture_output=True, text=True, timeout=300)

    top_level = {entry.name.removesuffix(".py") for entry in site.iterdir()}
    assert not top_level & GENERIC, sorted(top_level)
    assert editable or "convnet_invariances" in top_level

    project = user_project(tmp_path / "user")
    out = subprocess.run([python, "use_both.py"], cwd=project, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    installed_from = Path(out.stdout.split("theirs and ours:")[1].strip())
    assert installed_from.is_relative_to(source if editable else site), installed_from
