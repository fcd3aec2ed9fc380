"""Invalid hyperparameters and inputs get an error naming the argument or the expected shape."""

import pytest
import torch

from convnet_invariances.models import (
    APS,
    BlurPool,
    Conv,
    FourierMellin,
    InvalidHyperparameter,
    InvalidInput,
    P4GroupConv,
    P4Lifting,
    Pool,
    ResNet18Like,
    Scattering2d,
)

BAD_CONSTRUCTION = [
    ("negative stride", lambda: Conv(1, 1, stride=-1), r"stride=-1 must be an int ≥ 1"),
    ("unknown padding mode", lambda: Conv(1, 1, padding_mode="mirror"), r"padding_mode='mirror' must be one of"),
    ("blur filter too large", lambda: BlurPool(1, filter_size=8), r"filter_size=8 must be an int in 1..7"),
    ("even P4 kernel", lambda: P4Lifting(1, 1, kernel_size=4), r"kernel_size=4 must be odd"),
    ("even P4 group kernel", lambda: P4GroupConv(1, 1, kernel_size=2), r"kernel_size=2 must be odd"),
    ("APS stride 1", lambda: APS(stride=1), r"stride=1 must be an int ≥ 2"),
    ("pooling kind", lambda: Pool("median"), r"kind='median' must be one of"),
    ("angles not multiple of 4", lambda: FourierMellin(angles=30), r"angles=30 must be a multiple of 4"),
    ("scattering size", lambda: Scattering2d(side=12, J=3), r"side=12 must be divisible by 2\^J=8"),
    ("resnet downsampling", lambda: ResNet18Like(downsample="avg"), r"downsample='avg' must be one of"),
]


@pytest.mark.parametrize("build, message", [pytest.param(b, m, id=i) for i, b, m in BAD_CONSTRUCTION])
def test_invalid_hyperparameter_is_named(build, message):
    with pytest.raises(InvalidHyperparameter, match=message):
        build()


BAD_INPUTS = [
    ("rank 3 into a 2-D conv", Conv(1, 1), torch.zeros(1, 1, 8), r"Conv expects a \(N, C, H, W\) tensor, got shape \(1, 1, 8\)"),
    ("wrong channels", Conv(2, 1), torch.zeros(1, 3, 8, 8), r"Conv expects 2 input channel\(s\)"),
    ("size not divisible by the stride", Conv(1, 1, stride=2), torch.zeros(1, 1, 7, 7), r"divisible by 2 \(its total stride\)"),
    ("resnet size", ResNet18Like(), torch.zeros(1, 3, 12, 12), r"divisible by 8"),
    ("P4 non-square", P4Lifting(1, 1), torch.zeros(1, 1, 5, 6), r"expects square inputs"),
    ("P4 stride parity", P4Lifting(1, 1, stride=2, padding_mode="zeros"), torch.zeros(1, 1, 8, 8), r"expects odd spatial sizes"),
]


@pytest.mark.parametrize("layer, x, message", [pytest.param(l, x, m, id=i) for i, l, x, m in BAD_INPUTS])
def test_wrong_input_says_what_shape_is_expected(layer, x, message):
    with pytest.raises(InvalidInput, match=message):
        layer(x)


def test_factories_are_deterministic():
    from convnet_invariances.models import REGISTRY

    for entry in REGISTRY.values():
        first, second = entry.build().state_dict(), entry.build().state_dict()
        assert all(torch.equal(first[k], second[k]) for k in first), entry.name
