"""The networks the lab trains, built from the reference layers in :mod:`convnet_invariances.models`.

The reference layers start from small integer weights (for exact checks);
the lab re-initialises every network with torch's usual fan-in uniform
initialisation from the run's seed, so that "at initialisation" means what it
means in practice.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...models import APS, BlurPool, Conv, GlobalPool, LeNet5Like, Pool

#: downsampling of the CNN's first two blocks: the architecture experiment compares them
DOWNSAMPLING = ("stride", "maxpool", "blurpool", "aps", "none")


def standard_init_(module: torch.nn.Module) -> torch.nn.Module:
    """Fan-in uniform initialisation (torch's default for Linear and Conv2d) of every weight and bias, in place.

    >>> layer = standard_init_(Conv(1, 2, 3))
    >>> bool((layer.weight.abs() <= 1 / 3).all()), bool(layer.weight.ne(layer.weight.round()).any())
    (True, True)
    """
    for sub in module.modules():
        weight = getattr(sub, "weight", None)
        if not isinstance(weight, torch.nn.Parameter) or weight.dim() < 2:
            continue
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        bias = getattr(sub, "bias", None)
        if isinstance(bias, torch.nn.Parameter):
            fan_in = weight[0].numel()
            torch.nn.init.uniform_(bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
    return module


class MLP(torch.nn.Module):
    """Flatten, ``depth`` hidden layers of ``width`` ReLU units, a linear read-out: no built-in symmetry.

    >>> MLP(side=16, width=32, depth=2)(torch.zeros(3, 1, 16, 16)).shape
    torch.Size([3, 10])
    """

    def __init__(self, side=16, width=64, depth=1, classes=10):
        super().__init__()
        layers: list[torch.nn.Module] = [torch.nn.Flatten()]
        size = side * side
        for _ in range(depth):
            layers += [torch.nn.Linear(size, width), torch.nn.ReLU()]
            size = width
        layers.append(torch.nn.Linear(size, classes))
        self.layers = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)


def _downsample(kind: str, channels: int) -> torch.nn.Module | None:
    if kind == "maxpool":
        return Pool("max", 2)
    if kind == "blurpool":
        return CircularMaxBlurPool(channels)
    if kind == "aps":
        return APS(2)
    return None  # "stride" strides the convolution itself; "none" keeps the resolution


class CircularMaxBlurPool(torch.nn.Module):
    """Zhang's anti-aliased max pooling with circular borders throughout: a dense 2×2 max (stride 1) over the
    circularly padded map, then ``BlurPool`` (binomial 3×3 blur, stride 2, circular).

    ``models.MaxBlurPool`` pads its dense max by replicating the last row and column; that border handling breaks
    circular equivariance even on the subgroup of shifts by the stride, which would blur what this experiment
    compares (how downsampling, not the border, breaks invariance).

    >>> CircularMaxBlurPool(2)(torch.zeros(1, 2, 8, 8)).shape
    torch.Size([1, 2, 4, 4])
    """

    def __init__(self, channels: int):
        super().__init__()
        self.blur = BlurPool(channels, 3, 2, padding_mode="circular")

    def forward(self, x):
        return self.blur(F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode="circular"), 2, stride=1))


class CNN(torch.nn.Module):
    """Three 3×3 convolutions with ReLU, the first two followed by ``downsample``; global average pool; linear.

    ``downsample`` is one of :data:`DOWNSAMPLING`; with ``padding_mode="circular"`` and ``"none"`` (or
    ``"aps"``) the logits are invariant to every circular shift by construction.

    >>> CNN("blurpool")(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 10])
    """

    def __init__(self, downsample="maxpool", *, widths=(8, 16, 32), padding_mode="circular", classes=10):
        super().__init__()
        if downsample not in DOWNSAMPLING:
            raise ValueError(f"downsample={downsample!r} must be one of {DOWNSAMPLING}")
        self.downsample = downsample
        blocks: list[torch.nn.Module] = []
        channels = 1
        for i, width in enumerate(widths):
            stride = 2 if downsample == "stride" and i < 2 else 1
            # without downsampling, dilations 1, 2, 4 give the receptive field (15) of the downsampling nets (18)
            dilation = 2 ** i if downsample == "none" else 1
            blocks += [Conv(channels, width, 3, padding_mode=padding_mode, stride=stride, dilation=dilation),
                       torch.nn.ReLU()]
            down = _downsample(downsample, width) if i < 2 else None
            if down is not None:
                blocks.append(down)
            channels = width
        self.features = torch.nn.Sequential(*blocks)
        self.pool = GlobalPool("avg")
        self.head = torch.nn.Linear(channels, classes)
        standard_init_(self)

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


def lenet(side=16, classes=10) -> torch.nn.Module:
    """The textbook CNN: zero-padded 5×5 convolutions, max pooling, flatten, dense layers (LeNet-5-like).

    >>> lenet()(torch.zeros(1, 1, 16, 16)).shape
    torch.Size([1, 10])
    """
    return standard_init_(LeNet5Like(side=side, widths=(8, 16), hidden=32, classes=classes))


class MultiResolution(torch.nn.Module):
    """One convolutional trunk (shared weights) applied to the input at ``levels`` resolutions — the input, then
    each time halved by 2×2 averaging — global average pooling per level, the maximum over levels, linear.

    Halving by averaging undoes integer upscaling exactly, so an input upscaled by 2 shares all but one level
    with the original: scale invariance built in by presenting the input at several resolutions.

    >>> MultiResolution()(torch.zeros(2, 1, 16, 16)).shape, MultiResolution()(torch.zeros(2, 1, 32, 32)).shape
    (torch.Size([2, 10]), torch.Size([2, 10]))
    """

    def __init__(self, levels=3, *, widths=(8, 16, 32), classes=10):
        super().__init__()
        self.levels = levels
        self.trunk = ScaleTrunk(widths)
        self.head = torch.nn.Linear(widths[-1], classes)
        standard_init_(self)

    def forward(self, x):
        features = []
        for level in range(self.levels):
            if level:
                x = F.avg_pool2d(x, 2)
            features.append(self.trunk(x))
        return self.head(torch.stack(features).amax(dim=0))


class ScaleTrunk(torch.nn.Module):
    """Circular 3×3 convolutions with ReLU, the first two followed by 2×2 max pooling (rounding odd sizes up),
    then global average pooling: a fixed-size feature vector for any input size.

    >>> ScaleTrunk()(torch.zeros(1, 1, 2, 2)).shape, ScaleTrunk()(torch.zeros(1, 1, 32, 32)).shape
    (torch.Size([1, 32]), torch.Size([1, 32]))
    """

    def __init__(self, widths=(8, 16, 32)):
        super().__init__()
        layers: list[torch.nn.Module] = []
        channels = 1
        for i, width in enumerate(widths):
            layers += [Conv(channels, width, 3, padding_mode="circular"), torch.nn.ReLU()]
            if i < len(widths) - 1:
                layers.append(torch.nn.MaxPool2d(2, ceil_mode=True))
            channels = width
        self.layers = torch.nn.Sequential(*layers, GlobalPool("avg"))

    def forward(self, x):
        return self.layers(x)


class SingleResolution(torch.nn.Module):
    """The multi-resolution network's trunk and head on the input alone (its plain-CNN baseline).

    >>> SingleResolution()(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 10])
    """

    def __init__(self, *, widths=(8, 16, 32), classes=10):
        super().__init__()
        self.trunk = ScaleTrunk(widths)
        self.head = torch.nn.Linear(widths[-1], classes)
        standard_init_(self)

    def forward(self, x):
        return self.head(self.trunk(x))


def parameter_count(module: torch.nn.Module) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
