"""The layering DESIGN.md promises, checked on the source: the library is a library.

- the library part of ``convnet_invariances`` (everything outside ``app/``)
  never imports the reference layers or the application, never prints and
  never writes files;
- ``convnet_invariances.proofs`` imports sympy and the standard library only;
- ``convnet_invariances.models`` imports torch, the standard library and the
  shared claim vocabulary only.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# __main__ is the command line: part of the application, like app/
LIBRARY = sorted(p for p in (ROOT / "props").glob("*.py") if p.name != "__main__.py")
STDLIB = set(sys.stdlib_module_names)


def imports(path):
    """(level, module) of every import in a file: level 0 absolute, 1 = from ., 2 = from .."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def calls(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_the_library_imports_neither_models_nor_the_application(path):
    bad = [(level, name) for level, name in imports(path)
           if name.split(".")[0] in ("models", "proofs", "app", "props")
           or (level == 0 and name.startswith("convnet_invariances"))]
    assert not bad, bad


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_the_library_never_prints_or_writes_files(path):
    assert not calls(path) & {"print", "write_text", "write_bytes", "mkdir", "makedirs", "savefig", "open"}


@pytest.mark.parametrize("path", sorted((ROOT / "proofs").glob("*.py")), ids=lambda p: p.name)
def test_proofs_import_sympy_and_the_standard_library_only(path):
    bad = [name for level, name in imports(path) if level == 0 and name.split(".")[0] not in STDLIB | {"sympy"}]
    assert not bad, bad


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.py")), ids=lambda p: p.name)
def test_models_import_torch_and_the_shared_vocabulary_only(path):
    allowed = STDLIB | {"torch"}
    bad = [(level, name) for level, name in imports(path)
           if (level == 0 and name.split(".")[0] not in allowed) or (level == 2 and name != "_vocabulary")]
    assert not bad, bad
