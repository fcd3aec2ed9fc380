"""Round 2 of the red team: layers built to fool the *new* mechanisms of the engine.

Same rules as ``layers.py``: torch only (never the package under test), deterministic to build, small
shapes (32x32 only where a large orbit is the point).  Every class says what it is built to fool and
whether the claim it is audited for holds; the oracle establishes the truth independently.
"""

from __future__ import annotations

import threading
import types

import torch
import torch.nn.functional as F
from torch import nn

try:
    from red_team.layers import CircConv, circular_conv, gaussian, integers, position_map, zero_conv
except ImportError:  # loaded by path (the CLI puts this folder on sys.path)
    from layers import CircConv, circular_conv, gaussian, integers, position_map, zero_conv  # type: ignore

# ----------------------------------------------------------------------------- helpers


def integer_map(x):
    """An integer-valued position map (values 0..4) no shift leaves unchanged, in ``x``'s dtype."""
    h, w = x.shape[-2:]
    i = torch.arange(h, dtype=torch.float64)[:, None]
    j = torch.arange(w, dtype=torch.float64)[None, :]
    return ((7 * i + 3 * j + (i * j) % 3) % 5).to(device=x.device, dtype=x.dtype)


def checker(x):
    """(-1)^(i+j) over the spatial grid of ``x``."""
    h, w = x.shape[-2:]
    i = torch.arange(h)[:, None]
    j = torch.arange(w)[None, :]
    return (1 - 2 * ((i + j) % 2)).to(device=x.device, dtype=x.dtype)


class Conditional(CircConv):
    """A circular conv that uses zero padding on the samples where ``condition(x)`` (per sample) is True.

    Zero padding breaks translation equivariance for almost every input; so the claim
    translation-equivariant is violated exactly on the inputs that meet the condition.
    """

    def condition(self, x):  # (N,) bool
        raise NotImplementedError

    def forward(self, x):
        wrong = self.condition(x).view(-1, *([1] * (x.dim() - 1)))
        return torch.where(wrong, zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype)), self.conv(x))


def _per_sample(t):
    return t.reshape(t.shape[0], -1)


# ============================================================================= 1. search coverage: domains


class NegativeImageBranch(Conditional):
    """Zero padding on samples that are strictly negative everywhere and not flat (std > 0.05 of the magnitude).

    Fools a portfolio whose only all-negative inputs are (near-)constant: claimed translation-equivariant,
    violated on negative images with contrast.
    """

    def condition(self, x):
        flat = _per_sample(x)
        return (flat.amax(dim=1) < 0) & (flat.std(dim=1) > 0.05 * flat.abs().amax(dim=1))


class CheckerboardBranch(Conditional):
    """Zero padding on samples whose energy sits mostly at the Nyquist frequency: ``<x, (-1)^(i+j)>²`` above
    half of ``‖x‖² · numel`` (1 for a checkerboard, about 1/numel for Gaussian noise).

    Fools a portfolio without high-frequency inputs.  Claimed translation-equivariant: violated on
    checkerboard-like inputs.  (A shift by one pixel flips the sign of the Nyquist coefficient only, so the
    condition is shift-invariant on even sizes.)
    """

    def condition(self, x):
        flat = _per_sample(x * checker(x))
        c = flat.sum(dim=1)
        energy = _per_sample(x * x).sum(dim=1) * flat.shape[1]
        return c * c > 0.5 * energy.clamp_min(1e-300)


class NarrowBandBranch(Conditional):
    """Zero padding on samples whose every value has magnitude in (0.4, 0.6) and which are not flat.

    Claimed translation-equivariant: violated on such inputs only.
    """

    def condition(self, x):
        a = _per_sample(x.abs())
        return ((a > 0.4) & (a < 0.6)).all(dim=1) & (_per_sample(x).std(dim=1) > 0.01)


class DitheredQuantiser(CircConv):
    """``circconv(round(x + 1e-6·(d - ½)))`` with a fixed ordered-dither map d: ties are broken by position.

    Equal to ``circconv(round(x))`` unless a value sits within 5e-7 of a half-integer; so a claimed
    translation-equivariance is violated on inputs of exact half-integers, and on nothing the portfolio draws.
    """

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h)[:, None]
        j = torch.arange(w)[None, :]
        bayer = ((2 * (i % 2) + 3 * (j % 2)) % 4).to(x.dtype) / 3  # 0, 1/3, 2/3, 1
        return self.conv(torch.round(x + 1e-6 * (bayer - 0.5)))


class SingleHotPixel(CircConv):
    """``circconv(x) + position_map · Σx`` on samples with exactly one non-zero value (a delta image).

    Claimed translation-equivariant: violated on single-pixel inputs (any position); the portfolio's sparse
    inputs always have three values, every other domain is dense.
    """

    def forward(self, x):
        single = (_per_sample(x) != 0).sum(dim=1) == 1
        return self.conv(x) + position_map(x) * (x.sum(dim=(1, 2, 3)) * single).view(-1, 1, 1, 1)


class TinyInputBranch(Conditional):
    """Zero padding on samples with max |x| < 1e-6 (an epsilon guard gone wrong).

    Claimed translation-equivariant: violated on inputs of about 1e-8; the smallest portfolio scale is 1e-3.
    """

    def condition(self, x):
        m = _per_sample(x.abs()).amax(dim=1)
        return (m > 0) & (m < 1e-6)


