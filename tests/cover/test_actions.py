"""Group actions: inverses, composition, group closure, reprs, and the gather index agreeing with the action."""

import torch
from hypothesis import given
from hypothesis import strategies as st

from convnet_invariances import (
    ChannelCycle,
    CircularShift,
    Dihedral,
    Downscale,
    Rotation,
    SubpixelShift,
    Translations,
    Upscale,
    ZeroShift,
    c4,
    d4,
    flip,
    flips,
    group_elements,
    images,
    regular_c4_action,
    rot90,
    shifts,
    strided_action,
    transpose,
)


@given(x=images(square=True, channels=(1, 2), max_side=6), g=group_elements(d4()), h=group_elements(d4()))
def test_d4_composition_and_inverse_agree_with_applying_the_actions(x, g, h):
    assert torch.equal((g @ h)(x), g(h(x)))
    assert torch.equal(g.inverse()(g(x)), x)
    assert (g @ h) in d4().elements()  # closure


@given(x=images(max_side=6), t=shifts(max_shift=9), u=shifts(max_shift=9))
def test_circular_shifts_compose_by_adding_and_invert_by_negating(x, t, u):
    g, h = CircularShift(t), CircularShift(u)
    assert torch.equal((g @ h)(x), g(h(x)))
    assert torch.equal(g.inverse()(g(x)), x)


@given(x=images(values="object", background=2, min_side=5, max_side=8), t=shifts(max_shift=2))
def test_zero_shift_is_invertible_on_content_that_stays_inside(x, t):
    assert torch.equal(ZeroShift(t).inverse()(ZeroShift(t)(x)), x)


def test_named_reflections():
    x = torch.arange(9.0).view(1, 1, 3, 3)
    assert torch.equal(flip("w")(x), x.flip(-1))
    assert torch.equal(flip("h")(x), x.flip(-2))
    assert torch.equal(transpose()(x), x.transpose(-2, -1))
    assert torch.equal(rot90(1)(x), torch.rot90(x, 1, (-2, -1)))


@given(x=images(min_side=2, max_side=5), s=st.integers(1, 3))
def test_downscale_is_a_left_inverse_of_upscale(x, s):
    assert torch.equal(Upscale(s).inverse()(Upscale(s)(x)), x)
    assert (Upscale(2) @ Upscale(s)) == Upscale(2 * s)
    assert Downscale(s).inverse() == Upscale(s)


@given(x=images(values="smooth", bandwidth=2, min_side=6, max_side=10, dtype=torch.float64), t=shifts(max_shift=3))
def test_subpixel_shift_by_an_integer_is_the_circular_shift_on_band_limited_images(x, t):
    assert torch.allclose(SubpixelShift(t)(x), CircularShift(t)(x), atol=1e-12)


@given(x=images(values="smooth", min_side=6, max_side=10, dtype=torch.float64),
       a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_subpixel_shifts_compose_and_invert(x, a, b):
    g, h = SubpixelShift((a, b)), SubpixelShift((b, a))
    assert torch.allclose((g @ h)(x), g(h(x)), atol=1e-12)
    assert torch.allclose(g.inverse()(g(x)), x, atol=1e-12)


def test_continuous_rotation_by_90_degrees_is_rot90_on_the_pixel_grid():
    x = torch.randn(1, 2, 8, 8, dtype=torch.float64)
    assert torch.allclose(Rotation(90)(x), rot90(1)(x), atol=1e-12)
    assert (Rotation(30) @ Rotation(15)) == Rotation(45)


def test_channel_cycle_permutes_orientation_channels():
    x = torch.arange(8.0).view(1, 8, 1, 1)  # 2 fields × 4 orientations
    assert ChannelCycle(1)(x).flatten().tolist() == [3, 0, 1, 2, 7, 4, 5, 6]
    assert torch.equal(ChannelCycle(1).inverse()(ChannelCycle(1)(x)), x)


@given(x=images(square=True, max_side=6), g=group_elements(d4()), t=shifts(max_shift=5))
def test_source_index_reproduces_every_permutation_action(x, g, t):
    for action in (g, CircularShift(t), ZeroShift(tuple(min(abs(c), x.shape[-1] - 1) for c in t)), g @ CircularShift(t)):
        index = action.source_index(x.shape[2:])
        flat = x.reshape(*x.shape[:2], -1)
        padded = torch.cat([flat, torch.zeros_like(flat[..., :1])], dim=-1)
        gathered = padded[..., torch.where(index < 0, flat.shape[-1], index)].reshape(x.shape)
        assert torch.equal(gathered, action(x)), action


def test_groups_enumerate_their_elements_and_subgroups():
    assert len(Translations((4, 6))) == 24
    assert [len(s) for s in Translations((4, 8)).subgroups()] == [32, 8, 2]
    assert len(Translations((8, 8)).subgroup(4)) == 4
    assert len(c4()) == 4 and len(d4()) == 8 and len(flips()) == 4
    assert c4().elements()[0].is_identity and Translations((3,)).elements()[0].is_identity


def test_reprs_are_short_and_readable():
    assert repr(CircularShift((1, -2))) == "shift(1, -2)"
    assert repr(rot90(3) @ flip()) == "rot270∘flip_w"
    assert repr(ZeroShift((0, 1))) == "zero_shift(0, 1)"
    assert repr(SubpixelShift((0.5,))) == "subpixel_shift(0.5)"
    assert repr(Translations((8, 8), stride=2)) == "translations(8, 8) ∩ 2Z^2"


def test_output_actions():
    assert strided_action(2)(CircularShift((4, -2))) == CircularShift((2, -1))
    assert not strided_action(2).contains(CircularShift((1, 0)))
    assert repr(regular_c4_action()(rot90(2))) == "cycle_channels(2/4)∘rot180"
    x = torch.randn(1, 8, 5, 5)
    rho = regular_c4_action()(rot90(1))
    assert torch.equal(rho(x), ChannelCycle(1)(torch.rot90(x, 1, (-2, -1))))


@given(x=images(square=True, max_side=6), g=group_elements(d4()), t=shifts(max_shift=5))
def test_inverse_of_a_composition_reverses_the_factors(x, g, t):
    composed = CircularShift(t) @ g  # a Composed product (shifts and D4 do not simplify together)
    assert torch.equal(composed.inverse()(composed(x)), x)
    assert torch.equal(composed(composed.inverse()(x)), x)


def test_dihedral_normalises_its_rotation():
    assert Dihedral(5) == Dihedral(1) and Dihedral(-1) == Dihedral(3)
