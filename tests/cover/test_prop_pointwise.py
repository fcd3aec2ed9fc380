"""Pointwise nonlinearities commute with pixel permutations; compositions of equivariant maps are equivariant.

(proofs: pointwise_and_composition.)  Shifts, rot90 and flips only move
pixels, and a pointwise map computes each pixel from that pixel alone.  For
correctly rounded operations (max, abs, one multiplication) both sides then
produce the same bits, so the check is bitwise even for float inputs.
Transcendental activations are not: torch's CPU kernels evaluate the bulk of
a tensor with vectorised approximations and the tail with scalar ones, so
the same value can round differently depending on where it sits in memory
(GELU(0.5) differed by one ulp between a batch of 1 and a batch of 9).
Those are checked in float mode, where the tolerance model covers it.
"""

import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import falsify, min_side_for
from convnet_invariances import Translations, assert_orbit, conv_layers, d4, images

CORRECTLY_ROUNDED = {
    "relu": torch.relu,
    "leaky_relu": torch.nn.functional.leaky_relu,
    "abs": torch.abs,
    "square": torch.square,
}
TRANSCENDENTAL = {
    "gelu": torch.nn.functional.gelu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": torch.nn.functional.softplus,
}


@given(name=st.sampled_from(sorted(CORRECTLY_ROUNDED)), x=images(values="floats", channels=(1, 2), square=True, max_side=6))
def test_correctly_rounded_activation_commutes_bitwise_with_shifts_rotations_and_flips(name, x):
    f = CORRECTLY_ROUNDED[name]
    assert_orbit(f, x, Translations(x.shape[2:]), mode="exact")
    assert_orbit(f, x, d4(), mode="exact")


@given(name=st.sampled_from(sorted(TRANSCENDENTAL)), x=images(values="floats", channels=(1, 2), square=True, max_side=6))
def test_transcendental_activation_commutes_with_shifts_rotations_and_flips(name, x):
    f = TRANSCENDENTAL[name]
    assert_orbit(f, x, Translations(x.shape[2:]), mode="float")
    assert_orbit(f, x, d4(), mode="float")


def test_twin_position_dependent_activation_is_caught():
    def relu_plus_ramp(x):  # a "nonlinearity" that also reads the pixel's column: not pointwise
        ramp = torch.arange(x.shape[-1], dtype=x.dtype)
        return torch.relu(x) + ramp

    @given(x=images(square=True, min_side=2, max_side=6))
    def ramp_commutes_with_rotations(x):
        assert_orbit(relu_plus_ramp, x, d4(), mode="exact")

    found = falsify(ramp_commutes_with_rotations)
    assert found.input_shape[2:] == (2, 2), found.report()


@given(data=st.data())
def test_composition_of_equivariant_maps_is_equivariant(data):
    first = data.draw(conv_layers(in_channels=1, out_channels=2, kernel_sizes=(1, 3)))
    second = data.draw(conv_layers(in_channels=2, out_channels=2, kernel_sizes=(1, 2, 3)))
    net = torch.nn.Sequential(first, torch.nn.ReLU(), second, torch.nn.ReLU())
    side = max(min_side_for(first), min_side_for(second))
    x = data.draw(images(min_side=side, max_side=side + 4))
    assert_orbit(net, x, Translations(x.shape[2:]), mode="exact")


def test_twin_one_non_equivariant_stage_breaks_the_composition():
    @given(first=conv_layers(in_channels=1, out_channels=1, kernel_sizes=(1, 3), bias=(False,)),
           second=conv_layers(in_channels=1, out_channels=1, kernel_sizes=(3,), padding_modes=("zeros",), bias=(False,)),
           x=images(min_side=3, max_side=6))
    def composition_commutes(first, second, x):
        assert_orbit(torch.nn.Sequential(first, torch.nn.ReLU(), second), x, Translations(x.shape[2:]), mode="exact")

    found = falsify(composition_commutes)
    assert max(found.input_shape[2:]) <= 4, found.report()