class MixedChannelScales(Conditional):
    """Two input channels; zero padding when their magnitudes differ by more than 1e3 (both non-zero).

    Claimed translation-equivariant: violated on inputs whose channels live at different scales, which no
    portfolio domain draws (each draws all channels at one scale).
    """

    def condition(self, x):
        a = x[:, 0].abs().reshape(x.shape[0], -1).amax(dim=1)
        b = x[:, 1].abs().reshape(x.shape[0], -1).amax(dim=1)
        lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        return (lo > 0) & (hi > 1e3 * lo)


class LargeNonNegativeBranch(Conditional):
    """Two conditions at once: zero padding on samples that are non-negative AND larger than 100 somewhere.

    The portfolio's non-negative inputs are at most 10, its large ones have mixed signs.  Claimed
    translation-equivariant: violated.
    """

    def condition(self, x):
        flat = _per_sample(x)
        return (flat.amin(dim=1) >= 0) & (flat.amax(dim=1) > 100)


class SparseFractionalBranch(Conditional):
    """Two conditions at once: zero padding on samples that are sparse (≤ 25% non-zero) AND hold a non-integer.

    The portfolio's sparse inputs are integer multiples, its non-integer ones dense.  Claimed
    translation-equivariant: violated.
    """

    def condition(self, x):
        flat = _per_sample(x)
        sparse = (flat != 0).double().mean(dim=1) <= 0.25
        fractional = (flat != torch.round(flat)).any(dim=1)
        return sparse & fractional


class FarCornerArgmaxPool(nn.Module):
    """Global mean, plus 0.5·max when the sample is non-negative with a maximum above 5 sitting at one far
    pixel (27, 5).

    Translation-invariance fails exactly at the one shift per sample that moves its maximum there; on
    32x32 inputs only a sample of 64 of the 1 024 shifts is evaluated after the first two inputs, and
    those two (integers in [-3, 3], unit Gaussians) never meet the condition.  Claimed translation-invariant:
    violated.
    """

    def __init__(self, where=(27, 5)):
        super().__init__()
        self.where = where

    def forward(self, x):
        n, c, h, w = x.shape
        flat = x.reshape(n, -1)
        position = flat.argmax(dim=1) % (h * w)
        hit = (flat.amin(dim=1) >= 0) & (flat.amax(dim=1) > 5) & (position == self.where[0] * w + self.where[1])
        return x.mean(dim=(-2, -1)) + 0.5 * (flat.amax(dim=1) * hit).view(-1, 1)


class FarZeroFillCorner(nn.Module):
    """Global sum, times 1.5 when the sample's only non-zero value is its bottom-right pixel and exceeds 5.

    Only the zero-fill shifts by ±(n − 1) on both axes carry content between that pixel and the opposite
    corner: 2 of the 3 969 zero-fill shifts of a 32x32 input, and inputs with values above 5 come only after
    the first two (integers, unit Gaussians), when the orbit is sampled.  Claimed
    translation-invariant[boundary=zero]: violated.
    """

    def forward(self, x):
        flat = _per_sample(x)
        corner = flat[:, -1]
        alone = (flat[:, :-1] == 0).all(dim=1) & (corner > 5)
        gain = 1 + 0.5 * alone.to(x.dtype).view(-1, 1)
        return x.sum(dim=(-2, -1)) * gain


# ============================================================================= 1/5. batch sizes the search never uses


class ZeroPadAtBatchFour(CircConv):
    """Zero padding when the batch has exactly 4 samples.  Claimed translation-equivariant: violated at batch 4."""

    def forward(self, x):
        if x.shape[0] == 4:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class ZeroPadAtBatchSixOrSeven(CircConv):
    """Zero padding for batches of 6 or 7 samples.  Claimed translation-equivariant: violated there."""

    def forward(self, x):
        if x.shape[0] in (6, 7):
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class ZeroPadAboveSeventeen(CircConv):
    """A different code path for batches above 17 (say, a chunked kernel) with zero padding.

    The orbit's chunks are larger than 17, but their anchor fails, so they are thrown away and every
    element is re-evaluated at the input's own batch size (at most 17).  Claimed translation-equivariant:
    violated for batches of 18 or more.
    """

    def forward(self, x):
        if x.shape[0] > 17:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class NoisyAboveSeventeen(CircConv):
    """Adds 1e-2 noise (from the global RNG) to batches of more than 17 samples: random there.

    Claimed translation-equivariant: the layer is not a function of its input at batch sizes ≥ 18.
    """

    def forward(self, x):
        y = self.conv(x)
        if x.shape[0] > 17:
            y = y + 1e-2 * torch.randn_like(y)
        return y


class NoisyOnNegativeInputs(CircConv):
    """Adds 1e-2 noise (global RNG) on samples that are entirely negative with contrast: random there only."""

    def forward(self, x):
        y = self.conv(x)
        flat = _per_sample(x)
        hit = (flat.amax(dim=1) < 0) & (flat.std(dim=1) > 0.05 * flat.abs().amax(dim=1))
        return y + 1e-2 * torch.randn_like(y) * hit.to(y.dtype).view(-1, 1, 1, 1)


class LooksAhead(CircConv):
    """Couples each sample with the NEXT one in the batch: ``y_i = circconv(x_i) + 0.5·circconv(x_{i+1})``,
    the last sample alone.

    As a function of whole batches this is translation-equivariant (the same shift acts on every sample).
    The orbit's chunks carry the anchor last, where it couples with nothing, so the anchor agrees and the
    chunk's other rows (coupled with other group elements) look violated.  Claimed: holds.
    """

    def forward(self, x):
        y = self.conv(x)
        ahead = torch.cat([y[1:], torch.zeros_like(y[:1])])
        return y + 0.5 * ahead


