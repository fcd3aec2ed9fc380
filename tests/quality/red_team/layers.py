"""Adversarial layers for the red-team suite: each one is built to fool one mechanism of the audit.

Every class says in its docstring what it is built to fool and whether the claim
it is audited for holds.  The truth is never taken from these docstrings: the
brute-force oracle (``oracle.py``) establishes it, and ``cases.py`` declares it
so that a wrong case is caught.

Rules for this file:

- torch only (plus the third-party layers under test, imported lazily);
  never the package under test, so the oracle and the layers stay
  independent of the engine, and the CLI can load this file by path;
- every module is deterministic to build: weights come from local generators,
  never from the global RNG;
- shapes stay small (1-3 channels, 8x8 to 16x16) so the suite stays fast.
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from torch import nn

# ----------------------------------------------------------------------------- helpers


def gaussian(shape, seed, scale=1.0, dtype=torch.float32):
    """A fixed Gaussian tensor (drawn in float64 from a local generator, then cast)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def integers(shape, seed, low=-2, high=2, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(low, high + 1, shape, generator=g).to(dtype)


def d4_symmetric_kernel(out_channels, in_channels, seed, scale=0.5):
    """3x3 kernels invariant under every rotation and flip: centre, edge and corner weights per channel pair."""
    centre, edge, corner = (gaussian((out_channels, in_channels, 1, 1), seed + i, scale) for i in range(3))
    mask_edge = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    mask_corner = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]])
    mask_centre = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    return centre * mask_centre + edge * mask_edge + corner * mask_corner


def position_map(x):
    """A fixed map over the spatial grid of ``x`` that no shift, rotation or flip leaves unchanged.

    Values lie in about [0, 4]; the map is rebuilt for every spatial size, in ``x``'s dtype.
    """
    spatial = x.shape[2:]
    if len(spatial) == 1:
        (w,) = spatial
        j = torch.arange(w, dtype=torch.float64)
        out = (1 + j) / w + 0.5 * ((3 * j) % 5) / 5
    else:
        h, w = spatial
        i = torch.arange(h, dtype=torch.float64)[:, None]
        j = torch.arange(w, dtype=torch.float64)[None, :]
        out = (1 + i) / h + 2 * (1 + j) / w + 0.5 * ((7 * i + 3 * j) % 5) / 5
    return out.to(device=x.device, dtype=x.dtype if x.is_floating_point() else torch.float32)


def circular_conv(x, weight, bias=None):
    p = weight.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), weight, bias)


def zero_conv(x, weight, bias=None):
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)


class CircConv(nn.Module):
    """CONTROL: a 3x3 circular convolution (translation-equivariant for every shift)."""

    def __init__(self, in_channels=1, out_channels=2, seed=0, integer=False, bias=True):
        super().__init__()
        shape = (out_channels, in_channels, 3, 3)
        weight = integers(shape, seed) if integer else gaussian(shape, seed, 0.4)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(integers((out_channels,), seed + 1) if integer else gaussian((out_channels,), seed + 1, 0.3)) \
            if bias else None

    def conv(self, x):
        return circular_conv(x, self.weight.to(x.dtype), None if self.bias is None else self.bias.to(x.dtype))

    def forward(self, x):
        return self.conv(x)


class SymmetricConv(nn.Module):
    """CONTROL: a zero-padded 3x3 convolution with D4-symmetric kernels: rot90- and flip-equivariant."""

    def __init__(self, in_channels=1, out_channels=2, seed=0):
        super().__init__()
        self.weight = nn.Parameter(d4_symmetric_kernel(out_channels, in_channels, seed))
        self.bias = nn.Parameter(gaussian((out_channels,), seed + 7, 0.3))

    def forward(self, x):
        return zero_conv(x, self.weight, self.bias)


class GlobalAvg(nn.Module):
    """CONTROL: global average pooling -> (N, C); invariant to every shift, rotation, flip and upscaling."""

    def forward(self, x):
        return x.mean(dim=(-2, -1))


class GlobalMax(nn.Module):
    """CONTROL: global max pooling -> (N, C); invariant to every shift, rotation, flip and upscaling."""

    def forward(self, x):
        return x.amax(dim=(-2, -1))


# ============================================================================= 1. inputs


class ClampAbove(CircConv):
    """Fools integer inputs in [-3, 3]: a position-dependent term that only values with |x| > threshold wake.

    ``y = circconv(x) + position_map · relu(|x| - threshold)`` (summed over input channels).
    Claimed translation-equivariant: violated for any input with a value above the threshold.
    """

    def __init__(self, threshold=3.5, in_channels=1, out_channels=2, seed=0):
        super().__init__(in_channels, out_channels, seed)
        self.threshold = threshold

    def forward(self, x):
        wake = torch.relu(x.abs() - self.threshold).sum(dim=1, keepdim=True)
        return self.conv(x) + position_map(x) * wake


class BranchOnLargeMax(CircConv):
    """Fools small inputs: zero padding instead of circular when ``x.abs().max() > 10`` (overload handling).

    Claimed translation-equivariant: violated on any input whose magnitude exceeds 10.
    """

    def forward(self, x):
        if float(x.abs().max()) > 10:
            return zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype))
        return self.conv(x)


class SaturatedMeanRowZero(nn.Module):
    """Fools inputs that stay inside the saturation range: the mean, plus what a clamp at ±4 cut off in row 0.

    ``y = mean(x) + 0.1 · sum over row 0 of (x - clamp(x, -4, 4))``.  Claimed rot90-invariant: violated
    whenever a value beyond ±4 sits in the top row.
    """

    def forward(self, x):
        cut = x - x.clamp(-4, 4)
        return x.mean(dim=(-2, -1)) + 0.1 * cut[..., 0, :].sum(dim=-1)


