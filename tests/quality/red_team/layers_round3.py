"""Round 3 of the red team: layers built to fool the engine's round-3 mechanisms (the measured rounding floor,
the twin's "ignores fine detail" test, sampled orbits, the batch-size re-check) and ordinary users' bugs.

Same rules as ``layers.py``: torch only (never the package under test), deterministic to build, small shapes.
Every class says what it is built to fool and whether the claim it is audited for holds; the oracle
establishes the truth independently.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

try:
    from red_team.layers import CircConv, circular_conv, gaussian, position_map, zero_conv
except ImportError:  # loaded by path (the CLI puts this folder on sys.path)
    from layers import CircConv, circular_conv, gaussian, position_map, zero_conv  # type: ignore


def quantise(x, step=0.07):
    """Fake quantisation to a grid of ``step`` (as quantisation-aware training does), in any float dtype."""
    return torch.round(x / step) * step


# ----------------------------------------------------------------------------- 1. the twin and the floor


class QuantisedTinyGain(nn.Module):
    """A quantisation-aware layer: fake-quantise the input to a 0.07 grid, then a unit conversion
    ``1e-4 · circconv`` with a ±0.3% position-dependent gain error (``gain_error=0``: the CONTROL).

    Fools: (1) the twin's "ignores fine detail" test: a quantiser's float64 copy gives bitwise the same output
    for x·(1 ± 2⁻³⁰) (any piecewise-constant front end does), so the engine reads the twin as "computes in float32
    inside" and drops the arbiter, although the float64 copy is a perfectly good arbiter; (2) then the measured
    rounding floor f(17/16·x) + f(15/16·x) − 2·f(x): the quantiser is not homogeneous, the residual is the
    quantisation change, not rounding noise, so the floor becomes the input's magnitude (10⁴ times the output's)
    and the ±0.3% gain error hides under the float32 bound.  Claimed translation-equivariant: violated (with a
    gain error; holds without).
    """

    def __init__(self, gain_error=3e-3, seed=301, step=0.07):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)
        self.gain_error, self.step = gain_error, step

    def forward(self, x):
        c = self.conv(quantise(x, self.step))
        if self.gain_error:  # the gain error acts on the image's contrast (nothing on constant images)
            c = c + self.gain_error * position_map(x) * (c - c.mean(dim=(-2, -1), keepdim=True))
        return 1e-4 * c


class SquareTinyGain(nn.Module):
    """No quantiser: an energy layer ``1e-6 · circconv(x²)`` with a ±0.3% gain error, float32-only kernel (no
    twin).

    Fools the measured floor alone: x² is homogeneous of degree 2, not 1, so f(17/16·x) + f(15/16·x) − 2·f(x) =
    f(x)/128 exactly — the curvature, far above rounding — and the floor climbs to the input's magnitude.  (Unlike
    round 2's float32-only kernel, which is homogeneous of degree 1 and whose residual is pure rounding.)
    Claimed translation-equivariant: violated.
    """

    def __init__(self, gain_error=8e-4, seed=302):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)
        self.gain_error = gain_error

    def forward(self, x):
        if x.dtype != torch.float32:
            raise TypeError(f"this kernel supports float32 only, got {x.dtype}")
        y = 1e-6 * self.conv(x * x)
        if self.gain_error:
            y = y * (1 + self.gain_error * position_map(x))
        return y


class QuantisedNaiveNorm(nn.Module):
    """Quantise to a 0.07 grid, then an instance norm computed as E[x²] − E[x]² (the textbook one-pass variance),
    with an offset of 50 added first (a "mean image" a user forgot to subtract), then a circular conv.

    Translation-equivariant in exact arithmetic and in float64 (the one-pass variance errs by u·50² ≈ 1e-12
    there); in float32 the cancellation loses about u·50²/var ≈ 1e-4 of the variance (far more on near-constant images), differently for every
    reordering of the sums, so orbit errors are large.  Fools: the twin is dropped (the quantiser ignores fine
    detail), so no arbiter can show the error shrinking with precision.  Claimed translation-equivariant:
    holds (float64 judge).
    """

    def __init__(self, seed=303, offset=50.0):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed)
        self.offset = offset

    def forward(self, x):
        q = quantise(x) + self.offset
        mean = q.mean(dim=(-2, -1), keepdim=True)
        var = (q * q).mean(dim=(-2, -1), keepdim=True) - mean * mean
        return self.conv((q - mean) / torch.sqrt(var.clamp_min(0) + 1e-2))


# ----------------------------------------------------------------------------- 2. ordinary users' bugs


class EvenKernelCircular(nn.Module):
    """CONTROL: a 4x4 (even) circular conv padded (2, 1) "like TF same": asymmetric circular padding is still a
    circular conv, so translation equivariance holds."""

    def __init__(self, seed=304):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 4, 4), seed, 0.4))

    def forward(self, x):
        return F.conv2d(F.pad(x, (2, 1, 2, 1), mode="circular"), self.weight.to(x.dtype))


class EvenKernelRot90(EvenKernelCircular):
    """The same even-kernel circular conv with a rotation-symmetrised kernel (w + rot90(w) + ...): the user
    expects rot90 equivariance, but the (2, 1) padding puts the output's centre half a pixel off, so rot90
    moves it by one pixel.  Claimed rot90-equivariant: violated (an ordinary-user bug)."""

    def forward(self, x):
        w = self.weight.to(x.dtype)
        w = w + torch.rot90(w, 1, (-2, -1)) + torch.rot90(w, 2, (-2, -1)) + torch.rot90(w, 3, (-2, -1))
        return F.conv2d(F.pad(x, (2, 1, 2, 1), mode="circular"), w)


class GroupConvWrongDirectionOneOrbit(nn.Module):
    """A C4 group conv (regular → regular) whose orientation shift is right for rotation by 90° and 180° but
    whose kernel is rotated the wrong way for orientation 3 only (a sign slip in one of four branches):
    claimed rot90-equivariant[channels=regular]: violated."""

    def __init__(self, seed=305, wrong=True):
        super().__init__()
        self.base = nn.Parameter(gaussian((1, 1, 3, 3), seed, 0.4))
        self.wrong = wrong

    def forward(self, x):  # lifting conv: (N, 1, H, W) -> (N, 4, H, W) orientation channels
        w = self.base.to(x.dtype)
        ks = [0, 1, 2, 1 if self.wrong else 3]
        kernels = torch.cat([torch.rot90(w, k, (-2, -1)) for k in ks])
        return circular_conv(x, kernels, None)


class CentreCropOffByOne(nn.Module):
    """Global average of a centre crop: rows/columns [1 : H-1] on even sizes is centred, but the user wrote
    ``x[..., 1:h - 2, 1:w - 2]`` (one too few at the end).  Claimed rot90-invariant: violated."""

    def forward(self, x):
        h, w = x.shape[-2:]
        return x[..., 1:h - 2, 1:w - 2].mean(dim=(-2, -1))


class CentreCropCorrect(nn.Module):
    """CONTROL: the centred crop ``x[..., 1:h-1, 1:w-1]`` then a global mean: rot90- and flip-invariant."""

    def forward(self, x):
        h, w = x.shape[-2:]
        return x[..., 1:h - 1, 1:w - 1].mean(dim=(-2, -1))


# ----------------------------------------------------------------------------- 3. unusual outputs


class HalfOutputGain(CircConv):
    """A float32 layer that stores its output in float16 (mixed-precision export: ``.half()`` at the end), with a
    ±1% position-dependent gain error (``gain_error=0``: the CONTROL).

    Fools: the bound is built for the OUTPUT's precision (2·γ_n with float16's u and n accumulated terms ≈ 6% of
    the channel's maximum), although the layer computes in float32 and the final cast rounds once (u ≈ 5e-4);
    the float64 twin, whose output is float16 too, is dropped by the "ignores fine detail" test (a cast to half
    ignores a 2⁻³⁰ change).  Claimed translation-equivariant: violated (errors of 2–4%, far above one half-precision
    rounding).
    """

    def __init__(self, gain_error=1e-2, seed=306, out_dtype=torch.float16):
        super().__init__(1, 2, seed=seed)
        self.gain_error, self.out_dtype = gain_error, out_dtype

    def forward(self, x):
        y = self.conv(x)
        if self.gain_error:
            y = y * (1 + self.gain_error * position_map(x))
        return y.clamp(-6e4, 6e4).to(self.out_dtype)  # saturate rather than overflow to inf


class NoChannelAxis(CircConv):
    """A circular conv with one output channel that drops the channel axis: (N, 1, H, W) → (N, H, W) (a
    segmentation logit map, ``conv(x)[:, 0]``).  Claimed translation-equivariant: holds — the (N, H, W) output
    shifts with the input.  Fools: the engine reads an (N, H, W) output as (N, C, L) with one spatial axis, and
    answers "violated" (ρ cannot act on it) for a claim the layer keeps."""

    def __init__(self, seed=307):
        super().__init__(1, 1, seed=seed)

    def forward(self, x):
        return self.conv(x)[:, 0]


class SymmetrisedWrongDirection(CircConv):
    """A user's "rot90-equivariant" conv by symmetrisation, Σ_k rot^k(conv(rot^k x)) — rotated back the WRONG
    way (the right one is rot^-k): f(rot x) = rot^-1 f(x), so only rot180 is kept.  Claimed rot90-equivariant:
    violated (an ordinary-user bug)."""

    def __init__(self, seed=308, right=False):
        super().__init__(1, 2, seed=seed)
        self.right = right

    def forward(self, x):
        sign = -1 if self.right else 1
        return sum(torch.rot90(self.conv(torch.rot90(x, k, (-2, -1))), sign * k, (-2, -1)) for k in range(4))


class SirenBranchTinyGain(nn.Module):
    """A float32-only kernel (no twin): a unit conversion ``1e-4 · circconv(x)`` with a ±0.3% gain error, plus a
    SIREN-style branch ``1e-4 · circconv(sin(x))`` (``gain_error=0``: the CONTROL).

    Fools the measured floor: the sine branch is bounded and keeps oscillating, so f(17/16·x) + f(15/16·x) −
    2·f(x) stays of the order of the branch (1e-4) at every input magnitude — far above rounding — and the floor
    becomes the input's magnitude for inputs up to ~10⁴, 10⁴ times the output; only the gain error of the linear
    path, relative to the output, is left to see.  Claimed translation-equivariant: violated (with a gain error).
    """

    def __init__(self, gain_error=3e-3, seed=309, branch=1e-4):
        super().__init__()
        self.conv = CircConv(1, 2, seed=seed, bias=False)
        self.branch_conv = CircConv(1, 2, seed=seed + 1, bias=False)
        self.gain_error, self.branch = gain_error, branch

    def forward(self, x):
        if x.dtype != torch.float32:
            raise TypeError(f"this kernel supports float32 only, got {x.dtype}")
        y = 1e-4 * self.conv(x)
        if self.gain_error:
            y = y * (1 + self.gain_error * position_map(x))
        return y + self.branch * self.branch_conv(torch.sin(x))


class CouplesAwayFromAnchors(CircConv):
    """Batch coupling that spares exactly the rows where a one-sample anchor sits (the second and the last):
    y_i = conv(x_i) + 0.5·conv(x_{i−1}) for 2 ≤ i ≤ N − 2, y_i = conv(x_i) otherwise.

    Equivariant for whole batches (every sample is shifted by the same g, and conv commutes with it): claimed
    translation-equivariant, holds.  Fools: in an orbit chunk the other rows mix different elements and look
    violated, while both anchors (rows 1 and N − 1 for a one-sample input) are untouched, so batching is taken
    as valid; the chunk "violation" does not reproduce alone nor on copies of one input (where coupling with an
    equal neighbour is equivariant), so the verdict is 'error' for a claim the layer keeps."""

    def __init__(self, seed=310):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        y = self.conv(x)
        n = x.shape[0]
        if n >= 4:
            extra = torch.zeros_like(y)
            extra[2:n - 1] = 0.5 * self.conv(x[1:n - 2])
            y = y + extra
        return y


class HalfPrecisionGate(nn.Module):
    """A squeeze-and-excitation gate computed in float16 (as under autocast), applied to a float32 feature map:
    ``y = conv(x) · sigmoid(w · mean(conv(x)).half()).float()``.

    Translation-equivariant (the global mean is shift-invariant); the float32 mean is summed in another order
    for every shift, and where it lies next to a float16 rounding boundary the gate moves by one float16 ulp
    (5e-4 relative) — rounding, which vanishes in the float64 copy (whose mean errs by 1e-16).  Fools: the twin
    (a float64 copy that still casts to float16) is dropped as "ignores fine detail", so a float16 rounding flip
    is judged against a float32 bound.  Claimed translation-equivariant: holds (float64 judge).
    """

    def __init__(self, seed=311):
        super().__init__()
        self.conv = CircConv(1, 4, seed=seed)
        self.fc = nn.Parameter(gaussian((4, 4), seed + 2, 1.0))

    def forward(self, x):
        y = self.conv(x)
        pooled = y.mean(dim=(-2, -1))
        gate = torch.sigmoid((pooled.half() @ self.fc.to(torch.float16).t()).float())
        return y * gate[..., None, None].to(y.dtype)


# ----------------------------------------------------------------------------- 4. three input properties at once


class DecibelBranch(CircConv):
    """A spectrogram front end that "detects" log-power input in dB — every value negative, below −20 on average,
    a spread under a fifth of the level, and not integer-valued — and then zero-pads (a different code path for
    the dB case).  Claimed translation-equivariant: violated, but only on inputs with FOUR properties at once
    (sign, magnitude, contrast, value grid): the portfolio's covering design meets every pair, not every
    quadruple, and only a few generated inputs follow it."""

    def __init__(self, seed=312):
        super().__init__(1, 2, seed=seed)

    def forward(self, x):
        flat = x.reshape(x.shape[0], -1)
        mean = flat.mean(dim=1)
        spread = flat.amax(dim=1) - flat.amin(dim=1)
        fractional = (flat - flat.round()).abs().amax(dim=1) > 1e-3
        decibels = (flat.amax(dim=1) < 0) & (mean < -20) & (spread < 0.2 * mean.abs()) & (spread > 0) & fractional
        wrong = decibels.view(-1, *([1] * (x.dim() - 1)))
        return torch.where(wrong, zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype)), self.conv(x))
