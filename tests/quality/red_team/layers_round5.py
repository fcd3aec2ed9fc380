"""Round 5 of the red team: layers built to fool the linear certificate's batch-of-one proof, the precision
regime (TF32 read from torch's flags, whatever the layer computes), and ordinary user bugs.

Same rules as ``layers.py``: torch only (never the package under test), deterministic to build, small shapes.
Every class says what it is built to fool and whether the claim it is audited for holds; the oracle
establishes the truth independently.  Each attack has a CONTROL beside it (the same construction, claim kept).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

try:
    from red_team.layers import gaussian, integers
except ImportError:  # loaded by path (the CLI puts this folder on sys.path)
    from layers import gaussian, integers  # type: ignore


def integer_position_map(h, w):
    """An integer-valued map over the grid that no shift leaves unchanged (values 0…4)."""
    i = torch.arange(h)[:, None]
    j = torch.arange(w)[None, :]
    return ((3 * i + j) % 5).float()


# ----------------------------------------------------------------------------- 1. the certificate's batch of one


class BatchCentredConv(nn.Module):
    """A hand-written batch centring (what BatchNorm does in training mode, written as ``x - x.mean(0)``)
    before a 3x3 conv with small integer weights (a fixed edge filter).  ``padding_mode="zeros"``: the attack;
    ``"circular"``: the CONTROL.

    The graph is affine (a mean over the batch axis is linear), every constant is an integer, so the linear
    certificate applies.  It proves commutation on a batch of ONE input, where ``x - x.mean(0) = 0`` and the
    output is the constant 0: every shift commutes.  On a batch of two or more the centred samples are not 0
    and the zero padding breaks equivariance at the border.  Claimed translation-equivariant: violated with zero
    padding (oracle, batches 3 and 8), holds with circular padding (the same shift for the whole batch moves the
    batch mean with it).
    """

    def __init__(self, padding_mode="zeros", seed=501):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1, padding_mode=padding_mode, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers(self.conv.weight.shape, seed))

    def forward(self, x):
        return self.conv(x - x.mean(0, keepdim=True))


class BatchMixPosition(nn.Module):
    """An integer circular conv plus a position-weighted sum of the OTHER samples of the batch,
    ``P·(Σ_j x_j − x_i)``: a cross-sample "context" term that vanishes on a batch of one.  ``coupled=False``:
    the CONTROL (P uniform: the context term is shift-equivariant).

    Fools the certificate the same way (affine graph, integer constants, proof on one sample).  Claimed
    translation-equivariant: violated (oracle, batches 3 and 8); the control holds.
    """

    def __init__(self, coupled=True, size=8, seed=502):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(integers(self.conv.weight.shape, seed))
        self.register_buffer("p", integer_position_map(size, size) if coupled else torch.ones(size, size))

    def forward(self, x):
        return self.conv(x) + self.p * (x.sum(0, keepdim=True) - x)


# ----------------------------------------------------------------------------- 2. the precision regime


class Float32FastPathGain(nn.Module):
    """A parameter-free smoothing ``(x + roll(x, 1))/2`` with a "float32 fast path" that carries a ``gain``
    error at one pixel (a lookup table baked for float32 only); other dtypes take the reference path.
    ``gain=0``: the CONTROL; ``everywhere=True``: the defect in every dtype (a CONTROL that the twin must catch).

    No convolution, no matrix product: TF32 never touches it.  On CUDA with torch's default flags
    (``torch.backends.cudnn.allow_tf32`` is True by default) the engine nevertheless takes float32's unit
    roundoff to be 2⁻¹¹, so the layer's own bound is ~8000× too wide; the float64 twin differs from the layer
    by the 1% gain, inside that bound, so the twin is "validated" and arbitrates — and it takes the reference
    path.  Claimed translation-equivariant: violated (judge "own": the float32 layer as it runs).
    """

    def __init__(self, gain=0.01, everywhere=False, size=8):
        super().__init__()
        g = torch.ones(size, size)
        g[2, 5] += gain
        self.register_buffer("g", g)
        self.everywhere = everywhere

    def forward(self, x):
        y = 0.5 * (x + torch.roll(x, 1, -1))
        if self.everywhere or y.dtype == torch.float32:
            y = y * self.g.to(y.dtype)
        return y


# ----------------------------------------------------------------------------- 3. ordinary user bugs


class MeanOverOneAxis(nn.Module):
    """A "global" average pool written as ``x.mean(-1)`` then a max over what is left by mistake on the wrong
    axis order: ``x.mean(dim=-1)`` keeps the rows, so the output (N, C, H) moves with vertical shifts.
    Claimed translation-invariant: violated.  ``fixed=True``: the CONTROL (mean over both axes)."""

    def __init__(self, fixed=False):
        super().__init__()
        self.fixed = fixed

    def forward(self, x):
        return x.mean(dim=(-2, -1)) if self.fixed else x.mean(dim=-1)


class TransposedOutput(nn.Module):
    """A circular conv whose output is returned with H and W exchanged (``permute(0, 1, 3, 2)`` where the user
    meant NHWC→NCHW).  Claimed translation-equivariant on a square input: violated (a vertical shift of the
    input moves the output horizontally).  ``fixed=True``: the CONTROL."""

    def __init__(self, fixed=False, seed=503):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.4))
        self.fixed = fixed

    def forward(self, x):
        y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="circular"), self.weight)
        return y if self.fixed else y.permute(0, 1, 3, 2)


class SymmetrisedWrongAxis(nn.Module):
    """A flip-symmetrised feature, ``g(x) + g(flip(x))`` then a global sum, with the flip on the wrong axis:
    ``torch.flip(x, (-2,))`` (vertical) where the layer is claimed flip-invariant (every mirror, and rot180).
    g is a zero-padded conv with a generic kernel followed by ReLU.  Claimed flip-invariant: violated.
    ``both=True``: the CONTROL (symmetrised over the whole flip group)."""

    def __init__(self, both=False, seed=504):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.6))
        self.both = both

    def g(self, x):
        return torch.relu(F.conv2d(x, self.weight, padding=1)).sum(dim=(-2, -1))

    def forward(self, x):
        if self.both:
            return sum(self.g(torch.flip(x, d) if d else x) for d in ((), (-1,), (-2,), (-2, -1)))
        return self.g(x) + self.g(torch.flip(x, (-2,)))


class EvenKernelHalfPadding(nn.Module):
    """A 4×4 circular conv padded with ``k // 2 = 2`` on every side (the odd-kernel formula): the output is
    (H+1)×(W+1), one row and column too many.  Claimed translation-equivariant: violated (the oracle rolls the
    9×9 output by the input's shift).  ``k=3``: the CONTROL."""

    def __init__(self, k=4, seed=505):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, k, k), seed, 0.4))

    def forward(self, x):
        p = self.weight.shape[-1] // 2
        return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), self.weight)


