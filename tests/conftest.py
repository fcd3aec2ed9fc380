"""Shared helpers for the test suite (the Hypothesis profiles come from the props pytest plugin)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _deterministic_torch():
    # Tests that draw with torch's RNG get the same numbers every run; Hypothesis controls its own draws.
    torch.manual_seed(0)
    yield