class FractionalPosition(CircConv):
    """Fools integer-valued inputs: a position-dependent term in the fractional part of the input.

    ``y = circconv(x) + 5 · position_map · (x - round(x))²``: zero on every integer input.
    Claimed translation-equivariant: violated on any non-integer input.
    """

    def forward(self, x):
        frac = (x - torch.round(x)).pow(2).sum(dim=1, keepdim=True)
        return self.conv(x) + 5 * position_map(x) * frac


class FractionalFirstColumn(nn.Module):
    """Fools integer-valued inputs, on a non-square input: max pooling plus |fraction| of the first column.

    ``y = max(x) + 0.5 · mean over column 0 of |x - round(x)|``.  Claimed flip-invariant: violated
    (a left-right flip moves column 0 to the last column).
    """

    def forward(self, x):
        frac = (x - torch.round(x)).abs()
        return x.amax(dim=(-2, -1)) + 0.5 * frac[..., :, 0].mean(dim=-1)


class NonNegativeBranch(nn.Module):
    """Fools inputs of mixed sign: when every value is ≥ 0 (an image after ReLU), the mean skips row 0.

    Claimed translation-invariant: violated on non-negative inputs only.
    """

    def forward(self, x):
        if bool((x >= 0).all()):
            return x[..., 1:, :].mean(dim=(-2, -1))
        return x.mean(dim=(-2, -1))


class PositiveMinimumRamp(CircConv):
    """Fools inputs of mixed sign: a position map scaled by the sample's minimum, when that minimum is > 0.

    ``y = circconv(x) + position_map · relu(min over the sample of x)``.  Claimed translation-equivariant:
    violated on positive images (non-negative, constant or near-constant positive inputs).
    """

    def forward(self, x):
        low = torch.relu(x.amin(dim=(1, 2, 3), keepdim=True))
        return self.conv(x) + position_map(x) * low


class ConstantInputRamp(CircConv):
    """Fools non-constant inputs: a position map added when a channel is exactly constant.

    Claimed translation-equivariant: on a constant input ``g·x = x`` so the output would have to be
    shift-invariant; the added map is not.  Violated on constant inputs only.
    """

    def forward(self, x):
        flat = (x.amax(dim=(-2, -1)) == x.amin(dim=(-2, -1))).to(x.dtype).sum(dim=1)
        return self.conv(x) + position_map(x) * flat.view(-1, 1, 1, 1)


class NearConstantRamp(CircConv):
    """Fools inputs with contrast: a position map that grows as the per-channel spread falls below 0.05.

    ``y = circconv(x) + 20 · position_map · relu(0.05 - std(x))``.  Claimed translation-equivariant:
    violated on constant and near-constant inputs (e.g. a flat image with 1e-3 noise).
    """

    def forward(self, x):
        spread = torch.relu(0.05 - x.std(dim=(-2, -1))).sum(dim=1)
        return self.conv(x) + 20 * position_map(x) * spread.view(-1, 1, 1, 1)


class SaturatedOffByOneMax(nn.Module):
    """Fools inputs whose maximum saturates: global max of ``clamp(x, max=0.5)`` that skips row 0.

    With integers in [-3, 3] every row holds a value ≥ 1, so the clamped maximum is always 0.5 and the
    dropped row never matters.  Claimed translation-invariant: violated on small-magnitude inputs.
    """

    def forward(self, x):
        return x.clamp(max=0.5)[..., 1:, :].amax(dim=(-2, -1))


class SparseInputBranch(CircConv):
    """Fools dense inputs: zero padding instead of circular when more than 80% of the input is exactly 0.

    Claimed translation-equivariant: violated on sparse inputs.
    """

    def forward(self, x):
        if float((x == 0).to(torch.float32).mean()) > 0.8:
            return zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype))
        return self.conv(x)


class SmoothInputBranch(CircConv):
    """Fools rough inputs: zero padding when the total variation is small next to the magnitude (smooth images).

    Claimed translation-equivariant: violated on smooth inputs.
    """

    def forward(self, x):
        tv = float((x - torch.roll(x, 1, -1)).abs().mean() + (x - torch.roll(x, 1, -2)).abs().mean())
        if tv < 0.5 * float(x.abs().mean()):
            return zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype))
        return self.conv(x)


class PositionalClamp(CircConv):
    """Fools moderate magnitudes: inputs are clamped at ±500·(1 + 0.2·position_map) before the convolution.

    Claimed translation-equivariant: violated once |x| exceeds 500 (large-magnitude inputs).
    """

    def forward(self, x):
        limit = 500 * (1 + 0.2 * position_map(x))
        return self.conv(torch.maximum(torch.minimum(x, limit), -limit))


class HugeInputBranch(nn.Module):
    """Fools every magnitude below 1e5: above it, the mean skips row 0 (an overflow guard gone wrong).

    Claimed rot90-invariant: violated on inputs with values beyond 1e5.
    """

    def forward(self, x):
        if float(x.abs().max()) > 1e5:
            return x[..., 1:, :].mean(dim=(-2, -1))
        return x.mean(dim=(-2, -1))


class BorderVignetteSum(nn.Module):
    """Fools zero-fill inputs whose content sits in the centre: a weighted sum with weight 0.5 on the outer ring.

    Claimed translation-invariant[boundary=zero]: violated as soon as content touches the border
    (a zero-fill shift may carry content there while keeping it inside).
    """

    def forward(self, x):
        w = torch.ones(x.shape[-2:], dtype=x.dtype, device=x.device)
        w[0, :] = w[-1, :] = w[:, 0] = w[:, -1] = 0.5
        return (x * w).sum(dim=(-2, -1))


class LastColumnGain(nn.Module):
    """Fools zero-fill inputs with content in the centre: channel 1 gets a gain of 1.25 on the last column only.

    Claimed translation-invariant[boundary=zero]: violated on content that reaches the last column.
    """

    def forward(self, x):
        gain = torch.ones_like(x)
        gain[:, 1, :, -1] = 1.25
        return (x * gain).sum(dim=(-2, -1))


