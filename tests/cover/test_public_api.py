"""Every public name is exported through ``__all__``, documented, and its docstring example runs."""

import doctest
import importlib

import pytest
import torch

PACKAGES = ["convnet_invariances", "convnet_invariances.models", "convnet_invariances.proofs", "convnet_invariances.app"]


def public_objects():
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for name in package.__all__:
            yield package_name, name, getattr(package, name)


@pytest.mark.parametrize("package_name, name, obj", [pytest.param(*p, id=f"{p[0]}.{p[1]}") for p in public_objects()])
def test_public_name_has_a_docstring_with_a_runnable_example(package_name, name, obj):
    package = importlib.import_module(package_name)
    if not callable(obj):
        pytest.skip("data constant: documented where it is defined and in the package docstring")
    doc = getattr(obj, "__doc__", None) or ""
    assert doc.strip(), f"{package_name}.{name} has no docstring"
    assert ">>>" in doc, f"{package_name}.{name} has no example in its docstring"
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, f"{package_name}.{name}", globs={"torch": torch, **vars(package)}):
        runner.run(test)
    assert runner.failures == 0, f"{package_name}.{name}: {runner.failures} failing example(s) (run with -s to see)"


@pytest.mark.parametrize("package_name", PACKAGES)
def test_all_lists_only_existing_names_and_the_package_docstring_runs(package_name):
    package = importlib.import_module(package_name)
    assert len(set(package.__all__)) == len(package.__all__)
    for name in package.__all__:
        assert hasattr(package, name), name
    failures, _ = doctest.testmod(package, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_the_lazy_root_and_its_static_view_list_the_same_names():
    """The root loads names on first use; type checkers read a TYPE_CHECKING block: both must agree."""
    import ast

    import convnet_invariances as ci

    tree = ast.parse(open(ci.__file__, encoding="utf-8").read())
    static = {alias.asname or alias.name for node in ast.walk(tree)
              if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
              for item in node.body if isinstance(item, ast.ImportFrom) for alias in item.names}
    assert static == set(ci.__all__) - {"__version__"}
