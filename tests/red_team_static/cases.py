"""Red-team models for the static certifier: each breaks a claim the certifier may certify, next to a control.

Plain torch modules in float64 with fixed integer weights; nothing here imports the engine.  Every case is
``(name, factory, input_shape, claim, holds)``: ``holds`` is the truth, established by the exhaustive orbit
check in ``test_red_team_static.py`` (every group element, on several inputs), not by the certifier.
"""

import torch
import torch.nn.functional as F


def _integer(shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(-3, 4, shape, generator=generator).double()


def _lopsided_kernel(seed=0):
    """A 3×3 kernel symmetric under no rotation or flip."""
    kernel = _integer((2, 1, 3, 3), seed)
    kernel[:, :, 0, 0] = 5
    kernel[:, :, 2, 2] = -4
    kernel[:, :, 0, 2] = 1
    return kernel


def _symmetric_kernel():
    """A 3×3 kernel invariant under every rotation and flip (D4)."""
    return torch.tensor([[1., 2., 1.], [2., -3., 2.], [1., 2., 1.]], dtype=torch.float64).expand(2, 1, 3, 3).clone()


# ----------------------------------------------------------------------------- 1. weights computed in forward


class MaskedConv(torch.nn.Conv2d):
    """A PixelCNN-style masked convolution: ``F.conv2d(x, self.weight * self.mask)``.  The product is a
    constant whose tensor the certifier does not evaluate, and a missing tensor is read as "no kernel" (a
    pooling, symmetric by construction)."""

    def __init__(self, kernel, mask):
        super().__init__(kernel.shape[1], kernel.shape[0], kernel.shape[-1], padding=kernel.shape[-1] // 2,
                         bias=False)
        self.double()
        with torch.no_grad():
            self.weight.copy_(kernel)
        self.register_buffer("mask", mask.double())

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


def pixelcnn_mask(k=3):
    mask = torch.ones(1, 1, k, k)
    mask[..., k // 2 + 1:, :] = 0
    mask[..., k // 2, k // 2 + 1:] = 0
    return mask


def masked_conv():
    return MaskedConv(_symmetric_kernel(), pixelcnn_mask())  # the mask makes it lopsided


def masked_conv_control():
    return MaskedConv(_symmetric_kernel(), torch.ones(1, 1, 3, 3))  # an all-ones mask: still D4-symmetric


class CastWeightConv(torch.nn.Module):
    """``F.conv2d(x, self.w.double(), padding=1)``: a cast of the weights (mixed precision code does this)."""

    def __init__(self, kernel):
        super().__init__()
        self.w = torch.nn.Parameter(kernel.clone())

    def forward(self, x):
        return F.conv2d(x, self.w.double(), padding=1)


def cast_weight_conv():
    return CastWeightConv(_lopsided_kernel())


def cast_weight_conv_control():
    return CastWeightConv(_symmetric_kernel())


# ----------------------------------------------------------------------------- 2. explicit circular padding, twice


class DoubleCircular(torch.nn.Module):
    """``F.pad(x, 1, "circular")`` then ``Conv2d(5, padding=1, padding_mode="circular")``: the second padding
    wraps the *padded* tensor (period n + 2), not the input (period n), so the border reads the wrong pixels.
    The table folds both into one circular window of padding 2."""

    def __init__(self, outer=1, inner=1):
        super().__init__()
        self.outer = outer
        k = 2 * (outer + inner) + 1
        self.conv = torch.nn.Conv2d(1, 1, k, padding=inner, padding_mode="circular", bias=False).double()
        with torch.no_grad():
            self.conv.weight.copy_(_integer(self.conv.weight.shape, 3))

    def forward(self, x):
        return self.conv(F.pad(x, (self.outer,) * 4, mode="circular"))


def double_circular():
    return DoubleCircular(1, 1)


def double_circular_control():
    return DoubleCircular(2, 0)  # one circular padding of 2, then a convolution that pads nothing


# ----------------------------------------------------------------------------- 3. nearest resampling by a factor


class Nearest(torch.nn.Module):
    """``F.interpolate(x, scale_factor=s, mode="nearest")``: torch picks source index ⌊i / s⌋ from the *given*
    factor, not from the ratio of the sizes.  With s = 0.34 on size 9 the output has 3 = 9/3 pixels, read from
    0, 2, 5 (not 0, 3, 6): no stride-3 grid."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")


def nearest_034():
    return Nearest(0.34)


def nearest_301():
    """Upsampling: scale_factor 3.01 on size 8 gives 24 = 3·8 pixels, but output 3 reads ⌊3/3.01⌋ = 0, so the
    output is no ×3 repetition and a flip does not commute with it."""
    return Nearest(3.01)


def nearest_3_control():
    return Nearest(3.0)


def nearest_034_control():
    return Nearest(1 / 3)  # size 9 → 3, source indices 0, 3, 6 (the table's stride-3 window)


class NearestSize(torch.nn.Module):
    def forward(self, x):
        return F.interpolate(x, size=3, mode="nearest")


# ----------------------------------------------------------------------------- 4. flattened positions × an invariant


class PositionWeightedByInvariant(torch.nn.Module):
    """``(x.flatten(1) * (x.mean() · pos)).sum(1)``: the weight vector is an *invariant* value (a function of the
    mean), but it varies over the flattened positions; the certifier checks constants against flattened
    positions, not invariant operands."""

    def __init__(self, numel, uniform=False):
        super().__init__()
        pos = torch.ones(numel) if uniform else torch.arange(numel) % 7 + 1.0
        self.register_buffer("pos", pos.double())

    def forward(self, x):
        weight = x.mean((1, 2, 3))[:, None] * self.pos
        return (x.flatten(1) * weight).sum(1, keepdim=True)


def position_weighted(shape=(1, 8, 8)):
    return PositionWeightedByInvariant(shape[0] * shape[1] * shape[2])


def position_weighted_control(shape=(1, 8, 8)):
    return PositionWeightedByInvariant(shape[0] * shape[1] * shape[2], uniform=True)


S8, S9 = (1, 8, 8), (1, 9, 9)

#: (name, factory, input shape, claim, holds) — ``holds`` is the oracle's answer (checked by the tests)
FALSE_CERTIFICATES = [
    ("masked_conv", masked_conv, S8, "rot90-equivariant", False),
    ("masked_conv", masked_conv, S8, "flip-equivariant", False),
    ("cast_weight_conv", cast_weight_conv, S8, "rot90-equivariant", False),
    ("cast_weight_conv", cast_weight_conv, S8, "flip-equivariant", False),
    ("double_circular", double_circular, S8, "translation-equivariant", False),
    ("nearest_034", nearest_034, S9, "translation-equivariant[stride=3]", False),
    ("nearest_301", nearest_301, S8, "rot90-equivariant", False),
    ("nearest_301", nearest_301, S8, "flip-equivariant", False),
    ("position_weighted", position_weighted, S8, "translation-invariant", False),
    ("position_weighted", position_weighted, S8, "rot90-invariant", False),
    ("position_weighted", position_weighted, S8, "flip-invariant", False),
]

CONTROLS = [
    ("masked_conv_control", masked_conv_control, S8, "rot90-equivariant", True),
    ("masked_conv_control", masked_conv_control, S8, "flip-equivariant", True),
    ("cast_weight_conv_control", cast_weight_conv_control, S8, "rot90-equivariant", True),
    ("double_circular_control", double_circular_control, S8, "translation-equivariant", True),
    ("nearest_034_control", nearest_034_control, S9, "translation-equivariant[stride=3]", True),
    ("nearest_3_control", nearest_3_control, S8, "rot90-equivariant", True),
    ("nearest_3_control", nearest_3_control, S8, "flip-equivariant", True),
    ("nearest_size_control", NearestSize, S9, "translation-equivariant[stride=3]", True),
    ("position_weighted_control", position_weighted_control, S8, "translation-invariant", True),
    ("position_weighted_control", position_weighted_control, S8, "rot90-invariant", True),
]
