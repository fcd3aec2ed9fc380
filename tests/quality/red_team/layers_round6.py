"""Round 6 of the red team: layers that notice how they are called (inference mode, memory format), layers
that branch on input structure the audit's portfolio never draws (grey images stored as RGB, raw 8-bit pixels),
strided zero-fill claims, and ordinary user bugs in padding, resizing and kernels.

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


def d4_kernel(out_channels, in_channels, k, seed):
    """Integer k×k kernels invariant under every rotation and flip (symmetrised over D4)."""
    w = integers((out_channels, in_channels, k, k), seed)
    w = sum(torch.rot90(w, r, (-2, -1)) for r in range(4))
    return w + w.transpose(-1, -2)


def chiral_kernel(k=5):
    """A 5×5 "pinwheel": invariant under rot90, not under any mirror."""
    w = torch.zeros(k, k)
    w[0, 1], w[1, 1], w[2, 2] = 1.0, -1.0, 2.0
    return sum(torch.rot90(w, r) for r in range(4))[None, None]


def circular_conv(x, weight):
    p = weight.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), weight)


# ----------------------------------------------------------------------------- 1. how the layer is called


class InferenceModeBranch(nn.Module):
    """A conv whose padding depends on ``torch.is_inference_mode_enabled()``: circular padding inside
    ``torch.inference_mode()`` (a "deployment path" a user tested), zero padding otherwise — under
    ``torch.no_grad()`` and in training.  ``branch=False``: the CONTROL (circular padding everywhere).

    The audit calls layers under ``inference_mode`` (``_safety.grad_mode``), so it only ever sees the circular
    path.  Evaluated the ordinary way (``no_grad``, as the oracle calls it, or with autograd on) the zero padding
    breaks equivariance at the border.  Claimed translation-equivariant: violated; the control holds.
    """

    def __init__(self, branch=True, seed=601):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed).float())
        self.branch = branch

    def forward(self, x):
        if self.branch and not torch.is_inference_mode_enabled():
            return F.conv2d(x, self.weight, padding=1)
        return circular_conv(x, self.weight)


class ChannelsLastBranch(nn.Module):
    """A conv with a separate path for ``channels_last`` inputs (a "fused NHWC kernel" written by hand) that
    pads with zeros where the NCHW path pads circularly.  ``bug=False``: the CONTROL (both paths circular).

    A model converted with ``model.to(memory_format=torch.channels_last)`` gets such inputs in every call; the
    audit hands only contiguous (NCHW) batches.  Two input channels, so the formats differ.  Claimed
    translation-equivariant with channels_last inputs (oracle ``memory_format=torch.channels_last``): violated.
    """

    def __init__(self, bug=True, seed=602):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 2, 3, 3), seed).float())
        self.bug = bug

    def forward(self, x):
        nhwc = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        if self.bug and nhwc:
            return F.conv2d(x, self.weight, padding=1)
        return circular_conv(x, self.weight)


class AssumesContiguous(nn.Module):
    """A circular conv preceded by ``x.as_strided(x.shape, <contiguous strides>)`` — what a hand-written kernel
    that reads the raw storage does.  ``torch.rot90`` returns a transposed view for odd quarter turns, so a user's
    ``layer(torch.rot90(x))`` reads the transpose.  ``fixed=True``: the CONTROL (``x.contiguous()`` first).
    Claimed rot90-equivariant (a D4-symmetric kernel): violated; the control holds."""

    def __init__(self, fixed=False, seed=603):
        super().__init__()
        self.weight = nn.Parameter(d4_kernel(2, 1, 3, seed))
        self.fixed = fixed

    def forward(self, x):
        if self.fixed:
            x = x.contiguous()
        n, c, h, w = x.shape
        x = x.as_strided((n, c, h, w), (c * h * w, h * w, w, 1))
        return circular_conv(x, self.weight)


# ----------------------------------------------------------------------------- 2. input structure


class GreyscaleFastPath(nn.Module):
    """Three input channels; when every channel equals the first (a grey image stored as RGB) a "luminance
    fast path" runs, padded with zeros; colour images take the circular path.  ``bug=False``: the CONTROL (the
    fast path padded circularly too).  ``per_sample=False``: the test is made once for the whole batch (what
    ``if (x == x[:, :1]).all():`` does), so the path runs only on a batch that is grey throughout — what a data
    loader of grey images always gives.  Claimed translation-equivariant: violated (oracle domain ``grayscale``)."""

    def __init__(self, bug=True, per_sample=True, seed=604):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 3, 3, 3), seed).float())
        self.bug, self.per_sample = bug, per_sample

    def forward(self, x):
        colour = circular_conv(x, self.weight)
        w = self.weight.sum(1, keepdim=True)  # on a grey image: the same function as the colour path
        grey = F.conv2d(x[:, :1], w, padding=1) if self.bug else circular_conv(x[:, :1], w)
        is_grey = (x == x[:, :1]).flatten(1).all(1).view(-1, 1, 1, 1)  # per sample: no batch coupling
        if not self.per_sample:  # the usual `if (x == x[:, :1]).all():` — one test for the whole batch
            is_grey = is_grey.all().expand_as(is_grey)
        return torch.where(is_grey, grey, colour)


class Raw8BitBranch(nn.Module):
    """Normalises raw 8-bit pixels (non-negative integers, some above 4) by 1/255, and in that branch pads with
    zeros; float images take the circular path.  ``bug=False``: the CONTROL.  ``per_sample=False``: one test
    for the whole batch (``if x.min() >= 0 and x.max() > 4 ...``), so only a batch of raw pixels throughout
    takes the branch.  Claimed translation-equivariant: violated (oracle domain ``raw-8bit``)."""

    def __init__(self, bug=True, per_sample=True, seed=605):
        super().__init__()
        self.weight = nn.Parameter(gaussian((2, 1, 3, 3), seed, 0.5))
        self.bug, self.per_sample = bug, per_sample

    def forward(self, x):
        flat = x.flatten(1)
        raw = ((flat >= 0).all(1) & (flat == flat.round()).all(1) & (flat.amax(1) > 4)).view(-1, 1, 1, 1)  # per sample
        if not self.per_sample:  # the usual `if x.min() >= 0 and x.max() > 4 and ...:` — one test for the batch
            raw = raw.all().expand_as(raw)
        scaled = torch.where(raw, x / 255, x)
        circular = circular_conv(scaled, self.weight)
        zero = F.conv2d(scaled, self.weight, padding=1) if self.bug else circular
        return torch.where(raw, zero, circular)


# ----------------------------------------------------------------------------- 3. strided zero-fill claims


class AvgPool2(nn.Module):
    """``avg_pool2d(x, 2)``: zero-fill equivariant for shifts in 2Z², the output moving by t/2.  Claimed
    ``translation-equivariant[boundary=zero,stride=2]``: holds."""

    def forward(self, x):
        return F.avg_pool2d(x, 2)


class StridedZeroPadConv(nn.Module):
    """A stride-2 zero-padded 3×3 conv (D4-symmetric integer kernel).  Zero-fill equivariant for shifts in 2Z²
    when content keeps 1 pixel from the border (``border=2`` here, as the claims below state); without a border
    the padding shows.  Claims: ``[boundary=zero,stride=2]`` violated, ``[...,border=2]`` holds."""

    def __init__(self, seed=606):
        super().__init__()
        self.weight = nn.Parameter(d4_kernel(2, 1, 3, seed))

    def forward(self, x):
        return F.conv2d(x, self.weight, stride=2, padding=1)


# ----------------------------------------------------------------------------- 4. ordinary user bugs


class SamePadding(nn.Module):
    """``nn.Conv2d(padding="same")`` with a D4-symmetric kernel.  For an even kernel (4×4) torch pads one more
    pixel at the bottom/right, so the output is off-centre: rot90-equivariant violated.  ``k=3, dilation=2``:
    the CONTROL (symmetric padding 2 on every side)."""

    def __init__(self, k=4, dilation=1, seed=607):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, k, padding="same", dilation=dilation, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(d4_kernel(2, 1, k, seed))

    def forward(self, x):
        return self.conv(x)


class PaddedConv(nn.Module):
    """``F.pad(x, pad)`` then an unpadded conv with a D4-symmetric kernel.  ``pad=(0, 1, 0, 1)``, k=2 (the usual
    "same for an even kernel" fix, on one side): rot90-equivariant violated.  ``pad=(1, 1, 1, 1)``, k=3: the
    CONTROL."""

    def __init__(self, pad=(0, 1, 0, 1), k=2, seed=608):
        super().__init__()
        self.pad = tuple(pad)
        self.weight = nn.Parameter(d4_kernel(2, 1, k, seed))

    def forward(self, x):
        return F.conv2d(F.pad(x, self.pad), self.weight)


class TransposedConvUpsample(nn.Module):
    """``ConvTranspose2d(3, stride=2, padding=1, output_padding=1)``, a D4-symmetric kernel: 8×8 → 16×16, the
    extra row and column only at the bottom/right.  Claimed rot90-equivariant: violated.  ``output_padding=0``
    (8×8 → 15×15, centred): the CONTROL."""

    def __init__(self, output_padding=1, seed=609):
        super().__init__()
        self.conv = nn.ConvTranspose2d(1, 2, 3, stride=2, padding=1, output_padding=output_padding, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(d4_kernel(2, 1, 3, seed).transpose(0, 1))

    def forward(self, x):
        return self.conv(x)


class Resize(nn.Module):
    """``F.interpolate`` to a fixed size.  ``mode="nearest"`` 8 → 12 picks source pixels floor(i·2/3): the grid
    is not centred, rot90-equivariant violated.  ``mode="bilinear"`` 8 → 5 (half-pixel centres): the CONTROL."""

    def __init__(self, size=12, mode="nearest"):
        super().__init__()
        self.size, self.mode = size, mode

    def forward(self, x):
        return F.interpolate(x, size=self.size, mode=self.mode)


class ChiralKernelConv(nn.Module):
    """A circular 5×5 conv with a "pinwheel" kernel: invariant under rot90 but not under mirrors (a user
    symmetrised over C4 and thought that covered flips).  Claimed flip-equivariant: violated; rot90-equivariant:
    holds (the CONTROL)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(chiral_kernel())

    def forward(self, x):
        return circular_conv(x, self.weight)