class CentresOnFirstHalf(nn.Module):
    """Samples in the first half of the batch have the first half's mean map subtracted; the rest pass through.

    ``y_i = circconv(x_i) − mean_{j < N/2} circconv(x_j)`` for ``i < N/2``, else ``circconv(x_i)``.  A shift of
    the whole batch commutes with it (translation-equivariant as a function of batches); the anchor of a chunk
    sits in the second half.  Claimed: holds.
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 2, seed=201)

    def forward(self, x):
        y = self.conv(x)
        half = x.shape[0] // 2
        if half == 0:
            return y
        out = y.clone()
        out[:half] = y[:half] - y[:half].mean(dim=0, keepdim=True)
        return out


class BatchCentredAboveForty(nn.Module):
    """Batches above 40 samples are centred by their per-pixel batch mean (a shift-equivariant coupling).

    Claimed translation-equivariant: holds (as a function of whole batches at every size).
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 2, seed=202)

    def forward(self, x):
        y = self.conv(x)
        if x.shape[0] > 40:
            y = y - y.mean(dim=0, keepdim=True)
        return y


# ============================================================================= 2. the twin and its probes


class UnderflowsInHalf(CircConv):
    """Computes through ``(x · 2^-40) · 2^40``: exact in float32 and float64, zero in float16 (underflow) for
    every input float16 can hold.

    With ``delta`` > 0 and ``branch`` ("float32", "not-float64" or "weight"), a dtype-specific path adds
    ``delta · position_map · max|x|`` to samples with max |x| < 1e4 (a fast path for moderate values).
    The float16 probe, having lost everything, makes the float64 twin's disagreement look like rounding, and
    the twin (which never takes the path) then arbitrates.  Claimed translation-equivariant: violated in the
    layer's own precision when delta > 0, holds when delta = 0.
    """

    def __init__(self, delta=0.0, branch="float32", seed=210):
        super().__init__(1, 2, seed=seed, bias=False)
        self.delta, self.branch = delta, branch

    def _dtype_path(self, x):
        if self.branch == "float32":
            return x.dtype == torch.float32
        if self.branch == "not-float64":
            return x.dtype != torch.float64
        return self.weight.dtype == torch.float32

    def forward(self, x):
        y = self.conv((x * 2.0**-40) * 2.0**40)
        if self.delta and self._dtype_path(x):
            scale = x.abs().amax(dim=(1, 2, 3), keepdim=True)
            y = y + self.delta * position_map(x) * scale * (scale < 1e4)
        return y


class DtypeBranchPlain(CircConv):
    """A float32-only path adding ``delta · position_map · max|x|`` (no underflow trick): the probes see that the
    float64 twin is another function, the arbiter is set aside, and the layer's own precision decides.

    Claimed translation-equivariant: violated (delta well above float32 rounding).
    """

    def __init__(self, delta=1e-3, seed=211):
        super().__init__(1, 2, seed=seed)
        self.delta = delta

    def forward(self, x):
        y = self.conv(x)
        if x.dtype == torch.float32:
            y = y + self.delta * position_map(x) * x.abs().amax(dim=(1, 2, 3), keepdim=True)
        return y


class Float32OnlyTinyGain(nn.Module):
    """A float32-only kernel (raises on any other dtype, like many custom CUDA ops) computing a unit conversion
    ``1e-4 · circconv(x)`` with a position-dependent gain error of ±0.3%.

    The float64 twin raises, so the layer's own bound decides; that bound is floored at the INPUT's magnitude,
    10^4 times the output's.  Claimed translation-equivariant: violated (relative error ~3e-3).
    """

    def __init__(self, gain_error=3e-3, seed=212):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)
        self.gain_error = gain_error

    def forward(self, x):
        if x.dtype != torch.float32:
            raise TypeError(f"this kernel supports float32 only, got {x.dtype}")
        return 1e-4 * self.conv(x) * (1 + self.gain_error * position_map(x))


class Float32OnlyCircular(nn.Module):
    """CONTROL for the above: the same float32-only kernel without the gain error.  Claimed: holds."""

    def __init__(self, seed=212):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)

    def forward(self, x):
        if x.dtype != torch.float32:
            raise TypeError(f"this kernel supports float32 only, got {x.dtype}")
        return 1e-4 * self.conv(x)


