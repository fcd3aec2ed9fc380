"""Small reference architectures: the classic designs whose invariances the seeds argue about.

Widths are small so the whole orbit of a 32×32 input fits in seconds on a
laptop CPU; weights are small integers from a fixed seed, so exact mode is
available in float64 (sums stay far below 2^53).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._common import InvalidHyperparameter, check_input, integer_init_, one_of, positive_int
from ._conv import Conv
from ._p4 import OrientationPool, P4GroupConv, P4Lifting
from ._pooling import APS, BlurPool, GlobalPool, MaxBlurPool
from ._scattering import Scattering2d

# the input check inspects shapes only: torch.fx records it as one call (run again, on shapes, when the graph
# runs), so that the static certifier can trace these architectures
torch.fx.wrap("check_input")


class LeNet5Like(torch.nn.Module):
    """conv5(zero pad) → ReLU → max-pool 2 → conv5 → ReLU → max-pool 2 → flatten → dense → ReLU → dense.

    >>> LeNet5Like()(torch.zeros(2, 1, 16, 16)).shape
    torch.Size([2, 10])
    """

    def __init__(self, in_channels=1, side=16, widths=(4, 8), hidden=16, classes=10, seed=0):
        super().__init__()
        self.in_channels, self.side = positive_int("in_channels", in_channels), positive_int("side", side, 4)
        if side % 4:
            raise ValueError(f"side={side} must be divisible by 4 (two stride-2 poolings)")
        self.conv1 = Conv(in_channels, widths[0], 5, padding_mode="zeros", seed=seed)
        self.conv2 = Conv(widths[0], widths[1], 5, padding_mode="zeros", seed=seed + 1)
        self.fc1 = torch.nn.Linear(widths[1] * (side // 4) ** 2, hidden)
        self.fc2 = torch.nn.Linear(hidden, classes)
        integer_init_(self.fc1, seed + 2)
        integer_init_(self.fc2, seed + 3)

    def forward(self, x):
        check_input(x, "LeNet5Like", channels=self.in_channels)
        if x.shape[2:] != (self.side, self.side):
            raise ValueError(f"LeNet5Like was built for {self.side}×{self.side} inputs (a dense layer follows), got {tuple(x.shape[2:])}")
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class AllCircularGAP(torch.nn.Module):
    """Circular 3×3 convolutions with ReLU, then global average pooling and a linear classifier.

    Every stage commutes with circular shifts and the global average removes
    the shift, so the logits are exactly invariant to every circular shift.

    >>> AllCircularGAP()(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_channels=1, width=4, depth=3, classes=3, seed=0):
        super().__init__()
        positive_int("depth", depth)
        channels = [in_channels] + [width] * depth
        self.convs = torch.nn.ModuleList(
            Conv(a, b, 3, padding_mode="circular", seed=seed + i) for i, (a, b) in enumerate(zip(channels, channels[1:]))
        )
        self.pool = GlobalPool("avg")
        self.head = integer_init_(torch.nn.Linear(width, classes), seed + depth)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.head(self.pool(x))


class BasicBlock(torch.nn.Module):
    """ResNet basic block; when ``downsample`` the block first reduces resolution by 2.

    ``downsample="stride"``: stride-2 3×3 conv and stride-2 1×1 shortcut (the
    original); ``"maxpool"``: 2×2 max-pool with stride 2 then stride-1 branches; ``"maxblurpool"``: dense
    max then BlurPool (Zhang's anti-aliased max-pool); ``"blurpool"``: BlurPool then stride-1 branches; ``"aps"``: APS
    then stride-1 branches — one shared downsampling, so both branches see the
    same polyphase component.

    >>> BasicBlock(2, 4, downsample="aps", padding_mode="circular")(torch.zeros(1, 2, 8, 8)).shape
    torch.Size([1, 4, 4, 4])
    """

    def __init__(self, in_channels, out_channels, *, downsample=None, padding_mode="zeros", filter_size=3, seed=0):
        super().__init__()
        self.downsample = downsample
        stride = 2 if downsample == "stride" else 1
        self.pre: torch.nn.Module | None = None
        if downsample == "blurpool":
            self.pre = BlurPool(in_channels, filter_size, padding_mode="circular" if padding_mode == "circular" else "reflect")
        elif downsample == "aps":
            self.pre = APS()
        elif downsample == "maxpool":
            self.pre = torch.nn.MaxPool2d(2)
        elif downsample == "maxblurpool":
            self.pre = MaxBlurPool(in_channels, filter_size)
        self.conv1 = Conv(in_channels, out_channels, 3, padding_mode=padding_mode, stride=stride, seed=seed)
        self.conv2 = Conv(out_channels, out_channels, 3, padding_mode=padding_mode, seed=seed + 1)
        self.shortcut = None
        if downsample or in_channels != out_channels:
            self.shortcut = Conv(in_channels, out_channels, 1, padding_mode=padding_mode, stride=stride, bias=False,
                                 seed=seed + 2)

    def forward(self, x):
        if self.pre is not None:
            x = self.pre(x)
        out = self.conv2(F.relu(self.conv1(x)))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + skip)