# ----------------------------------------------------------------------------- 5. continuous rotations: one sense only


class ClockwiseCornerDetector(nn.Module):
    """``1 + 0.01·tanh(mean over a centred disc) + gain·[clockwise-rotated]`` per sample, shape (N, 1).

    The base term is approximately rotation-invariant (below 2% relative error at any angle).  The detector
    fires when an image has the empty corners a rotation leaves, with the handedness of a CLOCKWISE turn (in
    torch.rot90's sense: the zero run down the left column from the top-left corner is longer than the one
    along the top row) and no exact zero in its centre.  A counter-clockwise turn by 30° leaves the opposite
    handedness, by 45° equal runs.  ``gain=0``: the CONTROL (approximate at every angle).

    Claimed rotation-invariant: violated (33% at ±30° one way, by the oracle, which turns both ways); the
    audit turns by +30° and +45° only.  ``shallow=True``: the detector fires, in either sense, for the corners a
    SHALLOW turn leaves (10° to 20°: one zero run at least twice the other), never at 30°, 45° or 60° — violated
    at ±15° (oracle ``angles=(15, -15)``), approximate at every angle the audit or the oracle's default tries.
    """

    def __init__(self, gain=0.5, shallow=False):
        super().__init__()
        self.gain = gain
        self.shallow = shallow

    def forward(self, x):
        h, w = x.shape[-2:]
        i = torch.arange(h, dtype=x.dtype, device=x.device)[:, None] - (h - 1) / 2
        j = torch.arange(w, dtype=x.dtype, device=x.device)[None, :] - (w - 1) / 2
        disc = ((i * i + j * j) <= (min(h, w) / 2 - 1) ** 2).to(x.dtype)
        mean = (x * disc).sum(dim=(-2, -1)).sum(1, keepdim=True) / (disc.sum() * x.shape[1])
        empty = x.abs().sum(1) == 0  # (N, H, W)
        row = empty[:, 0, :].long().cumprod(-1).sum(-1)
        col = empty[:, :, 0].long().cumprod(-1).sum(-1)
        centre = ~empty[:, h // 2 - 3:h // 2 + 3, w // 2 - 3:w // 2 + 3].flatten(1).any(1)
        if self.shallow:  # either sense, a shallow turn (10°–20°): one run at least twice the other
            low, high = torch.minimum(row, col), torch.maximum(row, col)
            fires = ((low >= 1) & (high >= 2 * low) & centre).to(x.dtype)[:, None]
        else:
            fires = ((col > row) & centre).to(x.dtype)[:, None]
        return 1 + 0.01 * torch.tanh(mean) + self.gain * fires


# ----------------------------------------------------------------------------- 6. more ways to notice the audit


import weakref  # noqa: E402

#: round 6: instances whose "compiled kernel" was built at construction (a cache keyed by the instance)
_COMPILED_AT_CONSTRUCTION = weakref.WeakSet()


class CompiledAtConstruction(nn.Module):
    """A conv that "compiles" a fast kernel when it is constructed and finds it later by looking itself up in a
    module-level table keyed by the instance (a WeakSet).  The compiled kernel pads with zeros (the bug); an
    instance that is not in the table — a ``copy.deepcopy`` of it — takes the reference path, padded
    circularly.  ``bug=False``: the CONTROL (the compiled kernel pads circularly too).

    The audit works on a deep copy, so it only ever runs the reference path.  The user's own instance violates.
    Claimed translation-equivariant: violated (judge "own": the oracle calls the instance ``make()`` built,
    without copying it).
    """

    def __init__(self, bug=True, seed=610):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed).float())
        self.bug = bug
        _COMPILED_AT_CONSTRUCTION.add(self)

    def forward(self, x):
        if self.bug and self in _COMPILED_AT_CONSTRUCTION:
            return F.conv2d(x, self.weight, padding=1)
        return circular_conv(x, self.weight)


