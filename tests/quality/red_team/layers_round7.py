"""Round 7 of the red team: layers aimed at the three mechanisms added in round 6's answer — the execution
contexts the audit probes (grad mode, memory layout), the deep copy's check, and the whole-batch input domains.

Same rules as ``layers.py``: torch only (never the package under test), deterministic to build, small shapes.
Every class says what it is built to fool and whether the claim it is audited for holds; the oracle
establishes the truth independently.  Each attack has a CONTROL beside it (``bug=False``: the claim kept).
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn

try:
    from red_team.layers import integers
except ImportError:  # loaded by path (the CLI puts this folder on sys.path)
    from layers import integers  # type: ignore


def circular_conv(x, weight):
    p = weight.shape[-1] // 2
    return F.conv2d(F.pad(x, (p, p, p, p), mode="circular"), weight)


def zero_conv(x, weight):
    return F.conv2d(x, weight, padding=weight.shape[-1] // 2)


class _Conv(nn.Module):
    """A 3×3 integer conv, circular by default; subclasses decide when the zero-padded path runs."""

    def __init__(self, bug=True, seed=700, in_channels=1):
        super().__init__()
        self.weight = nn.Parameter(integers((2, in_channels, 3, 3), seed).float())
        self.bug = bug

    def paths(self, x, zero):
        """Per sample: the zero-padded path where ``zero`` (N,) is true and the bug is on, else circular."""
        circular = circular_conv(x, self.weight)
        if not self.bug:
            return circular
        return torch.where(zero.view(-1, 1, 1, 1), zero_conv(x, self.weight), circular)


def _no_grad_only():
    """Under ``torch.no_grad()`` (not inference mode, no autograd): how most evaluation loops call a model."""
    return not torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


# ----------------------------------------------------------------------------- 1. execution contexts


class NoGradLargeValues(_Conv):
    """Under ``no_grad`` only, and only for samples with a value above 8 in magnitude (an "overflow-safe
    path" for unnormalised inputs), a zero-padded conv; circular otherwise.  The audit's context probes (small
    integers and Gaussians) never exceed 8, so it sees the same outputs under ``no_grad`` as under
    ``inference_mode`` and searches inference mode only, where the branch never runs.  The oracle calls layers
    under ``no_grad``.  Claimed translation-equivariant: violated; ``bug=False``: the CONTROL."""

    def forward(self, x):
        large = x.abs().flatten(1).amax(1) > 8
        return self.paths(x, large & _no_grad_only())


class GradLargeBatch(_Conv):
    """With autograd recording and a batch of at least 4 (a "training kernel" for real batches), zero padding;
    circular otherwise.  The context probes have batches of 1 and 3.  Claimed translation-equivariant with grad
    on (oracle ``grad_enabled``, batches 1, 3, 8): violated; ``bug=False``: the CONTROL."""

    def forward(self, x):
        on = torch.is_grad_enabled() and x.shape[0] >= 4
        return self.paths(x, torch.full((x.shape[0],), on))


class GradAndChannelsLast(_Conv):
    """A channels-last model under training-style autograd: the zero-padded path runs only when autograd
    records AND the input is channels_last (two input channels, so the formats differ).  The audit probes each
    context alone (grad on contiguous inputs; channels_last under inference mode).  Claimed
    translation-equivariant with both (oracle ``grad_enabled`` + ``memory_format``): violated."""

    def __init__(self, bug=True, seed=703):
        super().__init__(bug, seed, in_channels=2)

    def forward(self, x):
        nhwc = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
        on = torch.is_grad_enabled() and nhwc
        return self.paths(x, torch.full((x.shape[0],), on))


class InputRequiresGrad(_Conv):
    """A saliency-map path: when the input itself requires grad (``x.requires_grad_()``, as every attribution
    and adversarial method does), zero padding; circular otherwise.  The audit's "grad" context records
    autograd but hands inputs that do not require grad.  Claimed translation-equivariant on inputs that require
    grad (oracle ``input_requires_grad``): violated; ``bug=False``: the CONTROL."""

    def forward(self, x):
        return self.paths(x, torch.full((x.shape[0],), x.requires_grad))


class NoGradDrift(_Conv):
    """Under ``no_grad`` a position-dependent term of 9e-4 · max|x| (a "dequantisation offset" added by
    position): the outputs of the contexts stay within the audit's 1e-3 agreement, so ``no_grad`` is never
    searched — but 9e-4 of the input's size is far above float32 rounding.  Circular conv otherwise.
    Claimed translation-equivariant: violated (the oracle calls under no_grad); ``bug=False``: the CONTROL."""

    def forward(self, x):
        y = circular_conv(x, self.weight)
        if self.bug and _no_grad_only():
            h, w = x.shape[-2:]
            ramp = (torch.arange(h * w, dtype=x.dtype, device=x.device) / (h * w - 1)).view(h, w)
            y = y + 9e-4 * x.abs().flatten(1).amax(1).view(-1, 1, 1, 1) * ramp
        return y


class DeterministicBranch(_Conv):
    """A "reproducible" path taken when ``torch.use_deterministic_algorithms(True)`` is on (as many CI and
    research setups have it), padded with zeros.  The audit never switches that setting.  Claimed
    translation-equivariant with deterministic algorithms on (oracle ``deterministic``): violated."""

    def forward(self, x):
        on = torch.are_deterministic_algorithms_enabled()
        return self.paths(x, torch.full((x.shape[0],), on))


# ----------------------------------------------------------------------------- 2. the copy check

#: round 7: instances whose fused kernel was compiled at construction (a cache keyed by the instance)
_FUSED = weakref.WeakSet()


class FusedForBatches(_Conv):
    """An instance-keyed fused kernel (zero padding, the bug) used only for batches of 2 or more — a fused
    kernel is "not worth it" for one sample.  The copy check calls the module and a copy on one sample each,
    sees the same outputs, and audits the copy, which is not in the table and always runs the circular path.
    Claimed translation-equivariant (judge "own": the instance ``make()`` built): violated."""

    def __init__(self, bug=True, seed=710):
        super().__init__(bug, seed)
        _FUSED.add(self)

    def forward(self, x):
        on = self in _FUSED and x.shape[0] >= 2
        return self.paths(x, torch.full((x.shape[0],), on))


class FusedForLargeValues(_Conv):
    """An instance-keyed fused kernel (zero padding) used, sample by sample, for values above 8 in magnitude
    (unnormalised pixels); the copy check's probes (small integers, their negation, a Gaussian) never reach
    it.  Claimed translation-equivariant (judge "own"): violated."""

    def __init__(self, bug=True, seed=711):
        super().__init__(bug, seed)
        _FUSED.add(self)

    def forward(self, x):
        large = x.abs().flatten(1).amax(1) > 8
        return self.paths(x, large & (self in _FUSED))


class FusedUnderAutograd(_Conv):
    """An instance-keyed fused kernel (zero padding) used only when autograd records (a training kernel).  The
    copy check runs under ``no_grad`` and sees module and copy agree; the audit's "grad" context then runs the
    COPY, which is not in the table, so the contexts agree too.  Claimed translation-equivariant with grad on
    (oracle ``grad_enabled``, judge "own"): violated."""

    def __init__(self, bug=True, seed=712):
        super().__init__(bug, seed)
        _FUSED.add(self)

    def forward(self, x):
        on = torch.is_grad_enabled() and self in _FUSED
        return self.paths(x, torch.full((x.shape[0],), on))


# ----------------------------------------------------------------------------- 3. whole-batch input formats

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class SignedUnitStem(_Conv):
    """A stem that recognises images normalised to [-1, 1] once per batch (``if x.min() >= -1 and x.max() <= 1
    and x.min() < -0.5``) and in that branch pads with zeros.  Claimed translation-equivariant: violated (oracle
    domain ``signed-unit``); ``bug=False``: the CONTROL."""

    def forward(self, x):
        on = bool(x.min() >= -1) and bool(x.max() <= 1) and bool(x.min() < -0.5)
        return self.paths(x, torch.full((x.shape[0],), on))


class ImageNetStem(_Conv):
    """Three channels; a stem that recognises ImageNet-normalised batches (``x * std + mean`` lies in [0, 1]
    for the whole batch and reaches below 0.1 and above 0.9) and pads them with zeros.  Claimed
    translation-equivariant: violated (oracle domain ``imagenet``); ``bug=False``: the CONTROL."""

    def __init__(self, bug=True, seed=721):
        super().__init__(bug, seed, in_channels=3)

    def forward(self, x):
        mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(1, 3, 1, 1)
        u = x * std + mean
        on = bool(u.min() >= 0) and bool(u.max() <= 1) and bool(u.min() < 0.1) and bool(u.max() > 0.9)
        return self.paths(x, torch.full((x.shape[0],), on))


class RepeatedBatch(_Conv):
    """Test-time "deduplication": when every sample of a batch of two or more equals the first (one image
    repeated, as TTA and benchmark loops make), the first is computed once — by a zero-padded kernel (the bug)
    — and broadcast.  Claimed translation-equivariant: violated (oracle domain ``repeated``)."""

    def forward(self, x):
        on = x.shape[0] >= 2 and bool((x == x[:1]).all())
        return self.paths(x, torch.full((x.shape[0],), on))


class BatchOf32(_Conv):
    """A kernel "captured" for batch size 32 (a CUDA-graph-style fast path for the training batch size), padded
    with zeros; any other batch size runs circular.  Claimed translation-equivariant: violated (oracle batches
    1, 3, 32).  ``at_least=64``: the path runs for every batch of 64 or more instead (a "large-batch inference
    kernel"; oracle batches 1, 3, 64)."""

    def __init__(self, bug=True, seed=730, at_least=None):
        super().__init__(bug, seed)
        self.at_least = at_least

    def forward(self, x):
        n = x.shape[0]
        on = n >= self.at_least if self.at_least else n == 32
        return self.paths(x, torch.full((n,), on))


# ----------------------------------------------------------------------------- 1b. a loud channel hides a context


class NoGradQuietChannel(_Conv):
    """Two outputs: a loud channel, 1e5 · Σ|x| over the image (translation-invariant, so equivariant), and a
    quiet conv channel that is zero-padded under ``no_grad`` and circular otherwise.  The context probes compare
    outputs against ONE maximum for the whole output (the loud channel's), so the quiet channel's 100% change
    is invisible and ``no_grad`` is never searched.  Claimed translation-equivariant: violated (the oracle
    scales per (sample, channel)); ``bug=False``: the CONTROL."""

    def __init__(self, bug=True, seed=704):
        super().__init__(bug, seed)
        self.weight = nn.Parameter(self.weight[:1].detach().clone())

    def forward(self, x):
        quiet = self.paths(x, torch.full((x.shape[0],), _no_grad_only()))
        loud = 1e5 * x.abs().sum(dim=(1, 2, 3), keepdim=True).expand_as(quiet)
        return torch.cat([loud, quiet], 1)