class ResNet18Like(torch.nn.Module):
    """ResNet-18 layout ([2, 2, 2, 2] basic blocks, three 2× downsamplings), small widths, GAP and a linear head.

    ``downsample`` is "stride" (the original), "maxpool", "maxblurpool", "blurpool" (anti-aliased,
    Zhang 2019) or "aps" (adaptive polyphase sampling, Chaman & Dokmanić 2021);
    ``padding_mode`` "zeros" (the original) or "circular".

    >>> ResNet18Like(widths=(2, 2, 2, 2))(torch.zeros(1, 3, 16, 16)).shape
    torch.Size([1, 10])
    """

    def __init__(self, in_channels=3, widths=(4, 8, 8, 16), classes=10, *, downsample="stride", padding_mode="zeros",
                 filter_size=3, seed=0):
        super().__init__()
        one_of("downsample", downsample, ("stride", "maxpool", "maxblurpool", "blurpool", "aps"))
        one_of("padding_mode", padding_mode, ("zeros", "circular"))
        self.in_channels = positive_int("in_channels", in_channels)
        self.widths, self.classes, self.downsample, self.padding_mode = tuple(widths), classes, downsample, padding_mode
        self.filter_size, self.seed = filter_size, seed
        self.stem = Conv(in_channels, widths[0], 3, padding_mode=padding_mode, seed=seed)
        blocks, channels, s = [], widths[0], seed + 10
        for stage, width in enumerate(widths):
            for index in range(2):
                down = downsample if (stage > 0 and index == 0) else None
                blocks.append(BasicBlock(channels, width, downsample=down, padding_mode=padding_mode,
                                         filter_size=filter_size, seed=s))
                channels, s = width, s + 3
        self.blocks = torch.nn.Sequential(*blocks)
        self.pool = GlobalPool("avg")
        self.head = integer_init_(torch.nn.Linear(channels, classes), seed + 99)

    def forward(self, x):
        check_input(x, "ResNet18Like", channels=self.in_channels, divisible_by=8)
        return self.head(self.pool(self.blocks(F.relu(self.stem(x)))))


