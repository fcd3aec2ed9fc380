"""Helpers shared by the tests: exact-mode weights, running a property expecting it to be falsified."""

import pytest
import torch

from convnet_invariances import EquivarianceViolation, OutputAction


def integer_weights_(module, low=-3, high=3, seed=0):
    """Fill every parameter of ``module`` with integers in [low, high] (exact mode); returns the module."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randint(low, high + 1, p.shape, generator=generator).to(p.dtype))
    return module


def falsify(property_test, expected=EquivarianceViolation):
    """Run a ``@given`` property that must be falsified; return the shrunk counterexample's evidence.

    Hypothesis re-raises the failure of the *minimal* example it found, so the
    returned measurement (or exception, for other ``expected`` types)
    describes the shrunk counterexample.
    """
    with pytest.raises(expected) as info:
        property_test()
    return getattr(info.value, "measurement", info.value)


class FixedOutput(OutputAction):
    """ρ(g) = one fixed action, whatever g: asks whether f(g·x) equals that particular transform of f(x)."""

    def __init__(self, action):
        self.action = action

    def __call__(self, g):
        return self.action

    def __repr__(self):
        return f"FixedOutput({self.action!r})"


def min_side_for(conv):
    """The smallest input side a circular-padded ``conv`` accepts (padding may not wrap more than once)."""
    return max(d * (k - 1) for k, d in zip(conv.kernel_size, conv.dilation)) + 1


def near_border(measurement, radius):
    """True when the max-error position, or where the output shift brought it from, is within ``radius`` of a border.

    With zero padding, f(S_t x) and S_t f(x) can differ exactly at outputs that
    are near the border either before or after the shift.
    """
    spatial, sizes = measurement.location[2:], measurement.output_shape[2:]
    shift = getattr(measurement.output_element, "shifts", (0,) * len(sizes))

    def close(point):
        return min(min(i, n - 1 - i) for i, n in zip(point, sizes)) < radius

    return close(spatial) or close([(i - t) % n for i, t, n in zip(spatial, shift, sizes)])
