"""Red-team models for the static certifier: each breaks a claim the certifier may certify, next to a control.

Plain torch modules in float64 with fixed integer weights (round 2 also uses the reference P4 layers, for
orientation channels); nothing here imports the engine.  Every case is
``(name, factory, input_shape, claim, holds)``: ``holds`` is the truth, established by the exhaustive orbit
check in ``test_red_team_static.py`` (every group element, on several inputs), not by the certifier.
"""

import collections
import copy

import torch
import torch.nn.functional as F


def _integer(shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(-3, 4, shape, generator=generator).double()


def _lopsided_kernel(seed=0):
    """A 3×3 kernel symmetric under no rotation or flip."""
    kernel = _integer((2, 1, 3, 3), seed)
    kernel[:, :, 0, 0] = 5
    kernel[:, :, 2, 2] = -4
    kernel[:, :, 0, 2] = 1
    return kernel


def _symmetric_kernel():
    """A 3×3 kernel invariant under every rotation and flip (D4)."""
    return torch.tensor([[1., 2., 1.], [2., -3., 2.], [1., 2., 1.]], dtype=torch.float64).expand(2, 1, 3, 3).clone()


# ----------------------------------------------------------------------------- 1. weights computed in forward


class MaskedConv(torch.nn.Conv2d):
    """A PixelCNN-style masked convolution: ``F.conv2d(x, self.weight * self.mask)``.  The product is a
    constant whose tensor the certifier does not evaluate, and a missing tensor is read as "no kernel" (a
    pooling, symmetric by construction)."""

    def __init__(self, kernel, mask):
        super().__init__(kernel.shape[1], kernel.shape[0], kernel.shape[-1], padding=kernel.shape[-1] // 2,
                         bias=False)
        self.double()
        with torch.no_grad():
            self.weight.copy_(kernel)
        self.register_buffer("mask", mask.double())

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)