def _he_normal_(module, generator):
    """He-normal weights from ``generator`` and zero biases: at ResNet-50's widths, integer weights would
    overflow float32 within a few layers."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.zero_()
    return module


class Bottleneck(torch.nn.Module):
    """ResNet-50's bottleneck block: 1×1 reduce → 3×3 (stride ``stride``) → 1×1 expand, batch norm after each,
    ReLU, and a projection shortcut (1×1, same stride) when the shape changes.

    >>> Bottleneck(8, 2, stride=2)(torch.zeros(1, 8, 8, 8)).shape
    torch.Size([1, 8, 4, 4])
    """

    expansion = 4

    def __init__(self, in_channels, width, *, stride=1):
        super().__init__()
        out = width * self.expansion
        self.conv1 = torch.nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.conv2 = torch.nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(width)
        self.conv3 = torch.nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = torch.nn.BatchNorm2d(out)
        self.shortcut: torch.nn.Module | None = None
        if stride != 1 or in_channels != out:
            self.shortcut = torch.nn.Sequential(torch.nn.Conv2d(in_channels, out, 1, stride=stride, bias=False),
                                                torch.nn.BatchNorm2d(out))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet50Like(torch.nn.Module):
    """ResNet-50's layout at its real size: 7×7 stride-2 stem, 3×3 stride-2 max pool, [3, 4, 6, 3] bottleneck
    blocks of widths 64…512 (×4 out), global average, linear head: 25.6M parameters with 1000 classes.

    For timing the orbit engine on a network of the size people deploy (``invariances bench --stream-224
    --model resnet50``), not for exact checks: weights are He-normal from ``seed`` (integers would overflow
    float32 at these widths), batch norm holds its initial statistics (the identity in eval mode), and the
    total stride of 32 makes the logits invariant to shifts by multiples of 32 only (with zero padding, not
    even those exactly).

    >>> net = ResNet50Like(widths=(2, 2, 2, 2), classes=3).eval()
    >>> net(torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 3])
    >>> sum(p.numel() for p in ResNet50Like().parameters())
    25557032
    """

    def __init__(self, in_channels=3, widths=(64, 128, 256, 512), blocks=(3, 4, 6, 3), classes=1000, seed=0):
        super().__init__()
        self.in_channels = positive_int("in_channels", in_channels)
        if len(widths) != len(blocks) or not widths:
            raise InvalidHyperparameter(f"widths={tuple(widths)} and blocks={tuple(blocks)} must have one entry per "
                                        f"stage each (the same length, at least 1)")
        self.stem = torch.nn.Sequential(
            torch.nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
            torch.nn.BatchNorm2d(widths[0]), torch.nn.ReLU(), torch.nn.MaxPool2d(3, stride=2, padding=1))
        stages, channels = [], widths[0]
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for index in range(count):
                stages.append(Bottleneck(channels, width, stride=2 if stage > 0 and index == 0 else 1))
                channels = width * Bottleneck.expansion
        self.blocks = torch.nn.Sequential(*stages)
        self.pool = GlobalPool("avg")
        self.head = torch.nn.Linear(channels, classes)
        _he_normal_(self, torch.Generator().manual_seed(seed))

    def forward(self, x):
        check_input(x, "ResNet50Like", channels=self.in_channels)
        return self.head(self.pool(self.blocks(self.stem(x))))


class P4CNN(torch.nn.Module):
    """P4 lifting → ReLU → P4 group conv → ReLU → orientation max-pool → global average → linear.

    Circular padding and no stride: the logits are exactly invariant to rot90
    and to every circular shift of a square input.

    >>> P4CNN()(torch.zeros(1, 1, 9, 9)).shape
    torch.Size([1, 3])
    """

    def __init__(self, in_channels=1, width=2, classes=3, seed=0):
        super().__init__()
        self.lift = P4Lifting(in_channels, width, 3, seed=seed)
        self.gconv = P4GroupConv(width, width, 3, seed=seed + 1)
        self.orientation_pool = OrientationPool()
        self.pool = GlobalPool("avg")
        self.head = integer_init_(torch.nn.Linear(width, classes), seed + 2)

    def forward(self, x):
        x = F.relu(self.gconv(F.relu(self.lift(x))))
        return self.head(self.pool(self.orientation_pool(x)))


class C4StridedCNN(torch.nn.Module):
    """Two unpadded stride-2 3×3 convolutions with rot90-symmetric kernels, ReLU, global average, linear head.

    Every kernel is invariant under rot90 (and so, at 3×3, under every flip), so the network is rot90-invariant
    exactly when each strided layer samples a grid symmetric about the centre: (n − 3) even at each layer,
    which holds for H = W ≡ 3 mod 4 and fails otherwise — the size rule users of P4 networks find by scanning
    sizes by hand (e2cnn issue 36: "only for widths 4k+3").

    >>> C4StridedCNN()(torch.zeros(1, 1, 11, 11)).shape
    torch.Size([1, 3])
    """

    def __init__(self, in_channels=1, width=4, classes=3, seed=0):
        super().__init__()
        self.in_channels, self.width, self.classes, self.seed = in_channels, width, classes, seed
        self.conv1 = torch.nn.Conv2d(in_channels, width, 3, stride=2)
        self.conv2 = torch.nn.Conv2d(width, width, 3, stride=2)
        self.head = torch.nn.Linear(width, classes)
        for index, layer in enumerate((self.conv1, self.conv2, self.head)):
            integer_init_(layer, seed + index)
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                turns = [torch.rot90(conv.weight, k, (-2, -1)) for k in range(4)]
                conv.weight.copy_(turns[0] + turns[1] + turns[2] + turns[3])

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.head(x.mean(dim=(-2, -1)))


class ScatteringLinear(torch.nn.Module):
    """Scattering transform (orders 0–2) followed by a linear classifier on the flattened coefficients.

    >>> ScatteringLinear(side=16, J=2)(torch.zeros(1, 1, 16, 16)).shape
    torch.Size([1, 10])
    """

    def __init__(self, side=32, J=2, orientations=4, classes=10, seed=0):
        super().__init__()
        self.side, self.J, self.orientations, self.classes, self.seed = side, J, orientations, classes, seed
        self.scattering = Scattering2d(side, J, orientations)
        features = (1 + J * orientations + orientations**2 * J * (J - 1) // 2) * (side // 2**J) ** 2
        self.head = torch.nn.Linear(features, classes)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=generator) / features**0.5)
            self.head.bias.zero_()

    def forward(self, x):
        return self.head(self.scattering(x).flatten(1))