class ComplexFilterBank(nn.Module):
    """Circular convolution through the FFT with a complex frequency response (a complex parameter); the real
    part of the result.  Claimed translation-equivariant: holds."""

    def __init__(self, size=8, seed=213):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        re = torch.randn((2, 1, size, size // 2 + 1), generator=g)
        im = torch.randn((2, 1, size, size // 2 + 1), generator=g)
        self.response = nn.Parameter(torch.complex(re, im))

    def forward(self, x):
        spectrum = torch.fft.rfft2(x)
        return torch.fft.irfft2(spectrum * self.response.to(spectrum.dtype)[None, :, 0], s=x.shape[-2:])


class ComplexPhaseBug(ComplexFilterBank):
    """The same filter bank, but the complex response is multiplied by a position map in space afterwards
    through a complex buffer's real part — violated.  Here the position map has amplitude 2e-3."""

    def __init__(self, size=8, seed=214):
        super().__init__(size, seed)
        self.register_buffer("ramp", torch.complex(torch.ones(size, size), torch.zeros(size, size)))

    def forward(self, x):
        y = super().forward(x)
        return y * (self.ramp.real.to(y.dtype) + 2e-3 * position_map(y))


# ============================================================================= 3. per-element rules


class LoudFeatureQuietDefect(nn.Module):
    """Flat output (N, 2): feature 0 is a loud global L1 norm (×1e5) computed through a cancelling offset of
    1e8·max|x| (float32 keeps none of its digits, float64 nine), feature 1 a quiet global mean plus 1e-3 of
    the top-left pixel.

    The arbiter's threshold for flat outputs takes the rounding noise over ALL features of a sample, so the
    loud feature's float32 noise hides the quiet feature's defect.  Claimed translation-invariant: violated
    (feature 1 at 1e-3 relative).
    """

    def forward(self, x):
        m = x.abs().amax(dim=(1, 2, 3))
        loud = (x.abs().sum(dim=(1, 2, 3)) + 1e8 * m) * 1e5 - 1e13 * m
        quiet = x.mean(dim=(1, 2, 3)) + 1e-3 * x[:, 0, 0, 0]
        return torch.stack([loud, quiet], dim=1)


class LoudChannelQuietDefect(nn.Module):
    """CONTROL of the above on a spatial output: the same loud map (``|circconv x|``, through the same
    cancelling offset) and quiet map (``circconv x + 1e-3·position_map·max|x|``) as two channels.  The
    arbiter's noise is taken per channel there.  Claimed translation-equivariant: violated."""

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 1, seed=215, bias=False)

    def forward(self, x):
        y = self.conv(x)
        m = x.abs().amax(dim=(1, 2, 3), keepdim=True)
        loud = (y.abs() + 1e8 * m) * 1e5 - 1e13 * m
        quiet = y + 1e-3 * position_map(x) * m
        return torch.cat([loud, quiet], dim=1)


class Float64Amplified(nn.Module):
    """A float64 layer (parameters in float64) computed through a cancelling offset of 1e9, plus a position
    dependent defect of 3e-5 relative.  In float64 the offset rounds each input to about 1e-7, pixel by pixel
    (so the circular conv stays bitwise equivariant); the float32 amplifier loses everything, and its noise
    sets the arbiter's threshold.

    Claimed translation-equivariant: violated (judged in float64: 3e-5 is 250 times the offset's rounding).
    """

    def __init__(self, defect=3e-5):
        super().__init__()
        self.conv = CircConv(1, 2, seed=216, bias=False).double()
        self.defect = defect

    def forward(self, x):
        y = self.conv((x + 1e9) - 1e9)
        return y + self.defect * position_map(x) * x.abs().amax(dim=(1, 2, 3), keepdim=True)


# ============================================================================= 4. state


class CacheBySum(nn.Module):
    """Memoises by a cheap key (shape, exact sum): an input with the same shape and sum gets the cached output.

    Every shift of an input has the same sum (exactly, for integers), so ``f(g·x)`` called at the batch size of
    ``x`` returns ``f(x)`` unshifted.  Claimed translation-equivariant: violated (the layer returns stale
    outputs; it is also not a function of its input).
    """

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 2, seed=220)
        self.memo = {}

    def forward(self, x):
        key = (tuple(x.shape), float(x.double().sum()))
        if key not in self.memo:
            self.memo = {key: self.conv(x)}
        return self.memo[key].clone()


class _ClassState:
    warm = 0


class WarmsUpInClassAttribute(CircConv):
    """An auto-tuner that keeps its state in a CLASS attribute (shared by every copy): after 40 calls of any
    instance, batches of one sample take a "tuned" path with zero padding.

    Copies share the state, so a fresh copy agrees with the searched one.  Claimed translation-equivariant:
    the layer depends on earlier calls (and violates the claim once warm).
    """

    state = _ClassState

    def __init__(self, seed=221):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        type(self).state.warm += 1
        if type(self).state.warm > 40 and x.shape[0] == 1:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


def warms_up_in_class_attribute():
    _ClassState.warm = 0
    return WarmsUpInClassAttribute()


class SeededByCallCount(CircConv):
    """Adds 1e-3 noise from a generator seeded by the number of calls so far: random, but reproducible from a
    fresh copy (both start counting at 0).  Claimed translation-equivariant: not a function of its input."""

    def __init__(self, seed=222):
        super().__init__(1, 2, seed=seed)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        g = torch.Generator().manual_seed(self.calls)
        y = self.conv(x)
        return y + 1e-3 * torch.randn(y.shape, generator=g, dtype=y.dtype)


class RemembersLargeInputs(CircConv):
    """Remembers whether it has ever seen |x| > 100; from then on, inputs with |x| > 100 are zero padded.

    The first large call is right, later ones wrong: the state only matters for large inputs, never for the
    Gaussian probe of a pristine-copy check.  Claimed translation-equivariant: stateful.
    """

    def __init__(self, seed=223):
        super().__init__(1, 2, seed=seed)
        self.seen = False

    def forward(self, x):
        large = bool(x.abs().max() > 100)
        out = zero_conv(x, self.weight, self.bias) if (large and self.seen) else self.conv(x)
        self.seen = self.seen or large
        return out


# ============================================================================= 7. claims


class ZeroPadConvSum5(nn.Module):
    """Zero-padded 5x5 conv (reach 2) then a global sum.  Content at distance ≥ 2 from every edge keeps every
    kernel tap inside, so translation-invariant[boundary=zero,border=2] holds and border=1 does not."""

    def __init__(self, seed=230):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 5, 5), seed, 0.5) + 0.3)

    def forward(self, x):
        return F.conv2d(x, self.weight, padding=2).sum(dim=(-2, -1))


class ZeroPadConv3(nn.Module):
    """Zero-padded 3x3 conv (same size): equivariant to zero-fill shifts of content ≥ 1 from every edge."""

    def __init__(self, seed=231):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        return F.conv2d(x, self.weight, padding=1)