class ZeroPadConvSum(nn.Module):
    """Fools zero-fill inputs with a wide empty border: zero-padded conv (no bias) then global sum.

    Content on the border loses the kernel taps that fall outside; shifted inward it gets them back.
    Claimed translation-invariant[boundary=zero]: violated for content that touches the border.
    """

    def __init__(self, seed=3):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5) + 0.3)

    def forward(self, x):
        return zero_conv(x, self.weight).sum(dim=(-2, -1))


class ReluSum(nn.Module):
    """CONTROL for zero-fill claims: sum of ReLU(x) (pointwise with f(0) = 0, then a global sum)."""

    def forward(self, x):
        return torch.relu(x).sum(dim=(-2, -1))


class FourierMagnitude(nn.Module):
    """CONTROL: |DFT| over both spatial axes, flattened: invariant to circular and (content inside) zero-fill shifts."""

    def forward(self, x):
        return torch.fft.fft2(x).abs().flatten(1)


class ReluMap(nn.Module):
    """CONTROL for zero-fill equivariance: a pointwise map with f(0) = 0."""

    def forward(self, x):
        return torch.relu(x) - 0.5 * torch.relu(-x) ** 2


class QuantiserPlusPosition(CircConv):
    """Fools the linear certificate: linear on integer probes (``round(x) = x``), not over the reals.

    ``y = circconv(round(x)) + 3 · position_map · (x - round(x))`` with integer weights.
    Claimed translation-equivariant: violated on non-integer inputs.
    """

    def __init__(self, in_channels=1, out_channels=2, seed=0):
        super().__init__(in_channels, out_channels, seed, integer=True)

    def forward(self, x):
        q = torch.round(x)
        return self.conv(q) + 3 * position_map(x) * (x - q).sum(dim=1, keepdim=True)


class DeadZonePlusPosition(CircConv):
    """Fools the linear certificate: a dead zone ``x · (|x| > 0.5)`` is the identity on integers.

    ``y = circconv(deadzone(x)) + position_map · (x · (|x| ≤ 0.5))`` with integer weights.
    Claimed translation-equivariant: violated on inputs with values in (-0.5, 0.5).
    """

    def __init__(self, in_channels=2, out_channels=2, seed=4):
        super().__init__(in_channels, out_channels, seed, integer=True)

    def forward(self, x):
        keep = (x.abs() > 0.5).to(x.dtype)
        return self.conv(x * keep) + position_map(x) * (x * (1 - keep)).sum(dim=1, keepdim=True)


class QuarterQuantiser(CircConv):
    """Fools the linear certificate with a smaller defect: quantisation to quarters, residual times a map.

    ``y = circconv(q) + 8 · position_map · (x - q)``, ``q = round(4x) / 4``; |x - q| ≤ 1/8.
    Claimed translation-equivariant: violated on inputs that are not multiples of 1/4.
    """

    def __init__(self, in_channels=1, out_channels=1, seed=5):
        super().__init__(in_channels, out_channels, seed, integer=True)

    def forward(self, x):
        q = torch.round(4 * x) / 4
        return self.conv(q) + 8 * position_map(x) * (x - q).sum(dim=1, keepdim=True)


# ============================================================================= 2. batches


class ZeroPadAtBatchOne(CircConv):
    """Fools a reference computed at batch 1 and an orbit batched otherwise: zero padding at batch size 1 only.

    Claimed translation-equivariant: violated at batch 1 (and the layer depends on the batch size).
    """

    def forward(self, x):
        if x.shape[0] == 1:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class ZeroPadFromBatchEight(CircConv):
    """Batch-size dependence: zero padding for batches of 8 samples or more.

    Claimed translation-equivariant: violated at batch sizes ≥ 8.
    """

    def forward(self, x):
        if x.shape[0] >= 8:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class ZeroPadAtOddBatch(CircConv):
    """Fools batches of 1, 4, 8 and 32 (what the audit uses): zero padding at odd batch sizes above 1.

    Claimed translation-equivariant: violated at batch sizes 3, 5, 7, ...
    """

    def forward(self, x):
        if x.shape[0] > 1 and x.shape[0] % 2 == 1:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class OffByOneMeanForSmallBatches(nn.Module):
    """Fools batch sizes 1 and 32: for 2 ≤ N ≤ 16 the mean skips row 0.

    Claimed translation-invariant: violated at batch sizes 2 to 16.
    """

    def forward(self, x):
        if 2 <= x.shape[0] <= 16:
            return x[..., 1:, :].mean(dim=(-2, -1))
        return x.mean(dim=(-2, -1))


class PositionInBatch(CircConv):
    """Depends on the sample's position in the batch: samples at index ≥ 2 get 0.3 · position_map added.

    Claimed translation-equivariant: violated for every sample after the second.
    """

    def forward(self, x):
        y = self.conv(x)
        extra = torch.zeros((x.shape[0], 1, 1, 1), dtype=x.dtype)
        extra[2:] = 0.3
        return y + extra * position_map(x)


