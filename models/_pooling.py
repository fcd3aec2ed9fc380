"""Pooling and downsampling: max/average/Lp pooling, global pooling, BlurPool, APS.

Local pooling with stride gives invariance only *within the window* and only
equivariance on the subgroup of shifts by the stride (proofs: max_pooling,
stride).  BlurPool (Zhang, ICML 2019) low-passes before subsampling, which
lowers the error for other shifts without making it zero.  APS (Chaman &
Dokmanić, CVPR 2021) keeps the polyphase component of largest norm, which a
circular shift only permutes, so the *choice* moves with the input and the
downsampling is shift-invariant up to a shift of its output.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import InvalidHyperparameter, check_input, one_of, positive_int


class Pool(torch.nn.Module):
    """Local pooling: ``kind`` is "max", "avg" or "lp" (power-average of order ``p``, the norm-based pooling).

    >>> Pool("max", 2)(torch.arange(16.).view(1, 1, 4, 4)).flatten().tolist()
    [5.0, 7.0, 13.0, 15.0]
    """

    def __init__(self, kind="max", kernel_size=2, stride=None, *, p=2):
        super().__init__()
        self.kind = one_of("kind", kind, ("max", "avg", "lp"))
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.stride = positive_int("stride", stride if stride is not None else kernel_size)
        self.p = positive_int("p", p)

    def forward(self, x):
        check_input(x, f"Pool({self.kind!r})", divisible_by=self.stride)
        if self.kind == "max":
            return F.max_pool2d(x, self.kernel_size, self.stride)
        if self.kind == "avg":
            return F.avg_pool2d(x, self.kernel_size, self.stride)
        # (Σ |x|^p)^(1/p) over the window: absolute values make it a norm, unlike torch's LPPool2d
        return F.lp_pool2d(x.abs(), self.p, self.kernel_size, self.stride)

    def extra_repr(self):
        return f"kind={self.kind!r}, kernel_size={self.kernel_size}, stride={self.stride}"


class GlobalPool(torch.nn.Module):
    """Pool every channel over all positions: (N, C, H, W) -> (N, C).  Exactly translation-invariant.

    >>> GlobalPool("avg")(torch.ones(2, 3, 4, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, kind="avg", *, p=2):
        super().__init__()
        self.kind = one_of("kind", kind, ("max", "avg", "lp"))
        self.p = positive_int("p", p)

    def forward(self, x):
        check_input(x, f"GlobalPool({self.kind!r})")
        if self.kind == "max":
            return x.amax(dim=(-2, -1))
        if self.kind == "avg":
            return x.mean(dim=(-2, -1))
        return x.abs().pow(self.p).sum(dim=(-2, -1)).pow(1.0 / self.p)

    def extra_repr(self):
        return f"kind={self.kind!r}"


def binomial_filter(size):
    """The normalised 2-D binomial filter of a side in 1..7 (outer product of a Pascal row).

    >>> (binomial_filter(3) * 16).tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    if not isinstance(size, int) or not 1 <= size <= 7:
        raise InvalidHyperparameter(f"filter_size={size!r} must be an int in 1..7 (binomial filters of those sizes)")
    row = torch.tensor([math.comb(size - 1, k) for k in range(size)], dtype=torch.float64)
    kernel = torch.outer(row, row)
    return kernel / kernel.sum()


def blur_downsample(x, kernel, stride=2, padding_mode="reflect"):
    """Depthwise blur with ``kernel`` then keep every ``stride``-th sample (BlurPool's core).

    >>> blur_downsample(torch.ones(1, 1, 4, 4), binomial_filter(3)).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    size = kernel.shape[-1]
    before, after = (size - 1) // 2, size // 2
    pad = (before, after, before, after)
    x = F.pad(x, pad) if padding_mode == "zeros" else F.pad(x, pad, mode=padding_mode)
    weight = kernel.to(x).expand(x.shape[1], 1, size, size)
    return F.conv2d(x, weight, stride=stride, groups=x.shape[1])


class BlurPool(torch.nn.Module):
    """Anti-aliased downsampling (Zhang 2019): binomial blur of side ``filter_size``, then stride.

    ``filter_size=1`` is plain subsampling, the aliasing baseline.

    >>> BlurPool(channels=2, filter_size=3)(torch.zeros(1, 2, 8, 8)).shape
    torch.Size([1, 2, 4, 4])
    """

    def __init__(self, channels, filter_size=3, stride=2, *, padding_mode="reflect"):
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.stride = positive_int("stride", stride)
        self.padding_mode = one_of("padding_mode", padding_mode, ("reflect", "circular", "zeros", "replicate"))
        self.register_buffer("kernel", binomial_filter(filter_size).float())

    def forward(self, x):
        check_input(x, "BlurPool", channels=self.channels, divisible_by=self.stride)
        return blur_downsample(x, self.kernel, self.stride, self.padding_mode)

    def extra_repr(self):
        size = self.kernel.shape[-1]  # type: ignore[index]  # a registered buffer: a Tensor
        return f"channels={self.channels}, filter_size={size}, stride={self.stride}"


class MaxBlurPool(torch.nn.Module):
    """Zhang's anti-aliased max-pooling: 2×2 max with stride 1 (dense), then BlurPool with stride 2.

    The dense max is evaluated with one replicated row and column at the
    bottom-right so the size stays even.

    >>> MaxBlurPool(channels=1)(torch.zeros(1, 1, 8, 8)).shape
    torch.Size([1, 1, 4, 4])
    """

    def __init__(self, channels, filter_size=3, *, padding_mode="reflect"):
        super().__init__()
        self.blur = BlurPool(channels, filter_size, 2, padding_mode=padding_mode)

    def forward(self, x):
        check_input(x, "MaxBlurPool", channels=self.blur.channels, divisible_by=2)
        dense_max = F.max_pool2d(F.pad(x, (0, 1, 0, 1), mode="replicate"), 2, stride=1)
        return self.blur(dense_max)


def polyphase_components(x, stride=2):
    """The stride² subsampled grids x[..., i::s, j::s], stacked on a new axis 1: (N, s², C, H/s, W/s).

    >>> polyphase_components(torch.arange(16.).view(1, 1, 4, 4))[0, :, 0, 0, 0].tolist()
    [0.0, 1.0, 4.0, 5.0]
    """
    return torch.stack([x[..., i::stride, j::stride] for i in range(stride) for j in range(stride)], dim=1)


def aps_downsample(x, stride=2, p=2):
    """Keep, per sample, the polyphase component of largest ℓp norm (ties: the first, in raster order).

    >>> x = torch.zeros(1, 1, 4, 4); x[0, 0, 3, 1] = 2.0
    >>> torch.equal(aps_downsample(x), x[..., 1::2, 1::2])
    True
    """
    components = polyphase_components(x, stride)
    norms = components.abs().pow(p).flatten(2).sum(dim=2)
    choice = norms.argmax(dim=1)
    return components[torch.arange(x.shape[0], device=x.device), choice]


class APS(torch.nn.Module):
    """Adaptive polyphase sampling (Chaman & Dokmanić 2021), stride ``stride``, selection by ℓp norm.

    A circular shift of the input permutes (and circularly shifts) the
    polyphase components, so the same component wins and the output is a
    circular shift of the original one.  Exact up to ties: when two
    components have equal norms the first wins, and a shift can change which
    one is first.

    rot90 and the flips also only permute the components on even sizes, so
    APS is exactly equivariant to them too, with the same caveat.

    >>> x = torch.zeros(1, 1, 4, 4); x[0, 0, 1, 1] = 5.0
    >>> APS()(x).flatten().tolist()
    [5.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, stride=2, p=2):
        super().__init__()
        self.stride = positive_int("stride", stride, 2)
        self.p = positive_int("p", p)

    def forward(self, x):
        check_input(x, "APS", divisible_by=self.stride)
        return aps_downsample(x, self.stride, self.p)

    def selection_has_ties(self, x):
        """Whether two polyphase components of some sample have equal norm (where exactness is void)."""
        norms = polyphase_components(x, self.stride).abs().pow(self.p).flatten(2).sum(dim=2)
        equal_pairs = (norms.unsqueeze(1) == norms.unsqueeze(2)).sum(dim=(1, 2))
        return bool((equal_pairs > norms.shape[1]).any())

    def extra_repr(self):
        return f"stride={self.stride}, p={self.p}"