class GradModeBranch(nn.Module):
    """A conv with a "training path" taken whenever autograd records (``torch.is_grad_enabled()``), padded with
    zeros, and an inference path padded circularly.  ``bug=False``: the CONTROL.  Eval mode does not switch it:
    a model in eval mode under autograd (saliency maps, adversarial examples, the Lie derivative by backward
    mode) takes the zero-padded path.  Claimed translation-equivariant with grad enabled (oracle
    ``grad_enabled=True``): violated."""

    def __init__(self, bug=True, seed=611):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed).float())
        self.bug = bug

    def forward(self, x):
        if self.bug and torch.is_grad_enabled():
            return F.conv2d(x, self.weight, padding=1)
        return circular_conv(x, self.weight)



def circular_inference_factory():
    """The CONTROL of :class:`InferenceModeBranch` for the CLI: circular padding in every grad mode."""
    return InferenceModeBranch(branch=False)


class UnitIntervalStem(nn.Module):
    """A stem that recognises images in [0, 1] the way user code usually does, once per batch
    (``if x.min() >= 0 and x.max() <= 1:``), normalises them (``(x - 0.5) / 0.25``) and in that branch runs a
    zero-padded conv; any other batch goes through the circular conv.  ``bug=False``: the CONTROL (both
    branches circular).  A data loader of float images gives such batches on every call; the audit's batches
    mix kinds of input, so none lies in [0, 1] throughout.  Claimed translation-equivariant: violated (oracle
    domain ``unit``)."""

    def __init__(self, bug=True, seed=613):
        super().__init__()
        self.weight = nn.Parameter(integers((2, 1, 3, 3), seed).float())
        self.bug = bug

    def forward(self, x):
        if bool(x.min() >= 0) and bool(x.max() <= 1):
            x = (x - 0.5) / 0.25
            if self.bug:
                return F.conv2d(x, self.weight, padding=1)
        return circular_conv(x, self.weight)