class CallCounter(CircConv):
    """Fools an audit that makes few calls: after 30 forward calls, 0.5 · position_map is added for good.

    Claimed translation-equivariant: violated from the 31st call on (the layer is also stateful).
    """

    def __init__(self, *args, after=30, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0
        self.after = after

    def forward(self, x):
        self.calls += 1
        y = self.conv(x)
        return y + 0.5 * position_map(x) if self.calls > self.after else y


class EverySeventhCall(CircConv):
    """Every 7th call adds 0.1 · position_map: a layer whose output depends on the call sequence.

    Claimed translation-equivariant: not a function of its input (the oracle sees two calls differ).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        y = self.conv(x)
        return y + 0.1 * position_map(x) if self.calls % 7 == 0 else y


class StaleCacheBySpatialShape(nn.Module):
    """Fools every check that compares outputs: a cache keyed by (C, H, W) returns the first output forever.

    The computation behind it, ``mean + x[..., 0, 0]``, is not translation-invariant; the cached output
    makes every later call look invariant and deterministic.  Claimed translation-invariant.
    """

    def __init__(self):
        super().__init__()
        self.cache = {}

    def forward(self, x):
        key = tuple(x.shape[1:])
        if key not in self.cache:
            self.cache[key] = (x.mean(dim=(-2, -1)) + x[..., 0, 0])[:1].clone()
        return self.cache[key].to(x.dtype).expand(x.shape[0], -1).clone()


class StaleCacheByShape(nn.Module):
    """A cache keyed by the full input shape: every later batch of the same shape gets the first one's output.

    The computation behind it (an off-by-one mean) is not rot90-invariant.  Claimed rot90-invariant.
    """

    def __init__(self):
        super().__init__()
        self.cache = {}

    def forward(self, x):
        key = (tuple(x.shape), x.dtype)
        if key not in self.cache:
            self.cache[key] = x[..., 1:, :].mean(dim=(-2, -1)).clone()
        return self.cache[key].clone()


# ============================================================================= 3. tolerance


class LoudAndQuietChannels(nn.Module):
    """Fools a tolerance scaled by the largest output: channel ``loud`` carries a bias of ``bias``, the other
    channels are zero-padded convolutions with O(1) border errors.

    Claimed translation-equivariant: violated (in the quiet channels).
    """

    def __init__(self, in_channels=2, out_channels=2, loud=0, bias=1e5, seed=11, scale=0.1):
        super().__init__()
        self.loud, self.loud_bias = loud, bias
        self.weight = nn.Parameter(gaussian((out_channels, in_channels, 3, 3), seed, scale))

    def forward(self, x):
        circ = circular_conv(x, self.weight)
        zero = zero_conv(x, self.weight)
        channel = torch.arange(self.weight.shape[0]).view(1, -1, 1, 1) == self.loud
        return torch.where(channel, circ + self.loud_bias, zero)


class LoudChannelQuietPixel(CircConv):
    """A loud channel (bias 3e4) beside a quiet one with a 1e-2 error at one output pixel.

    Claimed translation-equivariant: violated (the quiet channel's pixel).
    """

    def __init__(self):
        super().__init__(3, 3, seed=12)

    def forward(self, x):
        y = self.conv(x)
        offset = torch.zeros_like(y)
        offset[:, 2] = 3e4
        offset[:, 0, 4, 9] = 1e-2
        return y + offset


class LoudLogitQuietFeature(nn.Module):
    """Flat output [1e5 + mean(x), off-by-one mean(x)]: the loud logit hides the quiet feature's error.

    Claimed translation-invariant: violated.
    """

    def forward(self, x):
        loud = 1e5 + x.mean(dim=(1, 2, 3))
        quiet = x[..., 1:, :].mean(dim=(1, 2, 3))
        return torch.stack([loud, quiet], dim=1)


class PixelPerturbation(CircConv):
    """A circular conv plus a tiny constant ``amount`` at one output pixel (channel, i, j).

    Claimed translation-equivariant: violated — by an amount below the float32 tolerance ``2·γ_n·max|y|``.
    """

    def __init__(self, amount=3e-5, where=(0, 3, 5), in_channels=1, out_channels=2, seed=13):
        super().__init__(in_channels, out_channels, seed)
        self.amount, self.where = amount, where

    def forward(self, x):
        y = self.conv(x)
        c, i, j = self.where
        bump = torch.zeros_like(y)
        bump[:, c, i, j] = self.amount
        return y + bump


class SymmetricConvPixel(SymmetricConv):
    """A D4-symmetric zero-padded conv plus 3e-5 at output pixel (1, 0, 0).

    Claimed rot90-equivariant: violated (the corner pixel moves).
    """

    def __init__(self):
        super().__init__(2, 2, seed=14)

    def forward(self, x):
        y = super().forward(x)
        bump = torch.zeros_like(y)
        bump[:, 1, 0, 0] = 3e-5
        return y + bump


class AsymmetricKernel(nn.Module):
    """A D4-symmetric kernel with one tap off by ``eps``: claimed rot90-/flip-equivariant, violated by ~eps·|x|."""

    def __init__(self, eps=1e-5, tap=(0, 0, 0, 1), in_channels=1, out_channels=2, seed=15):
        super().__init__()
        weight = d4_symmetric_kernel(out_channels, in_channels, seed)
        weight[tap] += eps
        self.weight = nn.Parameter(weight)

    def forward(self, x):
        return zero_conv(x, self.weight)


class GainMap(CircConv):
    """A circular conv times a ±``gain`` checkerboard of position gains, for half-precision layers.

    Claimed translation-equivariant: violated (by 2·gain relative) — in fp16/bf16 the tolerance is wide.
    """

    def __init__(self, gain=0.1, in_channels=1, out_channels=2, seed=16):
        super().__init__(in_channels, out_channels, seed)
        self.gain = gain

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h).view(-1, 1)
        j = torch.arange(w).view(1, -1)
        sign = ((i // 3 + j // 2) % 2 * 2 - 1).to(x.dtype)
        return self.conv(x) * (1 + self.gain * sign)


class RelativeBump(CircConv):
    """A circular conv plus 1e-5 · max|y| at one pixel: below float32's tolerance, plain in float64.

    Claimed translation-equivariant: violated.
    """

    def __init__(self):
        super().__init__(1, 1, seed=17)

    def forward(self, x):
        y = self.conv(x)
        bump = torch.zeros_like(y)
        bump[:, 0, 7, 2] = 1e-5 * y.abs().amax(dim=(1, 2, 3))
        return y + bump


# ============================================================================= 4. the float64 twin


class CleanOnlyInFloat64(CircConv):
    """Fools a float64 re-run on a copy: in float64 a plain circular conv; in any other dtype 1e-2·map is added.

    Claimed translation-equivariant: violated in the layer's own dtype (float32), which is the layer the
    user runs; the twin made by ``.to(float64)`` is a different function.
    """

    def forward(self, x):
        y = self.conv(x)
        if x.dtype == torch.float64:
            return y
        return y + 1e-2 * position_map(x)


class ZeroPadUnlessFloat64Weights(CircConv):
    """Branches on the parameter dtype: zero padding unless the weights are float64.

    Claimed translation-equivariant: violated in float32 by O(1) border errors; the float64 twin is clean.
    """

    def forward(self, x):
        if self.weight.dtype == torch.float64:
            return self.conv(x)
        return zero_conv(x, self.weight, self.bias)


class ZeroPadUnlessFloat64Buffer(CircConv):
    """Branches on a buffer's dtype: a float flag buffer decides the padding; ``.to(float64)`` flips it.

    Claimed translation-equivariant: violated in float32.
    """

    def __init__(self):
        super().__init__(2, 2, seed=18)
        self.register_buffer("flag", torch.zeros(()))

    def forward(self, x):
        if self.flag.dtype == torch.float64:
            return self.conv(x)
        return zero_conv(x, self.weight, self.bias)


class ComplexModulation(CircConv):
    """A complex parameter modulating the input: ``y = circconv(x) + |x · W|``, ``W = 1 + 0.3j · position_map``.

    In complex arithmetic ``|x · W| = |x| · sqrt(1 + 0.09 · map²)``: a position-dependent gain.  Claimed
    translation-equivariant: violated.  ``.to(float64)`` casts W to real (dropping the imaginary part):
    that twin computes ``circconv(x) + |x|``, which is equivariant.
    """

    def __init__(self, size=8):
        super().__init__(1, 1, seed=19)
        grid = position_map(torch.zeros(1, 1, size, size))
        self.modulation = nn.Parameter(torch.complex(torch.ones(size, size), 0.3 * grid))

    def forward(self, x):
        return self.conv(x) + (x * self.modulation).abs().to(x.dtype)


class ComplexModulatedPool(nn.Module):
    """Global mean of ``|x · W|``, W = 1 + 0.2j · position_map (complex parameter).

    Claimed rot90-invariant: violated; the real twin (W = 1) is invariant.
    """

    def __init__(self, size=8):
        super().__init__()
        grid = position_map(torch.zeros(1, 1, size, size))
        self.scale = nn.Parameter(torch.ones(()))
        self.modulation = nn.Parameter(torch.complex(torch.ones(size, size), 0.2 * grid))

    def forward(self, x):
        return self.scale * (x * self.modulation).abs().to(x.dtype).mean(dim=(-2, -1))


class ComplexFourierFilter(nn.Module):
    """CONTROL: a circular convolution done in the Fourier domain with a complex filter parameter.

    ``y = Re(ifft2(fft2(x) · H))``: translation-equivariant in any dtype (the real twin too).
    """

    def __init__(self, size=8, seed=20):
        super().__init__()
        re, im = gaussian((size, size), seed), gaussian((size, size), seed + 1)
        self.filter = nn.Parameter(torch.complex(re, im))

    def forward(self, x):
        return torch.fft.ifft2(torch.fft.fft2(x) * self.filter).real.to(x.dtype)


# ============================================================================= 5. evidence


class InplaceReluFirst(nn.Sequential):
    """``ReLU(inplace=True)`` as first layer, then a circular conv: mutates the caller's input.

    Claimed translation-equivariant: holds (ReLU is pointwise).
    """

    def __init__(self):
        super().__init__(nn.ReLU(inplace=True), CircConv(1, 2, seed=21))


class InplaceSubtract(CircConv):
    """``x.sub_(1)`` before a circular conv: every call decrements the caller's tensor.

    Claimed translation-equivariant: holds (f(x) = circconv(x - 1)); corrupted evidence makes it look broken.
    """

    def forward(self, x):
        x.sub_(1)
        return self.conv(x)


class InplaceScaleThenPool(nn.Module):
    """``x.mul_(2)`` then global average pooling. Claimed rot90-invariant: holds."""

    def forward(self, x):
        x.mul_(2)
        return x.mean(dim=(-2, -1))


class InplacePositionGain(nn.Module):
    """``x.mul_(1 + position_map)`` then identity: mutates the input AND breaks the claim.

    Claimed translation-equivariant: violated.
    """

    def forward(self, x):
        x.mul_(1 + position_map(x))
        return x * 1.0


class ReusedOutputBuffer(CircConv):
    """Writes every output into one preallocated buffer and returns a view of it (``buffer[:N]``).

    A caller that keeps an earlier output sees it overwritten by the next call.  Claimed
    translation-equivariant: holds.
    """

    def __init__(self, in_channels=1, out_channels=2, seed=22):
        super().__init__(in_channels, out_channels, seed)
        self._storage = None

    def forward(self, x):
        y = self.conv(x)
        if self._storage is None or self._storage.shape[0] < y.shape[0] or self._storage.shape[1:] != y.shape[1:] \
                or self._storage.dtype != y.dtype:
            self._storage = torch.empty((max(64, y.shape[0]),) + tuple(y.shape[1:]), dtype=y.dtype)
        out = self._storage[: y.shape[0]]
        out.copy_(y)
        return out


class SubtractAndReturnInput(nn.Module):
    """``x.sub_(1); return x``: the output *is* the caller's input, decremented again by every call.

    Claimed translation-equivariant: holds (f(x) = x - 1).
    """

    def forward(self, x):
        x.sub_(1)
        return x


class ViewOfInput(nn.Module):
    """Returns a view of its input (``x[:, :, :, :]``). Claimed rot90-equivariant: holds."""

    def forward(self, x):
        return x[:, :, :, :]


# ============================================================================= 6. determinism


class Noisy(CircConv):
    """``gain`` times a circular conv, plus Gaussian noise of standard deviation ``sigma`` drawn on every call.

    Random: the audit must say ``error`` whatever the claim.
    """

    def __init__(self, sigma=7e-4, in_channels=1, out_channels=2, seed=23, gain=1.0):
        super().__init__(in_channels, out_channels, seed)
        self.sigma, self.gain = sigma, gain

    def forward(self, x):
        y = self.gain * self.conv(x)
        return y + self.sigma * torch.randn(y.shape, dtype=y.dtype)


class NoisyPool(nn.Module):
    """Global mean plus 7e-4 noise. Claimed rot90-invariant; random."""

    def forward(self, x):
        y = x.mean(dim=(-2, -1))
        return y + 7e-4 * torch.randn(y.shape, dtype=y.dtype)


class DropoutStuckInTrain(nn.Module):
    """``train()`` is overridden and does not recurse, so ``eval()`` leaves the child Dropout in training mode.

    Random.  Claimed translation-equivariant.
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 2, seed=24)
        self.drop = nn.Dropout(0.1)

    def train(self, mode=True):
        self.training = mode
        return self

    def forward(self, x):
        return self.drop(self.conv(x))


class MonteCarloDropout(nn.Module):
    """Monte-Carlo dropout: ``train()`` always puts the Dropout child back in training mode.

    Random.  Claimed rot90-invariant (global mean after dropout).
    """

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.05)

    def train(self, mode=True):
        super().train(mode)
        self.drop.train(True)
        return self

    def forward(self, x):
        return self.drop(x).mean(dim=(-2, -1))