class QuadBlockDetector(nn.Module):
    """Global mean, plus the top-left pixel when the image is made of constant 4x4 blocks (and is larger than
    4x4): invariant to upscaling by 2 and 3, not by 4.  Claimed scale-invariant: violated."""

    def forward(self, x):
        out = []
        for sample in x:
            h, w = sample.shape[-2:]
            blocks = h % 4 == 0 and w % 4 == 0 and min(h, w) > 4 and torch.equal(
                sample, torch.repeat_interleave(torch.repeat_interleave(sample[..., ::4, ::4], 4, -2), 4, -1))
            extra = sample[..., 0, 0] if blocks else torch.zeros_like(sample[..., 0, 0])
            out.append(sample.mean(dim=(-2, -1)) + extra)
        return torch.stack(out)


class IsotropicBlurEnergy(nn.Module):
    """Energy of a blurred image inside a centred disc: close to rotation-invariant (bilinear rotation loses
    little); claimed rotation-invariant: approximate."""

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h, dtype=x.dtype)[:, None] - (h - 1) / 2
        j = torch.arange(w, dtype=x.dtype)[None, :] - (w - 1) / 2
        disc = ((i * i + j * j) <= (min(h, w) / 2 - 2) ** 2).to(x.dtype)
        blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
        return (blurred * disc).pow(2).sum(dim=(-2, -1)) / disc.sum()


class TopRowEnergy(nn.Module):
    """Energy of the top three rows: claimed rotation-invariant, violated by far."""

    def forward(self, x):
        return x[..., :3, :].pow(2).mean(dim=(-2, -1))


class LiftingConv(nn.Module):
    """A C4 lifting convolution: one kernel rotated by 0, 90, 180, 270 degrees, circular padding; output
    channels laid out field by field (4 orientations per field), orientation ``k`` from ``rot90(kernel, k)``.

    ``order="field"``: the regular layout (rot90-equivariant[channels=regular] holds);
    ``order="orientation"``: orientation-major layout (channel ``o·F + f``), which the regular representation
    does not describe (violated); ``reverse=True``: orientations in the opposite sense (violated unless the
    convention is the other one).
    """

    def __init__(self, fields=2, order="field", reverse=False, seed=232):
        super().__init__()
        self.weight = nn.Parameter(gaussian((fields, 1, 3, 3), seed, 0.5))
        self.order, self.reverse = order, reverse

    def forward(self, x):
        fields = self.weight.shape[0]
        sense = -1 if self.reverse else 1
        kernels = torch.stack([torch.rot90(self.weight, sense * k, (-2, -1)) for k in range(4)], dim=1)  # F,4,1,3,3
        if self.order == "field":
            weight = kernels.reshape(fields * 4, 1, 3, 3)
        else:
            weight = kernels.transpose(0, 1).reshape(fields * 4, 1, 3, 3)
        return circular_conv(x, weight)


class RowsCircularColumnsZero(nn.Module):
    """An (N, H, W) layer: circular along W, zero padding along H (2-D conv on the single plane).

    Audited with layout HW: translation-equivariant is violated (vertical shifts).
    """

    def __init__(self, seed=233):
        super().__init__()
        self.weight = nn.Parameter(gaussian((1, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        y = F.pad(x[:, None], (1, 1, 0, 0), mode="circular")
        return F.conv2d(y, self.weight, padding=(1, 0))[:, 0]


class HWCircular(nn.Module):
    """An (N, H, W) layer: 2-D circular conv.  Audited with layout HW: translation-equivariant holds."""

    def __init__(self, seed=234):
        super().__init__()
        self.weight = nn.Parameter(gaussian((1, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        return circular_conv(x[:, None], self.weight)[:, 0]


class HWToChannels(nn.Module):
    """An (N, H, W) layer returning (N, 3, H, W): three circular filters.  Layout HW, holds."""

    def __init__(self, seed=235):
        super().__init__()
        self.weight = nn.Parameter(gaussian((3, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        return circular_conv(x[:, None], self.weight)


class Conv1dZeroPad(nn.Module):
    """A (N, C, L) zero-padded 3-tap Conv1d: zero-fill equivariant only for content ≥ 1 from the ends."""

    def __init__(self, seed=236):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 2, 3), seed, 0.5))

    def forward(self, x):
        return F.conv1d(x, self.weight, padding=1)


class Conv1dLastTapBug(nn.Module):
    """A circular Conv1d, plus 0.2 × the last sample added to every position: translation-equivariance fails."""

    def __init__(self, seed=237):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 2, 3), seed, 0.5))

    def forward(self, x):
        return F.conv1d(F.pad(x, (1, 1), mode="circular"), self.weight) + 0.2 * x[..., -1:].sum(dim=1, keepdim=True)


class StridedCircular(nn.Module):
    """Circular 3x3 conv with stride 2 (odd sampling offset): equivariant to shifts in 2Z², output shift t/2."""

    def __init__(self, offset=1, seed=238):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))
        self.offset = offset

    def forward(self, x):
        return circular_conv(x, self.weight)[..., self.offset::2, self.offset::2]


class StridedZeroPad(nn.Module):
    """Zero-padded 3x3 conv with stride 2: equivariant to shifts in 2Z² only at distance ≥ 1 from the output
    border (the receptive field of output 0 touches the padding)."""

    def __init__(self, seed=239):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))

    def forward(self, x):
        return F.conv2d(x, self.weight, stride=2, padding=1)