def pixelcnn_mask(k=3):
    mask = torch.ones(1, 1, k, k)
    mask[..., k // 2 + 1:, :] = 0
    mask[..., k // 2, k // 2 + 1:] = 0
    return mask


def masked_conv():
    return MaskedConv(_symmetric_kernel(), pixelcnn_mask())  # the mask makes it lopsided


def masked_conv_control():
    return MaskedConv(_symmetric_kernel(), torch.ones(1, 1, 3, 3))  # an all-ones mask: still D4-symmetric


class CastWeightConv(torch.nn.Module):
    """``F.conv2d(x, self.w.double(), padding=1)``: a cast of the weights (mixed precision code does this)."""

    def __init__(self, kernel):
        super().__init__()
        self.w = torch.nn.Parameter(kernel.clone())

    def forward(self, x):
        return F.conv2d(x, self.w.double(), padding=1)


def cast_weight_conv():
    return CastWeightConv(_lopsided_kernel())


def cast_weight_conv_control():
    return CastWeightConv(_symmetric_kernel())


# ----------------------------------------------------------------------------- 2. explicit circular padding, twice


class DoubleCircular(torch.nn.Module):
    """``F.pad(x, 1, "circular")`` then ``Conv2d(5, padding=1, padding_mode="circular")``: the second padding
    wraps the *padded* tensor (period n + 2), not the input (period n), so the border reads the wrong pixels.
    The table folds both into one circular window of padding 2."""

    def __init__(self, outer=1, inner=1):
        super().__init__()
        self.outer = outer
        k = 2 * (outer + inner) + 1
        self.conv = torch.nn.Conv2d(1, 1, k, padding=inner, padding_mode="circular", bias=False).double()
        with torch.no_grad():
            self.conv.weight.copy_(_integer(self.conv.weight.shape, 3))

    def forward(self, x):
        return self.conv(F.pad(x, (self.outer,) * 4, mode="circular"))


def double_circular():
    return DoubleCircular(1, 1)


def double_circular_control():
    return DoubleCircular(2, 0)  # one circular padding of 2, then a convolution that pads nothing


# ----------------------------------------------------------------------------- 3. nearest resampling by a factor


class Nearest(torch.nn.Module):
    """``F.interpolate(x, scale_factor=s, mode="nearest")``: torch picks source index ⌊i / s⌋ from the *given*
    factor, not from the ratio of the sizes.  With s = 0.34 on size 9 the output has 3 = 9/3 pixels, read from
    0, 2, 5 (not 0, 3, 6): no stride-3 grid."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return F.interpolate(x, scale_factor=self.scale, mode="nearest")


def nearest_034():
    return Nearest(0.34)


def nearest_301():
    """Upsampling: scale_factor 3.01 on size 8 gives 24 = 3·8 pixels, but output 3 reads ⌊3/3.01⌋ = 0, so the
    output is no ×3 repetition and a flip does not commute with it."""
    return Nearest(3.01)


def nearest_3_control():
    return Nearest(3.0)


def nearest_034_control():
    return Nearest(1 / 3)  # size 9 → 3, source indices 0, 3, 6 (the table's stride-3 window)


class NearestSize(torch.nn.Module):
    def forward(self, x):
        return F.interpolate(x, size=3, mode="nearest")


# ----------------------------------------------------------------------------- 4. flattened positions × an invariant


class PositionWeightedByInvariant(torch.nn.Module):
    """``(x.flatten(1) * (x.mean() · pos)).sum(1)``: the weight vector is an *invariant* value (a function of the
    mean), but it varies over the flattened positions; the certifier checks constants against flattened
    positions, not invariant operands."""

    def __init__(self, numel, uniform=False):
        super().__init__()
        pos = torch.ones(numel) if uniform else torch.arange(numel) % 7 + 1.0
        self.register_buffer("pos", pos.double())

    def forward(self, x):
        weight = x.mean((1, 2, 3))[:, None] * self.pos
        return (x.flatten(1) * weight).sum(1, keepdim=True)


def position_weighted(shape=(1, 8, 8)):
    return PositionWeightedByInvariant(shape[0] * shape[1] * shape[2])


def position_weighted_control(shape=(1, 8, 8)):
    return PositionWeightedByInvariant(shape[0] * shape[1] * shape[2], uniform=True)



# ============================================================================= round 2
# New mechanisms (the first round's kinds — weights computed in forward, double circular padding, nearest scale
# factors, invariant × flattened positions — are not repeated).  Each case names the rule of
# ``props/_static_ops.py`` it fools; every false certificate has a near twin (its control) where the claim holds.


def _p4_lifting():
    from convnet_invariances.models import P4Lifting  # the table knows this reference layer by class
    return P4Lifting(1, 1).double()


def _orientation_ramp(vary):
    """(4,) per-orientation values: 1, 2, 3, 4 (vary) or all ones."""
    return (torch.arange(4.) + 1 if vary else torch.ones(4)).double()


# ----------------------------------------------------------------------------- 5. regular channels × constants


class RegularTimesConstant(torch.nn.Module):
    """A P4 lifting (orientation channels that cycle under rot90) times a constant of shape (4, H, W) that is
    the same at every position but differs per orientation channel.  ``_uniform`` accepts a constant that
    varies over positions when it is rot90-symmetric *before* it looks at channels, so the per-channel check of
    regular maps (``_field_constant``) is skipped: a rotation cycles the channels, the constant does not."""

    def __init__(self, n=7, vary=True):
        super().__init__()
        self.lift = _p4_lifting()
        self.register_buffer("scale", _orientation_ramp(vary).view(4, 1, 1).expand(4, n, n).clone())

    def forward(self, x):
        return self.lift(x) * self.scale


def regular_times_constant():
    return RegularTimesConstant(vary=True)


def regular_times_constant_control():
    return RegularTimesConstant(vary=False)  # the same on the 4 orientation channels


class RegularCatConstant(torch.nn.Module):
    """``torch.cat([P4 lifting, constant], dim=1)`` with a constant map of 4 channels, each uniform in space
    (so rot90-symmetric) but different: ``_cat`` checks a constant part's spatial symmetry only, and the
    concatenated map is declared ``regular`` — its last 4 channels are expected to cycle under rot90, which a
    constant never does.  (The buffer carries the batch axis: the model runs on batches of 2.)"""

    def __init__(self, n=7, vary=True):
        super().__init__()
        self.lift = _p4_lifting()
        self.register_buffer("extra", _orientation_ramp(vary).view(1, 4, 1, 1).expand(2, 4, n, n).clone())

    def forward(self, x):
        return torch.cat([self.lift(x), self.extra], dim=1)


def regular_cat_constant():
    return RegularCatConstant(vary=True)


def regular_cat_constant_control():
    return RegularCatConstant(vary=False)


# ----------------------------------------------------------------------------- 6. whole-map norms on regular maps


class RegularLayerNorm(torch.nn.Module):
    """``LayerNorm((4, H, W))`` after a P4 lifting, its weight uniform in space but different per orientation
    channel: ``_whole_map_norm`` checks LayerNorm's affine parameters over positions only (for InstanceNorm it
    checks the channels of a field, for GroupNorm it declines), so a rotation that cycles the channels meets a
    per-channel scale that does not cycle."""

    def __init__(self, n=7, vary=True):
        super().__init__()
        self.lift = _p4_lifting()
        self.norm = torch.nn.LayerNorm((4, n, n)).double()
        with torch.no_grad():
            self.norm.weight.copy_(_orientation_ramp(vary).view(4, 1, 1).expand(4, n, n))

    def forward(self, x):
        return self.norm(self.lift(x))


def regular_layer_norm():
    return RegularLayerNorm(vary=True)


def regular_layer_norm_control():
    return RegularLayerNorm(vary=False)


class RegularInstanceNormRunning(torch.nn.Module):
    """``InstanceNorm2d(4, track_running_stats=True)`` in eval mode after a P4 lifting: it normalises by its
    running statistics, a per-channel affine map.  ``_whole_map_norm`` checks an InstanceNorm's affine weights
    for orientation channels, never its running statistics (BatchNorm's rule does check them)."""

    def __init__(self, vary=True):
        super().__init__()
        self.lift = _p4_lifting()
        self.norm = torch.nn.InstanceNorm2d(4, track_running_stats=True).double()
        with torch.no_grad():
            self.norm.running_mean.copy_(_orientation_ramp(vary) - 1)
            self.norm.running_var.copy_(_orientation_ramp(vary))

    def forward(self, x):
        return self.norm(self.lift(x))


def regular_instance_norm_running():
    return RegularInstanceNormRunning(vary=True)


def regular_instance_norm_running_control():
    return RegularInstanceNormRunning(vary=False)


# ----------------------------------------------------------------------------- 7. per-feature layers on flat maps


class PerFeatureOnFlat(torch.nn.Module):
    """``x.flatten(1)`` → a layer with one parameter per *feature* (``PReLU(C·H·W)``, ``BatchNorm1d(C·H·W)``)
    → sum.  On a flattened map the features are the positions, so these layers weight every position
    differently; ``_per_channel`` hands a non-spatial value to ``_pointwise``, which keeps ``permuted`` without
    looking at the module's parameters (the module's own tensors are not operands of the node)."""

    def __init__(self, numel, kind="prelu", vary=True):
        super().__init__()
        ramp = torch.arange(numel) % 5 + 1.0 if vary else torch.full((numel,), 2.0)
        if kind == "prelu":
            self.layer = torch.nn.PReLU(numel).double()
            with torch.no_grad():
                self.layer.weight.copy_(ramp / 8)
        else:
            self.layer = torch.nn.BatchNorm1d(numel).double()
            with torch.no_grad():
                self.layer.running_var.copy_(ramp)

    def forward(self, x):
        return self.layer(x.flatten(1)).sum(1, keepdim=True)


def flat_prelu():
    return PerFeatureOnFlat(64, "prelu")


def flat_prelu_control():
    return PerFeatureOnFlat(64, "prelu", vary=False)


def flat_batchnorm():
    return PerFeatureOnFlat(64, "batchnorm")


def flat_batchnorm_control():
    return PerFeatureOnFlat(64, "batchnorm", vary=False)


# ----------------------------------------------------------------------------- 8. attributes torch does not read


def stale_circular_padding(asymmetric=True):
    """``Conv2d(3, padding=1, padding_mode="circular")`` whose ``_reversed_padding_repeated_twice`` says 2 before
    and 0 after (a circular padding of the same total, set after construction).  For every mode but zeros torch
    pads by that private list and convolves with padding 0; ``_conv_module`` reads ``m.padding`` — (1, 1),
    symmetric — so it certifies rot90 and flips, which the lopsided padding breaks (translations still hold:
    the padding is circular)."""
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(_symmetric_kernel()[:1])
    if asymmetric:
        conv._reversed_padding_repeated_twice = [2, 0, 2, 0]
    return conv


def stale_circular_padding_control():
    return stale_circular_padding(asymmetric=False)


def resized_conv(side=2, same=True):
    """A ``Conv2d(kernel_size=3, padding="same")`` whose weight was replaced by a ``side``×``side`` one (kernel
    surgery); torch convolves with the weight's own size ("same": 0 before, 1 after for side 2), while
    ``_conv_module`` builds its windows from the stale ``kernel_size`` attribute (3: 1 before and after).  With
    ``same=False``: ``Conv2d(3, stride=2, padding=1)`` on odd sizes, where a 2-tap kernel gives the same output
    size as a 3-tap one."""
    conv = torch.nn.Conv2d(1, 1, 3, padding="same" if same else 1, stride=1 if same else 2, bias=False).double()
    conv.weight = torch.nn.Parameter(torch.ones(1, 1, side, side, dtype=torch.float64))  # D4-symmetric
    return conv


def resized_conv_strided():
    return resized_conv(2, same=False)


def resized_conv_control():
    return resized_conv(3)


def resized_conv_strided_control():
    return resized_conv(3, same=False)


def resized_p4_lifting(side=2):
    """``P4Lifting(kernel_size=3, stride=2)`` whose weight was replaced by a ``side``×``side`` one: forward pads
    by ``(kernel_size − 1) // 2`` and convolves with the weight's size; ``_project_P4Lifting`` builds its window
    from ``kernel_size`` (the project ``Conv`` rule reads ``weight.shape``, this one does not)."""
    from convnet_invariances.models import P4Lifting
    layer = P4Lifting(1, 1, 3, stride=2).double()
    layer.weight = torch.nn.Parameter(torch.ones(1, 1, side, side, dtype=torch.float64))
    return layer


def resized_p4_lifting_control():
    return resized_p4_lifting(3)


# ----------------------------------------------------------------------------- 9. a 2-D pooling on a 1-D signal


class Pool2dOnSignal(torch.nn.Module):
    """``F.max_pool2d`` on a (N, C, L) signal: torch reads it as an unbatched (C', H, W) image, so the *last*
    entry of ``kernel_size``/``stride``/``padding`` acts on L.  ``_pair(value, d=1)`` keeps the *first* entry
    of a tuple longer than d: the table sees kernel 1, stride 2, padding 0 on L (symmetric on odd sizes) where
    torch pools L by kernel 2, stride 2, padding 1 (windows from −1 to n − 1: lopsided), and both give the same
    length."""

    def __init__(self, kernel=(1, 2), stride=(2, 2), padding=(0, 1)):
        super().__init__()
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel, self.stride, self.padding)


def pool2d_on_signal():
    return Pool2dOnSignal()


def pool2d_on_signal_module():
    return torch.nn.MaxPool2d((1, 2), (2, 2), (0, 1))


def pool2d_on_signal_control():
    return Pool2dOnSignal((1, 1), (2, 2), (0, 0))  # both axes subsampled without padding: symmetric on odd L


# ----------------------------------------------------------------------------- tracebacks


class RollBySize(torch.nn.Module):
    """``torch.roll(x, (x.shape[-1],), (3,))``: the shift is computed in the graph (a Node); the rot90/flip rule
    calls ``int()`` on it."""

    def forward(self, x):
        return torch.roll(x, (x.shape[-1],), (3,))


class RollLastAxis(torch.nn.Module):
    """``torch.roll(x, 1, x.dim() - 1)``: the axis is a Node; ``_roll`` takes it modulo the rank."""

    def forward(self, x):
        return torch.roll(x, 1, x.dim() - 1)


class SumLastTwo(torch.nn.Module):
    """``x.sum(dim=(x.dim() - 2, x.dim() - 1))``: the axes are Nodes; ``_reduction`` calls ``int()`` on them."""

    def forward(self, x):
        return x.sum(dim=(x.dim() - 2, x.dim() - 1))


class TimesRowVector(torch.nn.Module):
    """``x * c`` with a constant ``c`` of shape (W,), broadcast over H: ``_kernel_symmetric`` indexes
    ``shape[-2]`` (rot90) or flips axis −2 (flips) of a 1-D tensor."""

    def __init__(self, n=8):
        super().__init__()
        self.register_buffer("c", torch.ones(n, dtype=torch.float64))

    def forward(self, x):
        return x * self.c


class MaxPoolEmptyStride(torch.nn.Module):
    """``F.max_pool2d(x, 2, ())``: torch reads an empty stride as the kernel size; ``_pool_windows`` only
    treats None and [] so, and ``_pair(())`` indexes the empty tuple."""

    def forward(self, x):
        return F.max_pool2d(x, 2, ())


class HalfSizePool(torch.nn.Module):
    """``F.avg_pool2d(x, x.shape[-1] // 2)``: a kernel computed in the graph.  A stated claim gets ``unknown``
    (``Unreadable`` is caught in ``StaticAnalysis.verdict``), but ``certify_static(module, shape)`` without
    claims (and ``invariances explain`` without ``--claim``) first runs the interpreter in ``certify_static``
    itself, to pick the default claims, outside that ``try``."""

    def forward(self, x):
        return F.avg_pool2d(x, x.shape[-1] // 2)


# ============================================================================= round 3
# New mechanisms (rounds 1 and 2 are not repeated; the one exception, ``stale_same_padding``, is a string padding
# that round 2's fix of stale ``_reversed_padding_repeated_twice`` skips).  Each case names the rule it fools.


# ----------------------------------------------------------------------------- 10. a whole-map norm of a padded map


class NormOfPadded(torch.nn.Module):
    """``F.pad(x, 1, mode)`` → a whole-map norm (InstanceNorm2d, LayerNorm over (C, H, W), GroupNorm) → an unpadded
    ``Conv2d(3)``.  ``_whole_map_norm`` (props/_static_ops.py) returns its input as it is, so a *padded* value
    passes through (every other rule declines it) and the convolution folds the padding into its window, as if
    the norm were not there.  But the norm's statistics are taken over the padded map: a circular (or reflect)
    border repeats rows and columns of the input, which a circular shift changes, so the mean and variance move
    and no output pixel is a shift of the original.  A zero border adds the same zeros whatever the shift: the
    zero-fill twin is the control (equivariant away from the border)."""

    def __init__(self, norm="instance", mode="circular", n=8):
        super().__init__()
        self.mode = mode
        self.norm = {"instance": torch.nn.InstanceNorm2d(1), "layer": torch.nn.LayerNorm((1, n + 2, n + 2)),
                     "group": torch.nn.GroupNorm(1, 1)}[norm].double()
        self.conv = torch.nn.Conv2d(1, 1, 3, bias=False).double()
        with torch.no_grad():
            self.conv.weight.copy_(_symmetric_kernel()[:1])

    def forward(self, x):
        return self.conv(self.norm(F.pad(x, (1, 1, 1, 1), mode=self.mode)))


def norm_of_padded():
    return NormOfPadded("instance")


def norm_of_padded_layer():
    return NormOfPadded("layer")


def norm_of_padded_group():
    return NormOfPadded("group")


def norm_of_padded_reflect():
    return NormOfPadded("instance", "reflect")


def norm_of_padded_control():
    return NormOfPadded("instance", "constant")  # zeros: the statistics see the same border whatever the shift


# ----------------------------------------------------------------------------- 11. padding filled two ways


class MixedFill(torch.nn.Module):
    """``F.pad(x, (1, 0), "replicate")`` then ``Conv(kernel 2, padding="same")``, which pads (0, 1) with zeros: one
    pixel before and one after, so the window geometry is symmetric — but the pixel before repeats x[0] and the
    pixel after is 0.  ``pad_window`` (props/_static_values.py) marks the fill "mixed", and ``reflect_through``
    never looks at the fill: a reversal maps the replicated border onto the zero one.  (Translations are right:
    a mixed fill is never circular, the margin grows by the geometry.)  Control: both fills zeros."""

    def __init__(self, mode="replicate", d=1):
        super().__init__()
        self.mode, self.d = mode, d
        conv = torch.nn.Conv1d if d == 1 else torch.nn.Conv2d
        self.conv = conv(1, 1, 2, padding="same", bias=False).double()
        with torch.no_grad():
            self.conv.weight.fill_(1.0)  # symmetric under every rotation and flip

    def forward(self, x):
        return self.conv(F.pad(x, (1, 0) * self.d, mode=self.mode))


def mixed_fill():
    return MixedFill("replicate", 1)


def mixed_fill_2d():
    return MixedFill("replicate", 2)


def mixed_fill_control():
    return MixedFill("constant", 1)


# ----------------------------------------------------------------------------- 12. a 2-D kernel on a 1-D signal


class Conv2dOnSignal(torch.nn.Module):
    """``F.conv2d(x, w, padding="same")`` on a (N, C, L) signal with a (2, 2, 1, 3) weight: torch reads x as one
    unbatched (N, C, L) image (the batch as channels), so the 3 taps and their zero padding act on L.
    ``_conv_function`` takes the window from ``weight.shape[2:]`` = (1, 3) without checking that it has one entry
    per spatial axis, and ``zip`` keeps the first: a 1-tap window on L, no padding, equivariant everywhere —
    where the real zero padding breaks circular shifts at the border.  (``_conv_module`` checks the rank; round
    2's ``_pair`` fix covers window arguments, not the weight.)  Control: a (2, 2, 1, 1) weight."""

    def __init__(self, taps=3):
        super().__init__()
        self.register_buffer("w", torch.ones(2, 2, 1, taps, dtype=torch.float64))

    def forward(self, x):
        return F.conv2d(x, self.w, padding="same")


def conv2d_on_signal():
    return Conv2dOnSignal(3)


def conv2d_on_signal_control():
    return Conv2dOnSignal(1)


# ----------------------------------------------------------------------------- 13. state the trace does not see


class HiddenState(torch.nn.Module):
    """A forward that counts its calls in a ``collections.deque`` and alternates between two convolutions.  The
    trace runs forward once (the first branch); ``_state``/``_picture`` (props/_certificate.py) picture an
    object without ``__dict__`` by identity, so appending to the deque is no change of state, and ``.append`` is
    a method call, not a write the code scan looks for.  Every second call uses the other kernel (twice the
    first): f(g·x) ≠ g·f(x) across calls.  Control: both branches the same kernel."""

    def __init__(self, same=False):
        super().__init__()
        self.calls = collections.deque()
        self.a = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
        self.b = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
        with torch.no_grad():
            self.a.weight.copy_(_symmetric_kernel()[:1])
            self.b.weight.copy_(_symmetric_kernel()[:1] * (1 if same else 2))

    def forward(self, x):
        self.calls.append(1)
        if len(self.calls) % 2:
            return self.a(x)
        return self.b(x)


def hidden_state():
    return HiddenState(same=False)


def hidden_state_control():
    return HiddenState(same=True)


# ----------------------------------------------------------------------------- 14. round 2's fix, string padding


def stale_same_padding(asymmetric=True):
    """``Conv2d(3, padding="same", padding_mode="circular")`` whose ``_reversed_padding_repeated_twice`` says 2 before
    and 0 after: torch pads by that list for every mode but zeros.  Round 2's check in ``_conv_module`` compares
    the list with ``m.padding`` only when the padding is not a string, so "same" is read as 1/1."""
    conv = torch.nn.Conv2d(1, 1, 3, padding="same", padding_mode="circular", bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(_symmetric_kernel()[:1])
    if asymmetric:
        conv._reversed_padding_repeated_twice = [2, 0, 2, 0]
    return conv


def stale_same_padding_control():
    return stale_same_padding(asymmetric=False)


# ============================================================================= round 4
# New mechanisms (rounds 1–3 are not repeated).  Each case names the rule it fools.

# ----------------------------------------------------------------------------- 13. the value a padding is filled with


class PadValueSame(torch.nn.Module):
    """``F.pad(x, (1, 0), value=5)`` then ``Conv(kernel 2, padding="same")``, which pads (0, 1) with zeros: one
    pixel before and one after, a symmetric window geometry — but the pixel before is 5 and the pixel after is 0.
    ``_pad_function`` maps mode "constant" to "zeros" and drops ``value`` (``_PADS`` does the same for
    ``ConstantPad*d``), so ``pad_window`` (props/_static_values.py) sees two zero fills, "one larger padding", and
    never marks it "mixed" (round 3's fix).  Control: ``value=0``."""

    def __init__(self, value=5.0, d=1, module=False):
        super().__init__()
        self.value, self.d = value, d
        conv = torch.nn.Conv1d if d == 1 else torch.nn.Conv2d
        self.conv = conv(1, 1, 2, padding="same", bias=False).double()
        with torch.no_grad():
            self.conv.weight.fill_(1.0)  # symmetric under every rotation and flip
        pad = torch.nn.ConstantPad1d if d == 1 else torch.nn.ConstantPad2d
        self.pad = pad((1, 0) * d, value) if module else None

    def forward(self, x):
        return self.conv(self.pad(x) if self.pad is not None else F.pad(x, (1, 0) * self.d, value=self.value))


def pad_value_same():
    return PadValueSame(5.0, 1)


def pad_value_same_2d():
    return PadValueSame(5.0, 2)


def constant_pad_module_same():
    return PadValueSame(3.0, 2, module=True)


def pad_value_same_control():
    return PadValueSame(0.0, 1)


class PadThenPool(torch.nn.Module):
    """``F.pad(x, (0, 1))`` (zeros) then ``max_pool1d(kernel 3, stride 2, padding 1)`` on length 7: the pool's own
    padding is 1/1, the explicit pixel after makes it 1/2, and stride 2 on 7 samples keeps the windows symmetric
    (the last window reads the explicit zero, the first the pool's padding).  ``_pool_windows`` fills a pool's
    padding with "zeros", but max pooling pads with −inf (and ``count_include_pad=False`` leaves it out of the
    average): the first window is max(x0, x1), the last max(x5, x6, 0).  ``pad_window`` combines "zeros" and
    "zeros" into one larger zero padding.  Control: ``avg_pool1d`` counting the padding (a true zero fill)."""

    def __init__(self, kind="max", count_include_pad=True):
        super().__init__()
        self.kind, self.count_include_pad = kind, count_include_pad

    def forward(self, x):
        x = F.pad(x, (0, 1))
        if self.kind == "max":
            return F.max_pool1d(x, 3, 2, 1)
        return F.avg_pool1d(x, 3, 2, 1, count_include_pad=self.count_include_pad)


def pad_then_max_pool():
    return PadThenPool("max")


def pad_then_avg_pool_excluding_padding():
    return PadThenPool("avg", count_include_pad=False)


def pad_then_avg_pool_control():
    return PadThenPool("avg", count_include_pad=True)


# ----------------------------------------------------------------------------- 14. a global function a table layer calls


def _position_weighted(x, *args, **kwargs):
    """A stand-in for a patched library function: weights every column by its index (breaks every symmetry)."""
    return x * torch.arange(1, x.shape[-1] + 1, dtype=x.dtype, device=x.device)


#: (name, object, attribute, factory, input shape, claim): while ``object.attribute`` is replaced by
#: ``_position_weighted``, a table layer's library code calls it.  ``declined`` (props/_static_ops.py) compares
#: only the ``torch.nn.functional`` names in ``_FUNCTIONAL`` with their originals: ``nn.ReLU`` → ``F.relu`` (checked)
#: → ``torch.relu`` (not); ``nn.ReLU6`` → ``F.hardtanh``, ``nn.ELU`` → ``F.elu`` (not in the list).  Control: the
#: same layers unpatched (certified, true).
PATCHED_FUNCTIONS = [
    ("patched_torch_relu", torch, "relu", lambda: torch.nn.Sequential(torch.nn.ReLU()), (1, 8, 8),
     "translation-equivariant"),
    ("patched_torch_relu", torch, "relu", lambda: torch.nn.Sequential(torch.nn.ReLU()), (1, 8, 8),
     "flip-equivariant"),
    ("patched_hardtanh", F, "hardtanh", lambda: torch.nn.Sequential(torch.nn.ReLU6()), (1, 8, 8),
     "rot90-equivariant"),
    ("patched_elu", F, "elu", lambda: torch.nn.Sequential(torch.nn.ELU()), (1, 8, 8), "translation-equivariant"),
]

# ----------------------------------------------------------------------------- 15. state outside the module

_CALLS: collections.Counter = collections.Counter()  # calls per model, kept outside the model (a global cache)
_KEYS = iter(range(10**9))
_CLASS_CALLS: list = []


class OutsideState(torch.nn.Module):
    """The first call runs a circular D4-symmetric convolution, every later call a zero-padded lopsided one — the
    choice is kept in a global ``Counter`` (``where="global"``) or in a list on the class (``where="class"``),
    updated by a method call (``_CALLS[k] += 1`` would be an augmented assignment; ``.update``/``.append`` is a
    CALL).  ``trace`` (props/_static_trace.py) compares the module's own state (``_state``) before and after the
    trace, and ``_writes_in`` looks for store instructions only: neither sees a container outside the module.  The
    traced twin makes its first call, so the graph shows the circular branch; the module computes the other one
    from its second call on.  Control: ``where=""`` (always the circular branch)."""

    def __init__(self, where="global"):
        super().__init__()
        self.where, self.key = where, next(_KEYS)  # the key survives the deep copy: the twin shares the count
        self.first = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular", bias=False).double()
        self.later = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False).double()
        with torch.no_grad():
            self.first.weight.copy_(_symmetric_kernel())
            self.later.weight.copy_(_lopsided_kernel())

    def forward(self, x):
        if self.where == "global":
            _CALLS.update([self.key])
            calls = _CALLS[self.key]
        elif self.where == "class":
            type(self)._calls_of(self.key).append(None)
            calls = len(type(self)._calls_of(self.key))
        else:
            calls = 1
        return self.first(x) if calls == 1 else self.later(x)

    @staticmethod
    def _calls_of(key):
        while len(_CLASS_CALLS) <= key:
            _CLASS_CALLS.append([])
        return _CLASS_CALLS[key]


def outside_state_global():
    return OutsideState("global")


def outside_state_class():
    return OutsideState("class")


def outside_state_control():
    return OutsideState("")

# ----------------------------------------------------------------------------- 16. a copy that is not the module


class CopiedOtherwise(torch.nn.Module):
    """A D4-symmetric zero-padded convolution whose copy is circular: ``__setstate__`` (which ``copy.deepcopy``
    runs, as torch's own layers use it for backward compatibility) or ``__deepcopy__`` changes the padding.
    ``trace`` (props/_static_trace.py) analyses ``copy.deepcopy(module)`` and never compares the copy with the
    module: the twin is circular and translation-equivariant everywhere, the module is not.  Control: a
    ``__setstate__`` that keeps the state."""

    def __init__(self, how="setstate"):
        super().__init__()
        self.how = how
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1, bias=False).double()
        with torch.no_grad():
            self.conv.weight.copy_(_symmetric_kernel())

    def forward(self, x):
        return self.conv(x)

    def _circular(self):
        self.conv.padding_mode = "circular"
        self.conv._reversed_padding_repeated_twice = [1, 1, 1, 1]

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.how == "setstate":
            self._circular()

    def __deepcopy__(self, memo):
        twin = CopiedOtherwise.__new__(CopiedOtherwise)
        twin.__setstate__(copy.deepcopy(self.__dict__, memo))
        if self.how == "deepcopy":
            twin._circular()
        return twin


def copied_otherwise_setstate():
    return CopiedOtherwise("setstate")


def copied_otherwise_deepcopy():
    return CopiedOtherwise("deepcopy")


def copied_otherwise_control():
    return CopiedOtherwise("")

S7 = (1, 7, 7)

S8, S9 = (1, 8, 8), (1, 9, 9)

#: (name, factory, input shape, claim, holds) — ``holds`` is the oracle's answer (checked by the tests)
FALSE_CERTIFICATES = [
    ("masked_conv", masked_conv, S8, "rot90-equivariant", False),
    ("masked_conv", masked_conv, S8, "flip-equivariant", False),
    ("cast_weight_conv", cast_weight_conv, S8, "rot90-equivariant", False),
    ("cast_weight_conv", cast_weight_conv, S8, "flip-equivariant", False),
    ("double_circular", double_circular, S8, "translation-equivariant", False),
    ("nearest_034", nearest_034, S9, "translation-equivariant[stride=3]", False),
    ("nearest_301", nearest_301, S8, "rot90-equivariant", False),
    ("nearest_301", nearest_301, S8, "flip-equivariant", False),
    ("position_weighted", position_weighted, S8, "translation-invariant", False),
    ("position_weighted", position_weighted, S8, "rot90-invariant", False),
    ("position_weighted", position_weighted, S8, "flip-invariant", False),
    # round 2
    ("regular_times_constant", regular_times_constant, S7, "rot90-equivariant[channels=regular]", False),
    ("regular_cat_constant", regular_cat_constant, S7, "rot90-equivariant[channels=regular]", False),
    ("regular_layer_norm", regular_layer_norm, S7, "rot90-equivariant[channels=regular]", False),
    ("regular_instance_norm_running", regular_instance_norm_running, S7, "rot90-equivariant[channels=regular]",
     False),
    ("flat_prelu", flat_prelu, S8, "translation-invariant", False),
    ("flat_prelu", flat_prelu, S8, "rot90-invariant", False),
    ("flat_prelu", flat_prelu, S8, "flip-invariant", False),
    ("flat_batchnorm", flat_batchnorm, S8, "translation-invariant", False),
    ("flat_batchnorm", flat_batchnorm, S8, "flip-invariant", False),
    ("stale_circular_padding", stale_circular_padding, S8, "rot90-equivariant", False),
    ("stale_circular_padding", stale_circular_padding, S8, "flip-equivariant", False),
    ("resized_conv", resized_conv, S8, "rot90-equivariant", False),
    ("resized_conv", resized_conv, S8, "flip-equivariant", False),
    ("resized_conv_strided", resized_conv_strided, S9, "flip-equivariant", False),
    ("resized_p4_lifting", resized_p4_lifting, S9, "rot90-equivariant[channels=regular]", False),
    ("pool2d_on_signal", pool2d_on_signal, (4, 9), "flip-equivariant", False),
    ("pool2d_on_signal_module", pool2d_on_signal_module, (4, 9), "flip-equivariant", False),
    # round 3
    ("norm_of_padded", norm_of_padded, S8, "translation-equivariant", False),
    ("norm_of_padded_layer", norm_of_padded_layer, S8, "translation-equivariant", False),
    ("norm_of_padded_group", norm_of_padded_group, S8, "translation-equivariant", False),
    ("norm_of_padded_reflect", norm_of_padded_reflect, S8, "translation-equivariant[margin=1]", False),
    ("mixed_fill", mixed_fill, (1, 8), "flip-equivariant", False),
    ("mixed_fill_2d", mixed_fill_2d, S8, "rot90-equivariant", False),
    ("mixed_fill_2d", mixed_fill_2d, S8, "flip-equivariant", False),
    ("conv2d_on_signal", conv2d_on_signal, (3, 8), "translation-equivariant", False),
    ("hidden_state", hidden_state, S8, "rot90-equivariant", False),
    ("hidden_state", hidden_state, S8, "translation-equivariant", False),
    ("stale_same_padding", stale_same_padding, S8, "rot90-equivariant", False),
    ("stale_same_padding", stale_same_padding, S8, "flip-equivariant", False),
    # round 4
    ("pad_value_same", pad_value_same, (1, 8), "flip-equivariant", False),
    ("pad_value_same_2d", pad_value_same_2d, S8, "rot90-equivariant", False),
    ("pad_value_same_2d", pad_value_same_2d, S8, "flip-equivariant", False),
    ("constant_pad_module_same", constant_pad_module_same, S8, "rot90-equivariant", False),
    ("pad_then_max_pool", pad_then_max_pool, (1, 7), "flip-equivariant", False),
    ("pad_then_avg_pool_excluding_padding", pad_then_avg_pool_excluding_padding, (1, 7), "flip-equivariant",
     False),
    ("outside_state_global", outside_state_global, S8, "translation-equivariant", False),
    ("outside_state_global", outside_state_global, S8, "rot90-equivariant", False),
    ("outside_state_class", outside_state_class, S8, "flip-equivariant", False),
    ("copied_otherwise_setstate", copied_otherwise_setstate, S8, "translation-equivariant", False),
    ("copied_otherwise_deepcopy", copied_otherwise_deepcopy, S8, "translation-equivariant", False),
]

CONTROLS = [
    ("masked_conv_control", masked_conv_control, S8, "rot90-equivariant", True),
    ("masked_conv_control", masked_conv_control, S8, "flip-equivariant", True),
    ("cast_weight_conv_control", cast_weight_conv_control, S8, "rot90-equivariant", True),
    ("double_circular_control", double_circular_control, S8, "translation-equivariant", True),
    ("nearest_034_control", nearest_034_control, S9, "translation-equivariant[stride=3]", True),
    ("nearest_3_control", nearest_3_control, S8, "rot90-equivariant", True),
    ("nearest_3_control", nearest_3_control, S8, "flip-equivariant", True),
    ("nearest_size_control", NearestSize, S9, "translation-equivariant[stride=3]", True),
    ("position_weighted_control", position_weighted_control, S8, "translation-invariant", True),
    ("position_weighted_control", position_weighted_control, S8, "rot90-invariant", True),
    # round 2
    ("regular_times_constant_control", regular_times_constant_control, S7, "rot90-equivariant[channels=regular]",
     True),
    ("regular_cat_constant_control", regular_cat_constant_control, S7, "rot90-equivariant[channels=regular]", True),
    ("regular_layer_norm_control", regular_layer_norm_control, S7, "rot90-equivariant[channels=regular]", True),
    ("regular_instance_norm_running_control", regular_instance_norm_running_control, S7,
     "rot90-equivariant[channels=regular]", True),
    ("flat_prelu_control", flat_prelu_control, S8, "translation-invariant", True),
    ("flat_prelu_control", flat_prelu_control, S8, "rot90-invariant", True),
    ("flat_batchnorm_control", flat_batchnorm_control, S8, "translation-invariant", True),
    ("stale_circular_padding_control", stale_circular_padding_control, S8, "rot90-equivariant", True),
    ("stale_circular_padding_control", stale_circular_padding_control, S8, "flip-equivariant", True),
    ("resized_conv_control", resized_conv_control, S8, "rot90-equivariant", True),
    ("resized_conv_control", resized_conv_control, S8, "flip-equivariant", True),
    ("resized_conv_strided_control", resized_conv_strided_control, S9, "flip-equivariant", True),
    ("resized_p4_lifting_control", resized_p4_lifting_control, S9, "rot90-equivariant[channels=regular]", True),
    ("pool2d_on_signal_control", pool2d_on_signal_control, (4, 9), "flip-equivariant", True),
    # round 3
    ("norm_of_padded_control", norm_of_padded_control, S8, "translation-equivariant[margin=1]", True),
    ("norm_of_padded_control", norm_of_padded_control, S8, "rot90-equivariant", True),
    ("mixed_fill_control", mixed_fill_control, (1, 8), "flip-equivariant", True),
    ("conv2d_on_signal_control", conv2d_on_signal_control, (3, 8), "translation-equivariant", True),
    ("hidden_state_control", hidden_state_control, S8, "rot90-equivariant", True),
    ("stale_same_padding_control", stale_same_padding_control, S8, "rot90-equivariant", True),
    # round 4
    ("pad_value_same_control", pad_value_same_control, (1, 8), "flip-equivariant", True),
    ("pad_then_avg_pool_control", pad_then_avg_pool_control, (1, 7), "flip-equivariant", True),
    ("outside_state_control", outside_state_control, S8, "translation-equivariant", True),
    ("outside_state_control", outside_state_control, S8, "rot90-equivariant", True),
    ("copied_otherwise_control", copied_otherwise_control, S8, "rot90-equivariant", True),
]

#: (name, factory, input shape, claim): modules on which certify_static must give a verdict, not a traceback
NO_TRACEBACK = [
    ("roll_by_size", RollBySize, S8, "rot90-equivariant"),
    ("roll_by_size", RollBySize, S8, "flip-equivariant"),
    ("roll_last_axis", RollLastAxis, S8, "translation-equivariant"),
    ("roll_last_axis", RollLastAxis, S8, "rot90-equivariant"),
    ("sum_last_two", SumLastTwo, S8, "translation-invariant"),
    ("sum_last_two", SumLastTwo, S8, "flip-invariant"),
    ("times_row_vector", TimesRowVector, S8, "rot90-equivariant"),
    ("times_row_vector", TimesRowVector, S8, "flip-equivariant"),
    ("max_pool_empty_stride", MaxPoolEmptyStride, S8, "translation-equivariant[stride=2]"),
    ("max_pool_module_empty_stride", lambda: torch.nn.MaxPool2d(2, stride=()), S8,
     "translation-equivariant[stride=2]"),
    ("avg_pool_module_empty_stride", lambda: torch.nn.AvgPool2d(2, stride=()), S8,
     "translation-equivariant[stride=2]"),
    ("half_size_pool_default_claims", HalfSizePool, S8, None),  # None: no claims given (the default ones)
]