class CancellingMatmul(nn.Module):
    """A circular convolution written as a dense matmul with large cancelling terms: ``x·(C + B) - x·B``.

    Deterministic, but float32 rounds differently at different batch sizes (BLAS picks other kernels).
    Claimed translation-equivariant: holds (C is circulant, B = 1000 everywhere).
    """

    def __init__(self, size=8, seed=25):
        super().__init__()
        kernel = gaussian((3, 3), seed, 0.5)
        n = size * size
        circulant = torch.zeros(n, n)
        for i in range(size):
            for j in range(size):
                for a in range(3):
                    for b in range(3):
                        src = ((i + a - 1) % size) * size + (j + b - 1) % size
                        circulant[src, i * size + j] += kernel[a, b]
        self.register_buffer("circulant", circulant)
        self.register_buffer("big", torch.full((n, n), 1000.0))
        self.size = size

    def forward(self, x):
        flat = x.reshape(x.shape[0], -1)
        y = flat @ (self.circulant + self.big) - flat @ self.big
        return y.reshape(x.shape)


class CancellingConv(CircConv):
    """``circconv(x + 1e4) - 1e4 · sum(w)``: a circular conv computed through a large cancelling offset.

    Deterministic; float32 rounding differs between batch sizes.  Claimed translation-equivariant: holds.
    """

    def __init__(self):
        super().__init__(2, 2, seed=26, bias=False)

    def forward(self, x):
        return circular_conv(x + 1e4, self.weight) - 1e4 * self.weight.sum(dim=(1, 2, 3)).view(1, -1, 1, 1)


