"""Every profile line of every registry entry, checked with the props engine (see props/_registry_check.py)."""

import pytest
import torch

from convnet_invariances.models import REGISTRY
from convnet_invariances.app import check_line

LINES = [pytest.param(entry, line, id=f"{name}:{line.claim}:{line.status}")
         for name, entry in REGISTRY.items() for line in entry.profile]


@pytest.mark.parametrize("entry, line", LINES)
def test_profile_line(entry, line):
    check_line(entry, line)


def test_registry_is_large_and_covers_every_kind_of_line():
    assert len(REGISTRY) >= 20
    statuses = {line.status for entry in REGISTRY.values() for line in entry.profile}
    assert statuses == {"exact", "subgroup", "interior", "approximate", "none"}


@pytest.mark.parametrize("entry", [pytest.param(e, id=name) for name, e in REGISTRY.items()])
def test_entry_states_its_output_kind_truly(entry):
    with torch.inference_mode():
        output = entry.factory().eval()(torch.zeros((1,) + tuple(entry.input_shape)))
    assert ("flat" if output.dim() == 2 else "spatial") == entry.output, tuple(output.shape)
