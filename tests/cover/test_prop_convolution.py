"""Convolution commutes with translation — and where it does not (proofs: conv_shift, zero_padding, stride).

Positive properties check the *whole* orbit of circular shifts for every
drawn layer and input, bitwise (integer weights and inputs).  Each has a
negative twin: the same check run on a layer that breaks the property must
be falsified, and Hypothesis must shrink the counterexample to a small one.
"""

import math

from hypothesis import given
from hypothesis import strategies as st

from helpers import FixedOutput, falsify, min_side_for, near_border
from convnet_invariances import (
    CircularShift,
    EquivarianceViolation,
    Translations,
    assert_equivariant,
    assert_orbit,
    conv_layers,
    images,
    shifts,
    strided_action,
)


# --- conv ∘ shift = shift ∘ conv (circular padding) ------------------------------------------


@given(conv=conv_layers(dims=2, in_channels=2), data=st.data())
def test_circular_conv2d_commutes_with_every_circular_shift(conv, data):
    x = data.draw(images(channels=2, min_side=min_side_for(conv), max_side=min_side_for(conv) + 4))
    assert_orbit(conv, x, Translations(x.shape[2:]), mode="exact")


@given(conv=conv_layers(dims=1, in_channels=2), data=st.data())
def test_circular_conv1d_commutes_with_every_circular_shift(conv, data):
    x = data.draw(images(dims=1, channels=2, min_side=min_side_for(conv), max_side=min_side_for(conv) + 8))
    assert_orbit(conv, x, Translations(x.shape[2:]), mode="exact")


def test_twin_zero_padded_conv_fails_near_the_border():
    @given(conv=conv_layers(kernel_sizes=(2, 3), padding_modes=("zeros",), groups=False, bias=(False,)), data=st.data())
    def zero_padded_conv_commutes_with_shifts(conv, data):
        x = data.draw(images(channels=conv.in_channels, max_side=7))
        assert_orbit(conv, x, Translations(x.shape[2:]), mode="exact")

    found = falsify(zero_padded_conv_commutes_with_shifts)
    assert near_border(found, radius=1), found.report()
    assert max(found.input_shape[2:]) <= 4, f"not shrunk to a small input:\n{found.report()}"


# --- stride: equivariance on the subgroup sZ² ---------------------------------------------------


@given(stride=st.sampled_from([2, 3]), data=st.data())
def test_strided_circular_conv_is_equivariant_on_the_subgroup(stride, data):
    conv = data.draw(conv_layers(strides=(stride,), kernel_sizes=(1, 2, 3), in_channels=1))
    x = data.draw(images(divisible_by=stride, min_side=max(stride, min_side_for(conv)), max_side=4 * stride))
    assert_orbit(conv, x, Translations(x.shape[2:], stride=stride), output_action=strided_action(stride), mode="exact")


def test_twin_shift_outside_the_subgroup_matches_no_output_shift():
    @given(conv=conv_layers(strides=(2,), kernel_sizes=(1, 3), in_channels=1, out_channels=1, bias=(False,)),
           x=images(divisible_by=2, min_side=4, max_side=6))
    def odd_shift_is_some_output_shift(conv, x):
        # f(S_(0,1) x) must equal S_u f(x) for at least one output shift u if equivariance held there
        out_shape = conv(x).shape[2:]
        failures = []
        for u in Translations(out_shape):
            try:
                assert_equivariant(conv, x, CircularShift((0, 1)), output_action=FixedOutput(u), mode="exact")
                return
            except EquivarianceViolation as violation:
                failures.append(violation)
        raise min(failures, key=lambda v: v.measurement.max_error)

    found = falsify(odd_shift_is_some_output_shift)
    assert found.element == CircularShift((0, 1))


# --- zero padding: equivariance on the interior ------------------------------------------------


def _receptive_radius(conv):
    return max(math.ceil(d * (k - 1) / 2) for k, d in zip(conv.kernel_size, conv.dilation))


@given(conv=conv_layers(padding_modes=("zeros", "reflect", "replicate"), in_channels=1, dilations=(1, 2),
                        kernel_sizes=(1, 2, 3)), data=st.data())
def test_padded_conv_is_equivariant_on_the_interior(conv, data):
    margin = _receptive_radius(conv)
    x = data.draw(images(min_side=2 * margin + 1, max_side=2 * margin + 5))
    assert_orbit(conv, x, Translations(x.shape[2:]), margin=margin, mode="exact")


def test_twin_padded_conv_fails_on_the_border():
    @given(conv=conv_layers(padding_modes=("zeros", "reflect", "replicate"), kernel_sizes=(3,), dilations=(1,),
                            in_channels=1, out_channels=1, bias=(False,)),
           x=images(min_side=3, max_side=6))
    def padded_conv_commutes_everywhere(conv, x):
        assert_orbit(conv, x, Translations(x.shape[2:]), mode="exact")

    found = falsify(padded_conv_commutes_everywhere)
    assert near_border(found, radius=1), found.report()
    assert max(found.input_shape[2:]) <= 4, f"not shrunk to a small input:\n{found.report()}"


# --- 1-D and 2-D single shifts agree with the orbit --------------------------------------------


@given(conv=conv_layers(dims=1), data=st.data())
def test_single_shift_check_agrees_with_the_orbit(conv, data):
    x = data.draw(images(dims=1, channels=conv.in_channels, min_side=min_side_for(conv), max_side=min_side_for(conv) + 6))
    t = data.draw(shifts(dims=1, max_shift=8))
    assert_equivariant(conv, x, CircularShift(t), mode="exact")