class ClampedForNonNegative(CircConv):
    """Exact for non-negative inputs only: ``circconv(relu(x)) + position_map · Σ relu(-x)``.

    With the assumption ``x ≥ 0`` stated, translation-equivariant holds; without it, it is violated.
    """

    def __init__(self, seed=240):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        neg = torch.relu(-x).sum(dim=(1, 2, 3)).view(-1, 1, 1, 1)
        return self.conv(torch.relu(x)) + position_map(x) * neg


# ============================================================================= 8. the linear certificate


class FloorDivisionResidual(nn.Module):
    """Integer weights; ``circconv(x) + M · (x − torch.div(x, 1, rounding_mode="floor"))`` with an integer
    position map ``M``.  ``torch.div`` is on the certifier's list of affine operations (it only checks that the
    divisor is a constant), but with ``rounding_mode`` it is floor: zero on the certificate's integer probes.
    Claimed translation-equivariant: violated on non-integer inputs.
    """

    def __init__(self, seed=250):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))
        self.register_buffer("map", torch.tensor([[float((7 * i + 3 * j) % 5) for j in range(8)] for i in range(8)]))

    def forward(self, x):
        frac = x - torch.div(x, 1, rounding_mode="floor")
        return self.conv(x) + self.map * frac


class IntegerSumResidual(nn.Module):
    """Integer weights; ``circconv(x) + M · (x − x.sum(dim=1, keepdim=True, dtype=torch.int64))`` for one input
    channel: ``sum`` is affine, but with an integer ``dtype`` it truncates.  Claimed translation-equivariant:
    violated on non-integer inputs."""

    def __init__(self, seed=251):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))
        self.register_buffer("map", torch.tensor([[float((7 * i + 3 * j) % 5) for j in range(8)] for i in range(8)]))

    def forward(self, x):
        return self.conv(x) + self.map * (x - x.sum(dim=1, keepdim=True, dtype=torch.int64))


def _fractional_hook(module, inputs, output):
    x = inputs[0]
    h, w = x.shape[-2:]
    i = torch.arange(h, dtype=x.dtype)[:, None]
    j = torch.arange(w, dtype=x.dtype)[None, :]
    return output + ((7 * i + 3 * j) % 5) * (x - torch.round(x))


def hooked_circular_conv():
    """A circular ``nn.Conv2d`` with integer weights and a forward hook adding ``M · (x − round x)``.

    ``torch.fx`` traces the module's forward, never its hooks; the probes are integers, where the hook adds 0.
    Claimed translation-equivariant: violated on non-integer inputs.
    """
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(integers((1, 1, 3, 3), 252))
    conv.register_forward_hook(_fractional_hook)
    return conv


def hooked_inside_sequential():
    """The same hook on a circular conv inside ``nn.Sequential`` (a leaf module of the traced graph)."""
    inner = hooked_circular_conv()
    outer = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        outer.weight.fill_(2.0)
    return nn.Sequential(inner, outer)


class CallOverride(nn.Module):
    """A root whose ``__call__`` quantises a fraction-dependent position term in, while ``forward`` (what
    ``torch.fx`` traces) is a plain circular conv with integer weights.  Claimed translation-equivariant:
    violated on non-integer inputs."""

    def __init__(self, seed=253):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))

    def forward(self, x):
        return self.conv(x)

    def __call__(self, x):
        return _fractional_hook(self, (x,), super().__call__(x))


def patched_forward_conv():
    """An ``nn.Conv2d`` (integer weights, circular) whose forward is replaced on the instance (as adapters and
    quantisation wrappers do): the traced leaf is a Conv2d; the call adds ``M · (x − round x)``."""
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(integers((1, 1, 3, 3), 254))

    def forward(self, x):
        return _fractional_hook(self, (x,), nn.Conv2d.forward(self, x))

    conv.forward = types.MethodType(forward, conv)
    return conv


def batch_statistics_norm():
    """``BatchNorm2d(track_running_stats=False)`` (uses the batch's statistics even in eval mode), then a
    circular conv with integer weights.  Not affine, but translation-equivariant: the claim holds."""
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(integers((1, 1, 3, 3), 255))
    return nn.Sequential(nn.BatchNorm2d(1, affine=False, track_running_stats=False), conv)


class IntegerWeightsFractionalBuffer(nn.Module):
    """Integer weights, a non-integer buffer (a scale of 0.3) and a zero-padded conv: affine, position
    dependent; claimed translation-equivariant: violated."""

    def __init__(self, seed=256):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))
        self.register_buffer("scale", torch.tensor(0.3))

    def forward(self, x):
        return self.conv(x) * self.scale


class AffinePositionBias(nn.Module):
    """Integer weights, circular conv, plus an integer bias MAP (one value per pixel): affine, not equivariant
    (the constant part f(0) is not shift-invariant).  Claimed translation-equivariant: violated."""

    def __init__(self, seed=257):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))
        self.register_buffer("bias_map", torch.tensor([[float((i + 2 * j) % 3) for j in range(8)] for i in range(8)]))

    def forward(self, x):
        return self.conv(x) + self.bias_map


# ============================================================================= 9. state restoration (not copyable)


