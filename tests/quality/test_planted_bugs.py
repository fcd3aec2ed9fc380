"""Planted bugs the checks must catch, with Hypothesis shrinking each to a small counterexample.

Each bug is a layer that is *almost* shift-equivariant.  The property run on
it is exactly the positive property the suite runs on correct layers; the
test asserts that it is falsified and that the reported counterexample is
small and points at the planted defect.
"""

import torch
import torch.nn.functional as F
from hypothesis import given

from helpers import falsify, integer_weights_
from convnet_invariances import Translations, assert_orbit, images


def at_or_moved_from(found, planted):
    """The max error sits on the planted region, or where the output shift moved the region to."""
    i, j = found.location[2:]
    shift = found.output_element.shifts
    before = [(p - t) % n for p, t, n in zip((i, j), shift, found.output_shape[2:])]
    return planted(i, j) or planted(*before)


def commutes_with_every_circular_shift(layer, image_strategy, mode):
    """The positive property, as the suite states it for circular convolutions."""

    @given(x=image_strategy)
    def prop(x):
        assert_orbit(layer, x, Translations(x.shape[2:]), mode=mode)

    return prop


class CircularConv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = integer_weights_(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"), seed=3)

    def forward(self, x):
        return self.conv(x)


class PerturbedAtOnePixel(CircularConv):
    """A circular conv plus 1e-3 at output position (1, 2): equivariant everywhere else."""

    def forward(self, x):
        y = super().forward(x)
        y[..., 1, 2] += 1e-3
        return y


class BrokenOnOddSizes(CircularConv):
    """Zero padding instead of circular when a side is odd: a bug that only odd input sizes reveal."""

    def forward(self, x):
        if x.shape[-1] % 2 or x.shape[-2] % 2:
            return F.conv2d(x, self.conv.weight, self.conv.bias, padding=1)
        return super().forward(x)


class WrongInTheTopLeftCorner(CircularConv):
    """Correct except in the 2×2 top-left corner, where the bias is added twice."""

    def forward(self, x):
        y = super().forward(x)
        y[..., :2, :2] += self.conv.bias.view(1, -1, 1, 1)
        return y


def test_the_reference_layer_itself_passes():
    commutes_with_every_circular_shift(CircularConv(), images(min_side=3, max_side=8), mode="exact")()


def test_catches_a_1e_3_perturbation_at_one_pixel_in_exact_mode():
    found = falsify(commutes_with_every_circular_shift(PerturbedAtOnePixel(), images(min_side=3, max_side=8), "exact"))
    # the error is the planted 1e-3 itself, up to float32 rounding of y + 1e-3: one ulp of |y| ≤ 8
    # (small integer outputs of the shrunk example) is ≤ 2^-20 ≈ 9.5e-7 < 1e-6
    assert abs(found.max_error - 1e-3) < 1e-6, found.report()
    assert found.input_shape[2:] == (3, 3), found.report()
    assert at_or_moved_from(found, lambda i, j: (i, j) == (1, 2)), found.report()


def test_catches_a_1e_3_perturbation_at_one_pixel_in_float_mode():
    layer = PerturbedAtOnePixel()
    with torch.no_grad():
        layer.conv.weight.mul_(0.37)  # non-integer weights: float mode, tolerance from the model
    found = falsify(commutes_with_every_circular_shift(layer, images(values="floats", min_side=3, max_side=8), "float"))
    assert found.max_error > found.tolerance and found.twin_error is not None
    assert found.input_shape[2:] == (3, 3), found.report()


def test_catches_a_bug_that_only_odd_input_sizes_reveal():
    found = falsify(commutes_with_every_circular_shift(BrokenOnOddSizes(), images(min_side=2, max_side=8), "exact"))
    height, width = found.input_shape[2:]
    assert height % 2 or width % 2, found.report()
    assert min(height, width) <= 3 and max(height, width) <= 4, f"not shrunk:\n{found.report()}"


def test_catches_an_error_confined_to_one_corner():
    found = falsify(commutes_with_every_circular_shift(WrongInTheTopLeftCorner(), images(min_side=3, max_side=8), "exact"))
    assert at_or_moved_from(found, lambda i, j: i < 2 and j < 2), found.report()
    assert found.input_shape[2:] == (3, 3), found.report()
