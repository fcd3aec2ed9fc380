"""The application's tests (CLI, registry audit, reports, plugin, installs): slower, often subprocesses.

Every test here carries the ``app`` marker, so ``pytest -m "not app"`` runs the fast core alone.
"""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/app/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.app)