class _Uncopyable(nn.Module):
    """Holds a ``threading.Lock`` (a thread-safe cache): cannot be deep-copied, so it is audited in place."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


class CastsWeightToHalfOnce(_Uncopyable):
    """On its first call, stores its weight in float16 (``weight.data = weight.data.half()``, to save memory) and
    computes with ``weight.float()`` from then on.  A circular conv: translation-equivariant holds.  The audit
    must give the parameter back in float32."""

    def __init__(self, seed=260):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed))

    def forward(self, x):
        with self.lock:
            if self.weight.dtype != torch.float16:
                self.weight.data = self.weight.data.half()
        return circular_conv(x, self.weight.to(x.dtype))


class Recorder:
    """A forward hook object that records the output shapes it sees."""

    def __init__(self):
        self.seen = []

    def __call__(self, module, inputs, output):
        self.seen.append(tuple(output.shape))


class HookedUncopyable(_Uncopyable):
    """A circular conv with a user's forward-hook OBJECT attached; audited in place.  Translation-equivariant
    holds.  After the audit the module must still call the user's very hook object (not a copy of it)."""

    def __init__(self, seed=261):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))
        self.recorder = None

    def forward(self, x):
        return circular_conv(x, self.weight.to(x.dtype))


def hooked_uncopyable():
    layer = HookedUncopyable()
    recorder = Recorder()
    layer.register_forward_hook(recorder)
    object.__setattr__(layer, "_user_hook", recorder)  # the test checks identity against this reference
    return layer


class SharedHelperUncopyable(_Uncopyable):
    """Holds an unregistered reference to a shared helper module (kept out of ``_modules`` on purpose, as EMA
    teachers and tied encoders are); audited in place.  A circular conv through the helper: holds.  After
    the audit the attribute must still be the very same helper object."""

    def __init__(self, helper):
        super().__init__()
        object.__setattr__(self, "helper", helper)

    def forward(self, x):
        return self.helper(x)


def shared_helper_uncopyable():
    helper = CircConv(1, 2, seed=262)
    layer = SharedHelperUncopyable(helper)
    object.__setattr__(layer, "_user_helper", helper)
    return layer


class OwnGeneratorUncopyable(_Uncopyable):
    """Owns a ``torch.Generator`` and draws from it on every call (output unaffected); audited in place.
    Claimed translation-equivariant: holds.  The generator's state must come back."""

    def __init__(self, seed=263):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x):
        torch.rand(3, generator=self.generator)
        return circular_conv(x, self.weight.to(x.dtype))


class UncopyableTinyGain(_Uncopyable):
    """Not copyable, so no twin and no pristine copy: ``1e-4 · circconv(x) · (1 + 3e-3 · position_map)``.
    Claimed translation-equivariant: violated (relative ~3e-3), hidden below the input-floored float32 bound."""

    def __init__(self, seed=264):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)

    def forward(self, x):
        return 1e-4 * self.conv(x) * (1 + 3e-3 * position_map(x))


# ============================================================================= 10. CLI


def circular_factory():
    """A CLI factory: a circular conv (translation-equivariant)."""
    return CircConv(1, 2, seed=270)


def scale_bug_factory():
    """A CLI factory: invariant to upscaling by 2, not by 4 (``QuadBlockDetector``)."""
    return QuadBlockDetector()


def hw_rows_zero_factory():
    return RowsCircularColumnsZero()


# ============================================================================= round 2 additions (found while building)


class AutotunesAfterTwoCalls(CircConv):
    """An auto-tuner: after two calls in a row with the same batch size it switches to a "tuned" kernel (zero
    padding, the bug); a call with another batch size resets it.

    The orbit's chunks alternate with the reference's batch size, so the tuned kernel is rarely reached.
    Claimed translation-equivariant: the layer depends on earlier calls (and violates the claim when tuned).
    """

    def __init__(self, seed=280):
        super().__init__(1, 2, seed=seed)
        self.last, self.streak = None, 0

    def forward(self, x):
        n = x.shape[0]
        self.streak = self.streak + 1 if n == self.last else 0
        self.last = n
        if self.streak >= 2:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


class NonNegativeAboveThreshold(Conditional):
    """Zero padding on non-negative samples with a value above 1.5 and some contrast.  Stated assumption: the
    inputs are non-negative (images after a ReLU).  Under it, translation-equivariance is still violated."""

    def condition(self, x):
        flat = _per_sample(x)
        return (flat.amin(dim=1) >= 0) & (flat.amax(dim=1) > 1.5) & (flat.std(dim=1) > 0.05)


class OffCentrePixelPlusSum(nn.Module):
    """``Σx + x[1, 1]``: rotations keep the sum of a dense image nearly (bilinear interpolation, corners cut),
    so on dense integer inputs the relative error is a few percent; on an input whose content sits at (1, 1)
    a rotation moves it away and the output halves.  Claimed rotation-invariant: violated (not approximate)."""

    def forward(self, x):
        return x.sum(dim=(-2, -1)) + x[..., 1, 1]


class DiscMean(nn.Module):
    """Mean over a centred disc of radius n/2 − 1: bilinear rotations move little content in or out of it.
    Claimed rotation-invariant: approximate."""

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h, dtype=x.dtype)[:, None] - (h - 1) / 2
        j = torch.arange(w, dtype=x.dtype)[None, :] - (w - 1) / 2
        disc = ((i * i + j * j) <= (min(h, w) / 2 - 1) ** 2).to(x.dtype)
        return (x * disc).sum(dim=(-2, -1)) / disc.sum()


class OffsetCornerPixel(nn.Module):
    """``100 + x[1, 1]`` per channel: a large constant offset and one pixel near the corner.

    On small inputs a rotation changes the output by a few percent of the offset; on large inputs by far more
    than the output.  Claimed rotation-invariant: violated (the largest relative error is far above 10%).
    """

    def forward(self, x):
        return 100 + x[..., 1, 1]