# ============================================================================= 7. claims narrower than their names


def undo_doubling(x):
    """While the image is made of constant 2x2 blocks (and larger than 2x2), keep one pixel per block."""
    while x.shape[-1] % 2 == 0 and x.shape[-2] % 2 == 0 and min(x.shape[-2:]) > 2:
        half = x[..., ::2, ::2]
        if not torch.equal(x, torch.repeat_interleave(torch.repeat_interleave(half, 2, -2), 2, -1)):
            break
        x = half
    return x


class DoublingCanonicalPool(nn.Module):
    """Fools a scale check that tries factor 2 only: undoes every doubling of resolution, then a pooling that
    looks at the first two pixels of the top row.

    ``y = mean(c) + 0.5·(c[0, 0] - c[0, 1])`` with ``c = undo_doubling(x)``: invariant to upscaling by 2, 4,
    8, ... by construction, not by 3.  Claimed scale-invariant: violated.
    """

    def forward(self, x):
        out = []
        for sample in x:
            c = undo_doubling(sample)
            out.append(c.mean(dim=(-2, -1)) + 0.5 * (c[..., 0, 0] - c[..., 0, 1]))
        return torch.stack(out)


class DoublingCanonicalEnergy(nn.Module):
    """Undoes every doubling of resolution, then the energy of the top-left 3x3 corner.

    Invariant to upscaling by 2 and 4, not by 3.  Claimed scale-invariant: violated.
    """

    def forward(self, x):
        return torch.stack([undo_doubling(sample)[..., :3, :3].pow(2).mean(dim=(-2, -1)) for sample in x])


class DoublingCanonicalOffset(nn.Module):
    """Adds a constant computed from the resolution-canonical image: ``y = x + (c[0, 0] - c[0, 1])``.

    A constant commutes with upscaling, and ``c = undo_doubling(x)`` is the same for x and its 2x upscaling:
    scale-equivariant for factors 2 and 4, not 3 (``c`` of a 3x upscaling has equal first pixels).
    Claimed scale-equivariant: violated.
    """

    def forward(self, x):
        offsets = []
        for sample in x:
            c = undo_doubling(sample)
            offsets.append(c[..., 0, 0] - c[..., 0, 1])
        return x + torch.stack(offsets)[..., None, None]


# ============================================================================= 8. outputs and modules