class CeilModePool(nn.Module):
    """``max_pool2d(x, 2, ceil_mode=True)`` on an odd size: the last row and column form 1×2 / 2×1 windows, so
    the pooled grid is not centred.  Claimed rot90-equivariant on 9×9: violated.  ``size_even=True`` is the
    same pool on 8×8 (the CONTROL is the claim on 8×8 where it holds)."""

    def forward(self, x):
        return F.max_pool2d(x, 2, ceil_mode=True)


class SizeGuardGlobalMax(nn.Module):
    """A global max pool with a size guard a user writes for a stem (``raise`` below 8×8).  Claimed
    scale-invariant at 8×8: holds (every upscaled input is larger).  The engine also checks upscaling from
    smaller inputs (4×4, 2×2, 1×1): the layer raises there, and the verdict must not become "error"."""

    def forward(self, x):
        if min(x.shape[-2:]) < 8:
            raise ValueError(f"input {tuple(x.shape[-2:])} is too small for this stem (at least 8×8)")
        return x.amax(dim=(-2, -1))


class SortedValues(nn.Module):
    """A sorting pool: every channel's values sorted, ``x.flatten(2).sort(-1).values`` → (N, C, H·W).  A
    permutation-invariant summary (a "histogram" layer): invariant to every shift, rotation and flip, exactly.
    Its output has rank 3 for a rank-4 input.  Claimed translation-invariant: holds.  The engine's check that
    "an output action compares them axis by axis" tests ρ(g) for the class ``Trivial`` while the ρ(g) it holds
    are the group element ``Identity()``: the invariant claim is refused as a usage error."""

    def forward(self, x):
        return x.flatten(2).sort(dim=-1).values