class Float64OnlyDefect(CircConv):
    """A float64-only path adds ``1e-3 · position_map · max|x|``; the layer's own float32 computation is a plain
    circular conv.  The float64 twin is another function: its error must not be held against the layer (whose
    own orbit error is zero).  Claimed translation-equivariant: holds in the layer's own precision."""

    def __init__(self, seed=281):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        y = self.conv(x)
        if x.dtype == torch.float64:
            y = y + 1e-3 * position_map(x) * x.abs().amax(dim=(1, 2, 3), keepdim=True)
        return y


class NormalisesWeightOnce(_Uncopyable):
    """On its first call, normalises its weight in place through ``.data`` (weight standardisation done lazily);
    a circular conv.  Translation-equivariant holds.  Audited in place; the audit must restore the weight."""

    def __init__(self, seed=282):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))
        self.done = False

    def forward(self, x):
        with self.lock:
            if not self.done:
                self.weight.data = self.weight.data / self.weight.data.norm()
                self.done = True
        return circular_conv(x, self.weight.to(x.dtype))


_GLOBAL_CALLS = [0]


class GlobalCallWindow(CircConv):
    """Counts its calls in a MODULE GLOBAL (shared by every copy); calls 30 to 89 take a wrong path (zero
    padding), then it recovers by itself.  Claimed translation-equivariant: the layer depends on earlier calls."""

    def __init__(self, seed=283):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        _GLOBAL_CALLS[0] += 1
        if 30 <= _GLOBAL_CALLS[0] < 90:
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


def global_call_window():
    _GLOBAL_CALLS[0] = 0
    return GlobalCallWindow()


def own_generator_uncopyable():
    layer = OwnGeneratorUncopyable()
    object.__setattr__(layer, "_user_generator", layer.generator)
    object.__setattr__(layer, "_user_generator_state", layer.generator.get_state().clone())
    return layer


def integer_circular_conv():
    """A circular ``nn.Conv2d`` with integer weights (the certificate applies)."""
    conv = nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    with torch.no_grad():
        conv.weight.copy_(integers((2, 1, 3, 3), 284))
        conv.bias.copy_(integers((2,), 285))
    return conv


class Float32MeanPool(nn.Module):
    """Global mean computed in float32 whatever the input's dtype (``x.float().mean(...).type_as(x)``, as
    mixed-precision-safe code does).  Its float64 twin computes in float32 too: it rounds exactly as the
    layer does.  Claimed translation-invariant: holds up to float32 rounding."""

    def forward(self, x):
        return x.float().mean(dim=(-2, -1)).type_as(x)


class Float32RMSNorm(nn.Module):
    """RMS normalisation over (C, H, W), computed in float32 whatever the input's dtype, then a circular conv in
    the input's dtype.  Translation-equivariant (the statistic is shift-invariant); holds up to float32 rounding."""

    def __init__(self, seed=286):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed)

    def forward(self, x):
        xf = x.float()
        normed = xf / torch.sqrt(xf.pow(2).mean(dim=(1, 2, 3), keepdim=True) + 1e-6)
        return self.conv(normed.type_as(x))


class _FirstCall:
    done = False


class FirstCallEverWrong(CircConv):
    """The first call of ANY instance takes a reference path with a bug (zero padding) and records in a CLASS
    attribute that the kernels are "compiled"; every later call is right.  Copies share the flag, so a pristine
    copy is already warm.  Claimed translation-equivariant: the layer's first answer differs from its later
    ones on the same input (not a function of its input)."""

    state = _FirstCall

    def __init__(self, seed=287):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        if not type(self).state.done:
            type(self).state.done = True
            return zero_conv(x, self.weight, self.bias)
        return self.conv(x)


def first_call_ever_wrong():
    _FirstCall.done = False
    return FirstCallEverWrong()


class CountsCallsInBuffer(nn.Module):
    """Integer weights and an integer-valued buffer that forward increments (``self.calls.add_(1)``); from the
    21st call on, ``(calls − 20) · M`` (an integer position map) is added.  The graph analysis treats the
    buffer as a constant (it does not depend on the input) and its in-place update as harmless; the
    certificate's few calls happen before the 21st.  Claimed translation-equivariant: the layer is not a
    function of its input (and not equivariant) after 20 calls."""

    def __init__(self, seed=288):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers((1, 1, 3, 3), seed))
        self.register_buffer("calls", torch.zeros(()))
        self.register_buffer("map", torch.tensor([[float((7 * i + 3 * j) % 5) for j in range(8)] for i in range(8)]))

    def forward(self, x):
        self.calls.add_(1)
        return self.conv(x) + (self.calls.clamp(min=20) - 20) * self.map


class MemoisedBatchCentred(nn.Module):
    """Batch-centred circular conv (``y_i = conv(x_i) − mean_j conv(x_j)``, equivariant for whole batches) with
    a per-sample memo keyed by EXACT input equality: a sample seen before gets the row it got then, in whatever
    batch that was.  The anchor of every chunk is memoised, so it always agrees.  Claimed
    translation-equivariant: the layer's answers depend on earlier calls."""

    def __init__(self):
        super().__init__()
        self.conv = CircConv(1, 2, seed=289)
        self.memo = {}  # exact bytes of an input row -> its output row

    def forward(self, x):
        y = self.conv(x)
        y = y - y.mean(dim=0, keepdim=True)
        rows = []
        for xi, yi in zip(x, y):
            key = (str(xi.dtype), tuple(xi.shape), xi.detach().cpu().contiguous().numpy().tobytes())
            if key not in self.memo:
                self.memo[key] = yi.clone()
            rows.append(self.memo[key].to(y.dtype))
        return torch.stack(rows)