class ArgmaxClassifier(nn.Module):
    """int64 output: argmax over 4 channels of a global max of a circular conv.

    Claimed translation-invariant: holds (exactly: the max is over the same values).
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 4, seed=27)

    def forward(self, x):
        return self.conv(x).amax(dim=(-2, -1)).argmax(dim=1)


class OffByOneArgmaxClassifier(nn.Module):
    """int64 output: argmax over 4 channels of an off-by-one mean of a circular conv (row 0 skipped).

    Claimed translation-invariant: violated (the predicted class changes with the shift).
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 4, seed=28)

    def forward(self, x):
        return self.conv(x)[..., 1:, :].mean(dim=(-2, -1)).argmax(dim=1)


class CircularMask(CircConv):
    """bool output: ``circconv(x) > 0``. Claimed translation-equivariant: holds."""

    def forward(self, x):
        return self.conv(x) > 0


class ZeroPadMask(CircConv):
    """bool output: ``zeropadconv(x) > 0.5``. Claimed translation-equivariant: violated at the border."""

    def forward(self, x):
        return zero_conv(x, self.weight, self.bias) > 0.5


class ScalarOutput(nn.Module):
    """Returns a 0-d tensor (``x.sum()``): no batch axis at all. The audit must say so clearly."""

    def forward(self, x):
        return x.sum()


class BatchPooledOutput(nn.Module):
    """Returns ``x.mean(dim=(0, 2, 3))``: pooled over the batch too, output (C,) whatever N is."""

    def forward(self, x):
        return x.mean(dim=(0, 2, 3))


class NoBatchAxisOutput(nn.Module):
    """Returns ``x.sum(0)``: the batch axis summed away, output (C, H, W)."""

    def forward(self, x):
        return x.sum(dim=0)


def lazy_circular_pool():
    """A lazy module (``LazyConv2d``, circular padding) then global max pooling: translation-invariant, not
    rot90-invariant."""
    return nn.Sequential(nn.LazyConv2d(3, 3, padding=1, padding_mode="circular"), nn.AdaptiveMaxPool2d(1),
                         nn.Flatten())


class BatchOneOnly(CircConv):
    """Raises on batches of more than one sample; otherwise a circular conv (translation-equivariant)."""

    def forward(self, x):
        if x.shape[0] != 1:
            raise RuntimeError(f"this layer takes one image at a time, got a batch of {x.shape[0]}")
        return self.conv(x)


class BatchOneOnlyZeroPad(CircConv):
    """Raises on batches of more than one sample; otherwise a zero-padded conv (not translation-equivariant)."""

    def forward(self, x):
        if x.shape[0] != 1:
            raise RuntimeError(f"this layer takes one image at a time, got a batch of {x.shape[0]}")
        return zero_conv(x, self.weight, self.bias)


def raising_factory():
    """A CLI factory that raises (weights missing): the CLI must exit 2 with a message, not a traceback."""
    raise RuntimeError("checkpoint weights.pt not found")


def circular_conv_factory():
    """A CLI factory: a circular conv, translation-equivariant."""
    return CircConv(1, 2, seed=29)


def zero_pad_conv_factory():
    """A CLI factory: a zero-padded conv (not translation-equivariant)."""
    return nn.Conv2d(1, 2, 3, padding=1)


def scalar_output_factory():
    return ScalarOutput()


# ============================================================================= 9. state


class NonPersistentCounter(CircConv):
    """A non-persistent buffer counting calls (not used by the output).

    Claimed translation-equivariant: holds; the audit must restore the buffer.
    """

    def __init__(self):
        super().__init__(1, 2, seed=30)
        self.register_buffer("calls", torch.zeros(()), persistent=False)

    def forward(self, x):
        self.calls += 1
        return self.conv(x)


