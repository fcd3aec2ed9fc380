"""Round 4 of the red team: layers built to fool the engine's round-4 mechanisms — the computation dtype read
from the output (``_computation_dtype``) and the stored-dtype rounding of ``_bound``, the measured rounding floor
on outputs stored narrow, the twin's validation by probes ("lost half the output" counts as full growth), the
linear certificate's float64 copy, and the new measures (``layerwise_lie_derivative``, ``top1_change``).

Same rules as ``layers.py``: torch only (never the package under test), deterministic to build, small shapes.
Every class says what it is built to fool and whether the claim it is audited for holds; the oracle
establishes the truth independently.  Each attack has a CONTROL beside it (the same construction, claim kept).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

try:
    from red_team.layers import CircConv, gaussian, integers, position_map, zero_conv
except ImportError:  # loaded by path (the CLI puts this folder on sys.path)
    from layers import CircConv, gaussian, integers, position_map, zero_conv  # type: ignore


def quantise(x, step=0.07):
    """Fake quantisation to a grid of ``step`` (quantisation-aware training), in any float dtype."""
    return torch.round(x / step) * step


# ----------------------------------------------------------------------------- 1. the computation's dtype


class CentredUpcast(CircConv):
    """A float32 conv whose feature map is centred (its spatial mean removed), returned in a WIDER dtype:
    ``.double()`` (features handed to float64 code downstream: a numerically careful loss, scipy), or
    ``.to(complex128)`` (a spectral pipeline that works in complex128).  ``out_dtype=float32``: the CONTROL.

    Translation-equivariant (the spatial mean is shift-invariant); the float32 mean is summed in another order
    for every shift, so the float32 rounding (≈ 1e-8 relative) differs between f(g·x) and g·f(x).  Fools
    ``_computation_dtype``: it reads the computation's precision from the output's dtype (float64), except when
    the output is NARROWER than the input and the parameters — an output wider than the computation is taken at
    its word, so the bound is float64's (≈ 1e-14) while the arithmetic ran in float32; the "twin" of a float64
    layer is a float32 copy (the amplifier), which here computes bitwise the same as the layer, so it cannot tell
    rounding from a defect either.  Claimed translation-equivariant: holds (float64 judge).
    """

    def __init__(self, out_dtype=torch.float64, seed=401):
        super().__init__(1, 2, seed=seed)
        self.out_dtype = out_dtype

    def forward(self, x):
        y = self.conv(x)
        return (y - y.mean(dim=(-2, -1), keepdim=True)).to(self.out_dtype)


class PixelUnitNarrowOutput(CircConv):
    """An image stem: uint8-range pixels (0…255) scaled by 1/255, a bias-free circular conv, a ±``gain``
    position-dependent gain error (a vignetting correction applied after the conv instead of before), and the
    output stored in bfloat16 / float16 (a mixed-precision export).  ``gain=0``: the CONTROL.

    Fools the measured rounding floor on narrow outputs: the floor is f(17/16·x) + f(15/16·x) − 2·f(x), divided
    by the COMPUTATION's rounding (float32's n·u); that residual is the final cast's rounding (bfloat16: 2⁻⁹ of
    the output), 2¹⁶ times more than float32 rounding, so the floor saturates at the input's magnitude — 200×
    the output's here, because of the 1/255 — and the stored-dtype term 2·u_s·floor is then larger than the
    output itself.  The float64 twin stores bfloat16 too and is judged with the same floored bound, so it cannot
    help.  Claimed translation-equivariant: violated (a 20% gain error in bfloat16, 3% in float16; relative
    errors of 35% and 5%).
    """

    def __init__(self, gain=0.2, out_dtype=torch.bfloat16, seed=402):
        super().__init__(1, 2, seed=seed, bias=False)
        self.gain, self.out_dtype = gain, out_dtype

    def forward(self, x):
        y = self.conv(x / 255.0)
        if self.gain:
            y = y * (1 + self.gain * position_map(x))
        return y.to(self.out_dtype)


class Float32OnlyCalibration(nn.Module):
    """A float32-only kernel (it raises on any other dtype: no twin) applying a per-pixel calibration — a 1×1
    conv and a unit conversion ×1e-3 (millivolts to volts, counts to physical units) — with a ±0.3% flat-field
    gain error (``gain=0``: the CONTROL).

    Fools the rounding floor of zero-fill checks: for checks that give every element its own input (zero-fill
    shifts, ``sources``), the floor is never measured — it is the input's magnitude whenever that exceeds the
    output's — so a layer that scales its input down by 10³ is allowed 2·γ_n·10³ times its output (0.8% with
    n = 64): the gain error hides under the zero-fill claim, while the circular claim (measured floor) catches
    it.  Claimed translation-equivariant[boundary=zero]: violated (judge "own": float32 only).
    """

    def __init__(self, gain=3e-3, unit=1e-3, seed=409):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 1, 1), seed, 0.4))
        self.gain, self.unit = gain, unit

    def forward(self, x):
        if x.dtype != torch.float32:
            raise TypeError(f"this kernel supports float32 only, got {x.dtype}")
        y = self.unit * F.conv2d(x, self.weight)
        if self.gain:
            y = y * (1 + self.gain * position_map(x))
        return y


# ----------------------------------------------------------------------------- 2. the twin's validation


class FusedFastPath(CircConv):
    """A conv + batch-norm layer with a dtype-dependent implementation: float64 runs the reference (circular
    conv, then the folded BN scale 1), every other dtype a "fused inference kernel" that zero-pads (F.conv2d's
    padding=1) and applies the BN scale twice (here: 3× instead of 1×).  ``bad=False``: the CONTROL (every dtype
    runs the reference).

    Fools the twin's validation: the float32 layer and its float64 twin differ by more than the output itself,
    and the float16 / bfloat16 probes (on the fused path too) differ from the twin by as much — which the
    validation accepts as "the probe lost half the output, as far as rounding can grow", so the float64 twin
    (the reference path, equivariant) is trusted as the arbiter and says every orbit error is rounding.  A path
    difference larger than the output passes; a small one does not.  Claimed translation-equivariant: violated
    in float32 (the layer the user runs; judge "own").
    """

    def __init__(self, bad=True, seed=403):
        super().__init__(1, 2, seed=seed)
        self.bad = bad

    def forward(self, x):
        if x.dtype == torch.float64 or not self.bad:
            return self.conv(x)
        return 3 * zero_conv(x, self.weight.to(x.dtype), self.bias.to(x.dtype))


class QuantisedDtypeBranch(CircConv):
    """Quantisation-aware training's fake-quant (a 0.07 grid) in front of a dtype-dependent path: the float64
    "reference" path is a circular conv; every other dtype takes an exported kernel with zero padding.
    ``bad=False``: the CONTROL.

    Fools the verdict through the twin's validation: whether the float64 twin is accepted depends on which
    orbit elements are evaluated together (the probes' quantiser flips and the zero padding's border errors
    decide "lost half the output" per slice), so the search's orbit finds the violation and the one-element
    confirmation accepts the twin and finds none — the engine then calls a deterministic layer "not a function
    of its input" (error).  Claimed translation-equivariant: violated in float32 (judge "own").
    """

    def __init__(self, bad=True, seed=407, step=0.07):
        super().__init__(1, 2, seed=seed)
        self.bad, self.step = bad, step

    def forward(self, x):
        q = quantise(x, self.step)
        if x.dtype == torch.float64 or not self.bad:
            return self.conv(q)
        return zero_conv(q, self.weight.to(x.dtype), self.bias.to(x.dtype))


# ----------------------------------------------------------------------------- 3. the linear certificate


class PathChosenWhenCast(nn.Module):
    """An integer-weight conv that picks its implementation when it is cast or moved — it overrides ``_apply``
    (as ``nn.RNNBase`` does, to re-flatten its weights; as kernel caches do per device and dtype): in float64 it
    runs the reference circular conv, otherwise a fast path with zero padding.  ``bad=False``: the CONTROL (both
    paths circular).

    Fools the linear certificate: it traces and probes a float64 copy (``.to(float64)`` runs ``_apply``), whose
    graph is the reference path — affine, commuting with shifts, and computing its own traced graph — and
    certifies; nothing compares that copy with the module as the user runs it.  Claimed translation-equivariant:
    violated in float32 (judge "own").
    """

    def __init__(self, bad=True, seed=406):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed))
        self.bias = nn.Parameter(integers((2,), seed + 1))
        self.reference = False
        self.bad = bad

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self.reference = self.weight.dtype == torch.float64
        return out

    def forward(self, x):
        if self.reference or not self.bad:
            return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), self.weight, self.bias)
        return F.conv2d(x, self.weight, self.bias, padding=1)


# ----------------------------------------------------------------------------- 4. the measures


def _circular(seed, channels=1):
    conv = nn.Conv2d(channels, channels, 3, padding=1, padding_mode="circular")
    with torch.no_grad():
        conv.weight.copy_(gaussian(conv.weight.shape, seed, 0.4))
        conv.bias.copy_(gaussian(conv.bias.shape, seed + 1, 0.3))
    return conv


class SharedZeroPadBlock(nn.Module):
    """Three convs in float64: circular ``a``, then a zero-padded ``shared`` conv applied TWICE (weight sharing,
    as in a recurrent refinement block), then circular ``b``.  ``where="once"``: the zero-padded conv is called
    once (a CONTROL: the measure must name it); ``where="none"``: every conv circular (a CONTROL: nothing to
    name).

    Fools ``layerwise_lie_derivative``: a module called twice is dropped from the per-module terms (its two
    calls cannot be told apart), so the whole defect lands in the remainder, and ``largest()`` names ``b`` —
    an equivariant module whose contribution is rounding (1e-16) — as the module that loses equivariance.
    Claimed translation-equivariant (the network): violated.
    """

    def __init__(self, where="twice", seed=410):
        super().__init__()
        self.a = _circular(seed)
        self.shared = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular" if where == "none" else "zeros")
        with torch.no_grad():
            self.shared.weight.copy_(gaussian(self.shared.weight.shape, seed + 2, 0.4))
            self.shared.bias.copy_(gaussian(self.shared.bias.shape, seed + 3, 0.3))
        self.b = _circular(seed + 4)
        self.where = where
        self.double()

    def forward(self, x):
        h = self.shared(self.a(x))
        if self.where == "twice":
            h = self.shared(h)
        return self.b(h)


class FunctionalZeroPad(nn.Module):
    """Circular conv ``a``, then a zero-padded convolution written as ``F.conv2d(h, self.weight, padding=1)``
    inside ``forward`` (not a leaf module), then circular ``b``; float64.  ``functional=False``: the same conv as
    an ``nn.Conv2d`` leaf (a CONTROL: the measure must name it).

    Fools ``layerwise_lie_derivative`` the same way: a functional op is not a leaf module, its term lands in the
    remainder, and ``largest()`` names an equivariant module at the rounding floor.  Claimed
    translation-equivariant: violated.
    """

    def __init__(self, functional=True, seed=420):
        super().__init__()
        self.a = _circular(seed)
        self.weight = nn.Parameter(gaussian((1, 1, 3, 3), seed + 2, 0.4))
        self.middle = None if functional else nn.Conv2d(1, 1, 3, padding=1, bias=False)
        if self.middle is not None:
            with torch.no_grad():
                self.middle.weight.copy_(self.weight)
        self.b = _circular(seed + 4)
        self.double()

    def forward(self, x):
        h = self.a(x)
        h = F.conv2d(h, self.weight.to(h.dtype), padding=1) if self.middle is None else self.middle(h)
        return self.b(h)


class QuincunxClassifier(nn.Module):
    """A classifier reading the image on the quincunx lattice: logits (s, −s, mean), s = Σ (−1)^(i+j)·x — a
    checkerboard-sampled channel, as in demosaicing front ends.  ``quincunx=False``: logits from global means
    only (a CONTROL, invariant to every shift).

    Invariant to the diagonal shift (1, 1), which keeps every pixel's parity; the one-pixel shifts along one axis
    flip s's sign and with it the top-1 class.  Fools ``top1_change``: its protocol (Azulay & Weiss) moves the
    image one pixel diagonally only, so it reports P(top-1 change) = 0 and MAC at the rounding floor for a
    classifier whose top-1 class changes on every image under a one-pixel shift.  Claimed translation-invariant
    (circular): violated.
    """

    def __init__(self, quincunx=True):
        super().__init__()
        self.quincunx = quincunx

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h, dtype=x.dtype, device=x.device)[:, None]
        j = torch.arange(w, dtype=x.dtype, device=x.device)[None, :]
        m = x.mean(dim=(1, 2, 3))
        if not self.quincunx:
            q = x.pow(2).mean(dim=(1, 2, 3))
            return torch.stack([m, -m, q], dim=1)
        s = (x * (1 - 2 * ((i + j) % 2))).sum(dim=(1, 2, 3))
        return torch.stack([s, -s, m], dim=1)
