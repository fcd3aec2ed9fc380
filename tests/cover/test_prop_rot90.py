"""rot90 and convolution: conv(rot x, K) = rot conv(x, rot⁻¹ K) on square inputs.

(proofs: rot90_conv.)  A kernel that equals its own rotations therefore gives
a rot90-equivariant convolution; a kernel that does not, does not.
"""

import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from helpers import falsify
from convnet_invariances import Dihedral, assert_orbit, c4, d4, group_elements, images, kernels


def conv_same(x, kernel, padding_mode):
    pad = kernel.shape[-1] // 2
    if padding_mode == "circular":
        return F.conv2d(F.pad(x, (pad,) * 4, mode="circular"), kernel)
    return F.conv2d(x, kernel, padding=pad)


@given(g=group_elements(c4()), padding_mode=st.sampled_from(["circular", "zeros"]), data=st.data())
def test_rotating_the_input_equals_rotating_the_output_of_the_inversely_rotated_kernel(g, padding_mode, data):
    kernel = data.draw(kernels(size=st.sampled_from([1, 3, 5]), in_channels=(1, 2), out_channels=(1, 2)))
    x = data.draw(images(channels=kernel.shape[1], square=True, min_side=kernel.shape[-1], max_side=7))
    left = conv_same(g(x), kernel, padding_mode)
    right = g(conv_same(x, g.inverse()(kernel), padding_mode))
    assert torch.equal(left, right), f"{g!r}: max difference {float((left - right).abs().max())}"


def symmetrise(kernel, group):
    """The average over the group's orbit, times its size: a kernel fixed by every element (integers stay integers)."""
    return sum(g(kernel) for g in group)


@given(data=st.data(), group_name=st.sampled_from(["C4", "D4"]))
def test_a_kernel_invariant_under_the_group_gives_an_equivariant_convolution(data, group_name):
    group = c4() if group_name == "C4" else d4()
    kernel = symmetrise(data.draw(kernels(size=st.sampled_from([1, 3, 5]))), group)
    x = data.draw(images(square=True, min_side=kernel.shape[-1], max_side=7))
    assert_orbit(lambda y: conv_same(y, kernel, "circular"), x, group, mode="exact")


def test_twin_a_non_symmetric_kernel_is_not_rot90_equivariant():
    @given(kernel=kernels(size=3), x=images(square=True, min_side=3, max_side=6))
    def every_kernel_is_rot90_equivariant(kernel, x):
        assert_orbit(lambda y: conv_same(y, kernel, "circular"), x, c4(), mode="exact")

    found = falsify(every_kernel_is_rot90_equivariant)
    assert found.input_shape[2:] == (3, 3), found.report()
    assert found.element in (Dihedral(1), Dihedral(2), Dihedral(3))