class NonPersistentRunningMean(nn.Module):
    """A non-persistent running mean of the input, updated in eval mode too (not used by the output).

    Claimed rot90-invariant (global mean): holds; the audit must restore the buffer.
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("running", torch.zeros(2), persistent=False)

    def forward(self, x):
        with torch.no_grad():
            self.running.mul_(0.9).add_(0.1 * x.detach().mean(dim=(0, 2, 3)).to(self.running.dtype))
        return x.mean(dim=(-2, -1))


class CachesFilterOnEval(nn.Module):
    """Like e2cnn's R2Conv: ``train(False)`` builds the filter from the parameters and registers it as a buffer;
    ``train(True)`` deletes it.  Restoring the flag by assignment leaves the buffer (a non-leaf tensor:
    the module can no longer be deep-copied).

    Claimed rot90-equivariant: holds (D4-symmetric kernel, zero padding).
    """

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(d4_symmetric_kernel(2, 1, seed=31))

    def train(self, mode=True):
        if mode:
            if hasattr(self, "filter"):
                del self.filter
        elif self.training:
            self.register_buffer("filter", self.weight * 1.0)
        return super().train(mode)

    def forward(self, x):
        weight = self.weight if self.training else self.filter
        return zero_conv(x, weight.to(x.dtype))


class DrawsFromGlobalRNG(CircConv):
    """Draws (and discards) numbers from torch's and Python's global RNGs in every call; output deterministic.

    Claimed translation-equivariant: holds; the audit must leave both RNG states as they were.
    """

    def __init__(self):
        super().__init__(1, 2, seed=32)

    def forward(self, x):
        torch.rand(3)
        random.random()
        return self.conv(x)


class MixedRequiresGrad(nn.Module):
    """One frozen parameter, one trainable, a child in eval mode while the parent trains.

    Claimed translation-equivariant: holds; every flag must come back as it was.
    """

    def __init__(self):
        super().__init__()
        self.first = CircConv(1, 2, seed=33)
        self.second = CircConv(2, 2, seed=34)
        self.first.weight.requires_grad_(False)
        self.second.eval()

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


class RecordsLastShape(CircConv):
    """Records the last input shape in an attribute (``self.last_shape``) on every call.

    Claimed translation-equivariant: holds; the audit must not leave the attribute changed.
    """

    def __init__(self):
        super().__init__(1, 2, seed=35)
        self.last_shape = None

    def forward(self, x):
        self.last_shape = tuple(x.shape)
        return self.conv(x)


def _e2cnn_types(out_fields=2):
    from e2cnn import gspaces, nn as enn

    space = gspaces.Rot2dOnR2(N=4)
    return enn, enn.FieldType(space, [space.trivial_repr]), enn.FieldType(space, out_fields * [space.regular_repr])


class E2cnnRegular(nn.Module):
    """e2cnn 0.2.3: a C4 ``R2Conv`` (trivial -> 2 regular fields, 3x3, zero padding 1).

    Claimed rot90-equivariant[channels=regular]: holds.  R2Conv caches its filter on ``eval()``.
    """

    def __init__(self, seed=36):
        super().__init__()
        enn, self.in_type, out_type = _e2cnn_types()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.conv = enn.R2Conv(self.in_type, out_type, kernel_size=3, padding=1)
        self._wrap = enn.GeometricTensor

    def forward(self, x):
        return self.conv(self._wrap(x, self.in_type)).tensor


class E2cnnGroupPool(E2cnnRegular):
    """e2cnn: C4 ``R2Conv`` then ``GroupPooling`` (max over the 4 orientations): rot90-equivariant maps."""

    def __init__(self, seed=37):
        super().__init__(seed)
        from e2cnn import nn as enn

        self.pool = enn.GroupPooling(self.conv.out_type)

    def forward(self, x):
        return self.pool(self.conv(self._wrap(x, self.in_type))).tensor


class E2cnnInvariant(E2cnnGroupPool):
    """e2cnn: R2Conv, GroupPooling, then a global max: rot90-invariant."""

    def forward(self, x):
        return super().forward(x).amax(dim=(-2, -1))


# ============================================================================= 10. shapes


class RowsZeroColumnsCircular(nn.Module):
    """A layer on (N, H, W) inputs (no channel axis): circular along W, zero padding along H.

    Claimed translation-equivariant on 8x8 images: violated (vertical shifts), but a 2-number input shape
    read as (C, L) only ever shifts horizontally.
    """

    def __init__(self, seed=38):
        super().__init__()
        self.weight = nn.Parameter(gaussian((1, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        y = F.pad(x[:, None], (1, 1, 0, 0), mode="circular")
        return F.conv2d(y, self.weight, padding=(1, 0))[:, 0]


class CircularNHW(nn.Module):
    """A layer on (N, H, W) inputs: a 2-D circular conv on the single plane. Translation-equivariant."""

    def __init__(self, seed=39):
        super().__init__()
        self.weight = nn.Parameter(gaussian((1, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        return circular_conv(x[:, None], self.weight)[:, 0]


class CircularConv1d(nn.Module):
    """A 1-D layer on (N, C, L): circular Conv1d. Translation-equivariant."""

    def __init__(self, seed=40):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 2, 3), seed, 0.5))

    def forward(self, x):
        return F.conv1d(F.pad(x, (1, 1), mode="circular"), self.weight)


# ============================================================================= 11. registry


class RaisesOnLargeBatches(CircConv):
    """A circular conv that raises on batches of more than 2 samples (translation-equivariant where it runs)."""

    def forward(self, x):
        if x.shape[0] > 2:
            raise RuntimeError(f"batch of {x.shape[0]} is too large for this layer")
        return self.conv(x)


class RaisesUnlessBatchTwo(SymmetricConv):
    """A D4-symmetric conv that raises unless the batch has exactly 2 samples (rot90-equivariant where it runs)."""

    def __init__(self):
        super().__init__(1, 2, seed=41)

    def forward(self, x):
        if x.shape[0] not in (1, 2):
            raise RuntimeError(f"expected a batch of 2, got {x.shape[0]}")
        return super().forward(x)


# ============================================================================= plain users' bugs and third-party layers


class OffByOneMaxPool(nn.Module):
    """The plain user's off-by-one global max pool ``x[..., 1:, :].amax(dim=(-2, -1))``.

    Claimed translation-invariant and rot90-invariant: both violated.  With integers in [-3, 3] the maximum
    almost always sits in some other row, so the dropped row never shows.
    """

    def forward(self, x):
        return x[..., 1:, :].amax(dim=(-2, -1))


class OffByOneAvgPool(nn.Module):
    """An off-by-one global average pool ``x[..., 1:, :].mean(...)``. Claimed translation-invariant: violated."""

    def forward(self, x):
        return x[..., 1:, :].mean(dim=(-2, -1))


class CornerDroppingAvgPool(nn.Module):
    """Global average over ``x[..., :-1, :-1]`` (last row and column dropped). Claimed rot90-invariant: violated."""

    def forward(self, x):
        return x[..., :-1, :-1].mean(dim=(-2, -1))


class EvenOnlyMaxPool(nn.Module):
    """Global max computed as ``max_pool2d(2)`` then max: drops the last row/column on odd sizes.

    Translation-invariant on even sizes; violated on odd sizes (a max that saturates on integer inputs).
    """

    def forward(self, x):
        return F.max_pool2d(x, 2).amax(dim=(-2, -1))


class EvenOnlyAvgPool(nn.Module):
    """Global mean computed as ``avg_pool2d(2)`` then mean: correct on even sizes only."""

    def forward(self, x):
        return F.avg_pool2d(x, 2).mean(dim=(-2, -1))


def blurpool(channels=2, filt_size=3, pad_type="reflect"):
    """antialiased_cnns.BlurPool (stride 2)."""
    import antialiased_cnns

    return antialiased_cnns.BlurPool(channels, pad_type=pad_type, filt_size=filt_size, stride=2)
