"""Red team of the verdict paths that explain and measure: layer attribution (``find_culprit`` and the
audit's ``culprit``), the layerwise Lie derivative, the published metrics, the exact worst case, the shrunk
flipping input and the confidence intervals.

Every case states the mechanism it attacks and carries a control (the same model without the trick, on
which the code is right).  The ground truth comes from the oracles of ``red_team_measures_oracle.py``
(hooks of our own on every call, knock-outs checked on every shift, exhaustive loops over the orbit, our own
FFT shift, exact binomial sums, Monte Carlo coverage), never from the code under test.  Cases the current
code gets wrong are ``xfail(strict=True)``: they are recorded, and the day they pass the marker must go.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import convnet_invariances as ci
from convnet_invariances._errors import InvalidArgument, LayerError
from convnet_invariances._lie_layers import OUTSIDE
from convnet_invariances._output_actions import Same, Trivial
from red_team_measures_oracle import (
    Abs,
    Amplify,
    BatchCentred,
    BreaksOnlyWhenLarge,
    ColumnGain,
    Lattice,
    Loud,
    PositionNet,
    QuietBreak,
    RowGain,
    SignFlipColumn,
    Transpose,
    circular_conv,
    first_breaking_call,
    fourier_shift,
    holds_on_every_shift,
    knocked_out,
    per_element_break,
    violated,
    wilson_exact_coverage,
)

SHIFT = ci.CircularShift((0, 1))


def integers(shape, seed=0, dtype=torch.float64):
    return torch.randint(-3, 4, shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


def gap_head():
    return [nn.AdaptiveAvgPool2d(1), nn.Flatten()]


# ============================================================================ attribution: wrong answers


def test_in_place_breaker_is_named_not_the_layer_it_overwrote():
    """Mechanism: `_record` stores the output tensor of each module by reference; `ColumnGain(inplace=True)`
    multiplies that very tensor, so the circular convolution's recorded output already carries the break and
    the (equivariant) convolution is named.  Oracle: our hooks clone every input before each call; the first
    breaking call is `1`; knocking `1` out restores every shift.  Control: the same layer out of place is
    named correctly."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(circular_conv(), ColumnGain(6, inplace=True))
    control = nn.Sequential(circular_conv(), ColumnGain(6, inplace=False))
    assert first_breaking_call(model, x, SHIFT) == ("1", 0)
    assert holds_on_every_shift(knocked_out(model, "1"), x, "equivariant")
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "1"
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "1"


def test_the_audit_culprit_field_names_the_in_place_breaker():
    """Mechanism: as above, through `audit(...)` (`_audit.py` calls `find_culprit` on the shrunk
    counterexample).  Control: the out-of-place twin's audit names `1`."""
    model = nn.Sequential(circular_conv(), ColumnGain(6, inplace=True), *gap_head())
    control = nn.Sequential(circular_conv(), ColumnGain(6, inplace=False), *gap_head())
    assert ci.audit(control, (1, 6, 6), ["translation-invariant"], examples=2).results[0].culprit["layer"] == "1"
    result = ci.audit(model, (1, 6, 6), ["translation-invariant"], examples=2).results[0]
    assert result.verdict == "violated"
    assert result.culprit["layer"] == "1"


class CalledTwice(nn.Module):
    """`shared` is called first on zeros (keeps the symmetry: nothing moves) and then on the real input,
    where it breaks; `later` would break too, but only after `shared` has."""

    def __init__(self):
        super().__init__()
        self.shared = ColumnGain(6)
        self.conv = circular_conv()

    def forward(self, x):
        bias = self.shared(torch.zeros_like(x))
        return self.conv(self.shared(x)) + bias


def test_module_that_breaks_only_on_its_second_call():
    """Mechanism: `_record` records `(input, output)` of a module's first call only; `shared` is harmless on
    its first call (zeros) and breaks on its second, so no submodule is seen breaking and the root is named.
    Oracle: our hooks see every call; the second call of `shared` breaks.  Control: a model that calls
    `shared` once gets it named."""
    x = integers((1, 1, 6, 6))
    model = CalledTwice()
    assert first_breaking_call(model, x, SHIFT) == ("shared", 1)
    control = nn.Sequential(ColumnGain(6), circular_conv())
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "0"
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "shared"


class DictEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = circular_conv()

    def forward(self, x):
        return {"features": self.conv(x)}


class DictHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.gain = ColumnGain(6)

    def forward(self, d):
        return self.gain(d["features"])


def test_module_returning_a_dict_is_not_blamed():
    """Mechanism: `_first_tensor` reads tensors and tuples only; a dict output becomes None, `acted(None)` is
    None and the equivariant encoder is named with max_error=inf ('its output grid cannot follow').  Oracle:
    our hooks read dict values; the first breaking call is `1.gain`.  Control: the same encoder returning the
    tensor itself is not blamed."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(DictEncoder(), DictHead())
    assert first_breaking_call(model, x, SHIFT) == ("1.gain", 0)
    control = nn.Sequential(circular_conv(), ColumnGain(6))
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "1"
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "1.gain"


class TupleEncoder(nn.Module):
    """Returns (features, features with a gain along W): the second element, the one used, is broken."""

    def __init__(self):
        super().__init__()
        self.conv = circular_conv()

    def forward(self, x):
        y = self.conv(x)
        return y, y * torch.linspace(1, 2, y.shape[-1], dtype=y.dtype)


class Second(nn.Module):
    def forward(self, pair):
        return pair[1]


def test_module_whose_second_output_breaks():
    """Mechanism: only the first tensor of a tuple output is compared; the encoder's second output (the one
    the network uses) is broken, the encoder looks fine and the root is named.  Oracle: our hooks compare
    every output tensor: `0` breaks.  Control: with the outputs swapped, `0` is named."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(TupleEncoder(), Second(), circular_conv(seed=1))
    assert first_breaking_call(model, x, SHIFT) == ("0", 0)

    class Swapped(TupleEncoder):
        def forward(self, x):
            a, b = super().forward(x)
            return b, a

    class First(nn.Module):
        def forward(self, pair):
            return pair[0]

    control = nn.Sequential(Swapped(), First(), circular_conv(seed=1))
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "0"
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "0"


def test_transposing_layer_is_not_blamed_for_a_later_break():
    """Mechanism: `acted` shifts every activation by the input's shift (scaled by size); a layer that swaps H
    and W is equivariant with the swapped action (a vertical shift of the input is a horizontal one after
    it), but judged against the unswapped one it 'breaks' and is named.  Oracle (knock-out, every shift):
    without `ColumnGain` the network is invariant; without the transpose it is still violated.  Control:
    without the transpose, `ColumnGain` is named for the horizontal shift."""
    x = integers((1, 1, 6, 6))
    vertical = ci.CircularShift((1, 0))
    model = nn.Sequential(Transpose(), ColumnGain(6), *gap_head())
    assert violated(model, x, vertical, "invariant")
    assert holds_on_every_shift(knocked_out(model, "1"), x, "invariant")
    assert not holds_on_every_shift(knocked_out(model, "0"), x, "invariant")
    control = nn.Sequential(nn.Identity(), ColumnGain(6), *gap_head())
    assert ci.find_culprit(control, x, SHIFT, Trivial()).layer == "1"
    assert ci.find_culprit(model, x, vertical, Trivial()).layer == "1"


def test_circular_pad_then_valid_conv_is_not_blamed():
    """Mechanism: `acted` maps a shift t of an N-pixel input to t*n/N on an n-pixel activation; a circular pad
    grows 6 to 8, 1*8/6 is not an integer, and `CircularPad2d` is named ('its output grid cannot follow').
    The pad followed by a valid convolution is exactly a circular convolution.  Oracle (knock-out, every
    shift): without `ColumnGain` the network is invariant.  Control: the same weights as one circular conv
    get `ColumnGain` named."""
    x = integers((1, 1, 6, 6))
    valid = nn.Conv2d(1, 1, 3, bias=False).double()
    folded = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False).double()
    folded.load_state_dict(valid.state_dict())
    model = nn.Sequential(nn.CircularPad2d(1), valid, ColumnGain(6), *gap_head())
    control = nn.Sequential(nn.Identity(), folded, ColumnGain(6), *gap_head())
    assert torch.allclose(model(x), control(x))
    assert holds_on_every_shift(knocked_out(model, "2"), x, "invariant")
    assert ci.find_culprit(control, x, SHIFT, Trivial()).layer == "2"
    assert ci.find_culprit(model, x, SHIFT, Trivial()).layer == "2"


class PoolPlusCorner(nn.Module):
    """An invariant branch (circular conv, global pool) plus a functional read of pixel (0, 0)."""

    def __init__(self):
        super().__init__()
        self.conv = circular_conv()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.conv(x)).flatten(1) + x[:, :, 0, 0]


def test_global_pool_is_not_blamed_for_a_functional_break():
    """Mechanism: a (N, C, 1, 1) activation is not treated as invariant (only dim < 3 is); a shift by 1 cannot
    act on it, so the global pool is named as the culprit with max_error 0.0, for a break that is a
    functional read of one pixel in the root's forward.  Oracle: knocking the pool out changes nothing
    about the violation (the corner read alone breaks it); the pool's output is bitwise equal on x and g·x.
    Control: a pool that returns a flat (N, C) tensor is not blamed (the root is)."""
    x = integers((1, 1, 6, 6))
    model = PoolPlusCorner()
    assert violated(model, x, SHIFT, "invariant")
    with torch.no_grad():
        assert torch.equal(model.pool(model.conv(x)), model.pool(model.conv(SHIFT(x))))

    class FlatPool(nn.Module):
        def forward(self, h):
            return h.mean((-2, -1))

    control = PoolPlusCorner()
    control.pool = FlatPool()
    control.forward = lambda t: control.pool(control.conv(t)) + t[:, :, 0, 0]
    assert ci.find_culprit(control, x, SHIFT, Trivial()).layer == "PoolPlusCorner"
    culprit = ci.find_culprit(model, x, SHIFT, Trivial())
    assert culprit is None or culprit.layer != "pool"


def test_quiet_channel_break_is_not_hidden_by_a_loud_channel():
    """Mechanism: `_kept` compares the max error with `float_tolerance(max |value| of the whole activation,
    numel of a sample)`; a channel at 1e6 lifts the bound to ~1e2, so a break of ~1 in the quiet channel
    passes, no layer breaks, and `find_culprit` returns None for a violated claim.  DESIGN.md: 'a loud
    channel must not hide a quiet one's violation'.  Oracle: per-element bound of 64 ulps of each element:
    `1` breaks.  Control: without the loud channel, `QuietBreak` is named."""
    x = torch.randn(1, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(Loud(), QuietBreak(), nn.Conv2d(2, 2, 1))

    class Quiet(nn.Module):
        def forward(self, h):
            return torch.cat([h[:, :1], h[:, :1]], 1)

    control = nn.Sequential(Quiet(), QuietBreak(), nn.Conv2d(2, 2, 1))
    assert first_breaking_call(model, x, SHIFT) == ("1", 0)
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "1"
    culprit = ci.find_culprit(model, x, SHIFT, Same())
    assert culprit is not None and culprit.layer == "1"


def test_bfloat16_break_is_attributed():
    """Mechanism: `_kept` uses `float_tolerance(scale, numel of a sample, dtype)`; with bfloat16
    (u = 2^-8) a 16x16 map has n·u = 1, γ = inf, every comparison passes and `find_culprit` returns None
    although the model breaks bitwise on integer inputs (error 6).  Oracle: our hooks, bitwise on integers:
    `0` breaks.  Control: the same model in float32 is attributed."""
    model = nn.Sequential(ColumnGain(16)).to(torch.bfloat16)
    x = integers((1, 1, 16, 16), dtype=torch.bfloat16)
    with torch.no_grad():
        assert not torch.equal(model(SHIFT(x)), SHIFT(model(x)))
    assert first_breaking_call(model, x, SHIFT) == ("0", 0)
    assert ci.find_culprit(model.float(), x.float(), SHIFT, Same()).layer == "0"
    model = model.to(torch.bfloat16)
    culprit = ci.find_culprit(model, x, SHIFT, Same())
    assert culprit is not None and culprit.layer == "0"


def test_module_adding_a_constant_passed_first():
    """Mechanism: `_first_tensor(args)` judges `add(pos, h)` on `pos`, a constant that does not move with the
    input, concludes its input is 'already off' and skips it; the root is named.  Oracle: our hooks treat an
    argument equal in both runs as a constant: `add` breaks.  Control: `add(h, pos)` gets `add` named."""
    x = integers((1, 1, 6, 6))
    model, control = PositionNet(6, constant_first=True), PositionNet(6, constant_first=False)
    assert first_breaking_call(model, x, SHIFT) == ("add", 0)
    assert ci.find_culprit(control, x, SHIFT, Same()).layer == "add"
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "add"


# ============================================================================ attribution: withstood


def test_the_first_breaker_is_named_when_a_later_layer_restores_the_symmetry():
    """Mechanism: a sign flip of column 0 breaks, `Abs` restores, `ColumnGain` breaks again; a check that
    looks for 'the layer after which it is broken' would pick the last.  Oracle: our hooks, first breaking
    call `0`.  Control: without the first break, `2` is named."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(SignFlipColumn(), Abs(), ColumnGain(6))
    assert first_breaking_call(model, x, SHIFT) == ("0", 0)
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "0"
    assert ci.find_culprit(nn.Sequential(nn.Identity(), Abs(), ColumnGain(6)), x, SHIFT, Same()).layer == "2"


def test_a_layer_that_breaks_only_on_the_activations_it_receives():
    """Mechanism: `BreaksOnlyWhenLarge` is equivariant on any fresh N(0, 1) input and breaks only after
    `Amplify`; judging it on fresh random input would miss it.  Oracle: on fresh inputs it keeps every
    shift; our hooks name `2`.  Control: without `Amplify` the model keeps the symmetry."""
    x = integers((1, 1, 6, 6))
    fresh = torch.randn(8, 1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert holds_on_every_shift(BreaksOnlyWhenLarge(), fresh, "equivariant")
    model = nn.Sequential(circular_conv(), Amplify(), BreaksOnlyWhenLarge())
    assert first_breaking_call(model, x, SHIFT) == ("2", 0)
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "2"
    assert not violated(nn.Sequential(circular_conv(), BreaksOnlyWhenLarge()), x, SHIFT)


class ComposesWrongly(nn.Module):
    """Two equivariant children, composed with a transpose of one of them: the container breaks."""

    def __init__(self):
        super().__init__()
        self.a, self.b = circular_conv(), circular_conv(seed=1)

    def forward(self, x):
        return self.a(x) + self.b(x).transpose(-1, -2)


def test_container_whose_children_are_fine_but_whose_forward_composes_them_wrongly():
    """Mechanism: children keep the symmetry; the break is in the container's own forward.  Oracle: our hooks
    name `1` (the container) after its children complete.  Control: a child breaking is named instead."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(circular_conv(seed=2), ComposesWrongly())
    assert first_breaking_call(model, x, SHIFT) == ("1", 0)
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "1"


def test_a_break_planted_in_a_forward_hook_is_pinned_on_the_hooked_module():
    """Mechanism: the user's forward hook on `0` multiplies its output by a ramp; the module itself is fine.
    The hook is part of the module's call: `0` must be named, not `1` nor None.  Oracle: our hooks (added
    after the user's) see the hooked output."""
    x = integers((1, 1, 6, 6))
    model = nn.Sequential(circular_conv(), circular_conv(seed=1))
    model[0].register_forward_hook(lambda m, a, out: out * torch.linspace(1, 2, 6, dtype=out.dtype))
    assert first_breaking_call(model, x, SHIFT) == ("0", 0)
    assert ci.find_culprit(model, x, SHIFT, Same()).layer == "0"


class FunctionalBreak(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = circular_conv(), circular_conv(seed=1)

    def forward(self, x):
        return self.b(self.a(x) * torch.linspace(1, 2, x.shape[-1], dtype=x.dtype))


def test_a_functional_break_between_modules_is_not_pinned_on_a_neighbour():
    """Mechanism: the break is a functional multiply between `a` and `b`; neither neighbour may be named.
    Oracle: our hooks name the root.  Control: the audit of the same pattern in a module is covered above."""
    x = integers((1, 1, 6, 6))
    assert first_breaking_call(FunctionalBreak(), x, SHIFT) == ("", 0)
    assert ci.find_culprit(FunctionalBreak(), x, SHIFT, Same()).layer == "FunctionalBreak"


def test_a_stride_two_layer_is_not_blamed_for_an_even_shift():
    """Mechanism: a stride-2 circular convolution keeps shifts by 2 with output action t -> t/2; a per-layer
    check that moves every activation by the input's shift would blame it.  Oracle (knock-out): without
    `ColumnGain` every even shift keeps the claim.  Control: a shift by 1 names the stride (test_attribution)."""
    x = integers((1, 1, 8, 8))
    stride = nn.Conv2d(1, 1, 3, stride=2, padding=1, padding_mode="circular", bias=False).double()
    model = nn.Sequential(stride, ColumnGain(4), *gap_head())
    element = ci.CircularShift((0, 2))
    assert violated(model, x, element, "invariant")
    assert not violated(knocked_out(model, "1"), x, element, "invariant")
    assert ci.find_culprit(model, x, element, Trivial()).layer == "1"


def test_find_culprit_leaves_the_model_and_the_input_as_they_were():
    """Mechanism: an in-place first layer would write into the caller's x, and hooks could be left behind."""
    x = integers((1, 1, 6, 6))
    x0 = x.clone()
    model = nn.Sequential(ColumnGain(6, inplace=True), circular_conv())
    state = copy.deepcopy(model.state_dict())
    ci.find_culprit(model, x, SHIFT, Same())
    assert torch.equal(x, x0)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules() if m is not model[0])


# ============================================================================ layerwise Lie derivative


def _double(*layers):
    torch.manual_seed(0)
    return nn.Sequential(*layers).double()


def test_layerwise_circular_pad_then_valid_conv_does_not_outweigh_the_true_source():
    """Mechanism: `activation_tangent` moves a 16-pixel map at 16/12 of the input's speed; after a circular
    pad (12 -> 16) the content moves at the input's speed, so the pad and the valid conv after it each get
    a spurious term (they cancel in the sum), larger than the real source, a slightly zero-padded conv.
    Oracle: the same weights folded into one circular conv compute the same function (equal outputs) and
    their terms sit at float64 rounding, with the zero-padded conv largest.  Control: that folded network."""
    torch.manual_seed(0)
    first = nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    valid = nn.Conv2d(2, 2, 5)
    source = nn.Conv2d(2, 2, 3, padding=1)  # zero padding: the only real source
    with torch.no_grad():
        source.weight.mul_(0.01)
    folded = nn.Conv2d(2, 2, 5, padding=2, padding_mode="circular")
    folded.load_state_dict(valid.state_dict())
    model = nn.Sequential(first, nn.CircularPad2d(2), valid, source, *gap_head()).double()
    control = nn.Sequential(first, nn.Identity(), folded, source, *gap_head()).double()
    x = torch.randn(4, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(model(x), control(x), rtol=0, atol=1e-12)
    reference = ci.layerwise_lie_derivative(control, x, "translation-x", output_action="invariant")
    assert reference.largest() == "3"
    assert float(reference.relative["2"].max()) < 1e-12
    measured = ci.layerwise_lie_derivative(model, x, "translation-x", output_action="invariant")
    assert measured.largest() == "3"
    # the pad and the valid conv either get no term of their own (a padded map moves by no fixed amount: their
    # share stays in the remainder) or a term at rounding; either way nothing spurious outweighs the source
    for name in ("1", "2", OUTSIDE):
        assert name not in measured.relative or float(measured.relative[name].max()) < 1e-12, name


def test_layerwise_in_place_relu_is_measured_on_its_real_input():
    """Mechanism: the recorder is a forward *post* hook; `ReLU(inplace=True)` has already overwritten its
    argument, so its local derivative is taken at relu(u) instead of u and the difference lands in
    '(outside modules)', although the network has no functional operation at all.  Oracle: the out-of-place
    twin computes the same function; its terms are the truth (remainder at rounding).  Control: that twin."""
    torch.manual_seed(0)
    c1 = nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    c2 = nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular")
    model = nn.Sequential(c1, nn.ReLU(inplace=True), c2, *gap_head()).double()
    control = nn.Sequential(c1, nn.ReLU(), c2, *gap_head()).double()
    x = torch.randn(4, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    truth = ci.layerwise_lie_derivative(control, x, "translation-x", output_action="invariant")
    assert float(truth.relative[OUTSIDE].max()) < 1e-12
    measured = ci.layerwise_lie_derivative(model, x, "translation-x", output_action="invariant")
    assert torch.allclose(measured.total, truth.total, atol=1e-12)
    assert float(measured.relative[OUTSIDE].max()) < 1e-12
    assert torch.allclose(measured.relative["1"], truth.relative["1"], rtol=1e-9)


def test_layerwise_terms_add_up_and_the_zero_padded_conv_is_largest():
    """Mechanism (withstood): a chain of leaf modules with no functional operation; the terms must add up to
    the end-to-end derivative (remainder at rounding), the end-to-end total must match an independent
    finite difference of our own FFT shift, and the zero-padded conv must be the largest term.  Control:
    the circular conv and the pool sit at rounding."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"), nn.Identity(),
                          nn.Conv2d(4, 4, 3, padding=1), *gap_head()).double()
    x = torch.randn(2, 1, 11, 11, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = ci.layerwise_lie_derivative(model, x, "translation-x", output_action="invariant")
    assert float(result.remainder.abs().max()) < 1e-10 * float(result.total.abs().max())
    h = 1e-4
    with torch.no_grad():
        fd = (model(fourier_shift(x, 0, h)) - model(fourier_shift(x, 0, -h))) / (2 * h)
    assert torch.allclose(result.total, fd, rtol=1e-5, atol=1e-9)
    assert result.largest() == "2"
    assert float(result.relative["0"].max()) < 1e-12


# ============================================================================ consistency (Zhang)


def test_consistency_leaves_a_train_mode_batchnorm_as_it_was():
    """Mechanism: `consistency` runs `module(...)` on the caller's module, not on an eval-mode copy: a
    BatchNorm in train mode normalises with batch statistics and its running statistics and
    `num_batches_tracked` change.  DESIGN: measures must not change the user's module.  Control:
    `top1_change` on the same module leaves it unchanged."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"), nn.BatchNorm2d(4), *gap_head())
    x = torch.randn(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    state = copy.deepcopy(model.state_dict())
    ci.top1_change(model, x, boundary="circular")
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    ci.consistency(model, x)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_consistency_of_a_model_with_dropout_is_measured_in_eval_mode_and_keeps_the_rng():
    """Mechanism: a circular-conv + global-pool classifier is exactly invariant to circular shifts; with a
    train-mode Dropout, `consistency` measures noise (about 40%) and draws from the global RNG.  Oracle: the
    model in eval mode agrees on every pair of shifts (exhaustive).  Control: the same model in eval mode
    gets 100%."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"), *gap_head(), nn.Dropout(0.5))
    x = torch.randn(32, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert holds_on_every_shift(copy.deepcopy(model).eval(), x[:2], "invariant", rel=1e-5)
    assert ci.consistency(copy.deepcopy(model).eval(), x)["consistency"] == 1.0
    rng = torch.get_rng_state()
    result = ci.consistency(model, x)
    assert torch.equal(rng, torch.get_rng_state())
    assert result["consistency"] == 1.0


def _true_consistency_lattice(images, max_shift, pairs_per_image, generator):
    """Zhang's protocol by brute force: per image, independent random pairs of different shifts."""
    model, agree, total = Lattice(), 0, 0
    for image in images:
        for _ in range(pairs_per_image):
            a = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
            b = a
            while b == a:
                b = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
            ya = model(torch.roll(image[None], a, (-2, -1))).argmax(1)
            yb = model(torch.roll(image[None], b, (-2, -1))).argmax(1)
            agree += int(ya == yb)
            total += 1
    return agree / total


def test_consistency_interval_covers_zhangs_consistency():
    """Mechanism: each round draws one pair (a, b) shared by every image; the N agreements are then
    correlated (all decided by whether a - b lies in the model's symmetry lattice) while the Wilson interval
    treats them as N independent trials.  On a model invariant to 2Z^2 shifts only, a call reports 0% or
    100% with a narrow interval.  Oracle: per-image independent pairs (Zhang's protocol) give the true
    consistency (~0.3); over 10 seeds on fresh images, a 95% interval must contain it most of the time
    (we ask 8 of 10).  Control: the oracle's own estimate is stable across halves."""
    generator = torch.Generator().manual_seed(123)
    population = torch.randn(64, 1, 8, 8, generator=generator)
    truth = _true_consistency_lattice(population, 2, 16, generator)
    half = _true_consistency_lattice(population[:32], 2, 16, generator)
    assert abs(truth - half) < 0.08 and 0.1 < truth < 0.6
    hits = 0
    for seed in range(10):
        images = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(1000 + seed))
        lo, hi = ci.consistency(Lattice(), images, seed=seed)["consistency_ci"]
        hits += lo <= truth <= hi
    assert hits >= 8, f"the 95% interval contained the true consistency {truth:.3f} in {hits} of 10 calls"


# ============================================================================ top1_change, eq_psnr


def test_top1_change_does_not_write_into_the_users_images():
    """Mechanism: `_evaluated(model, inputs)` calls `module(inputs)` on the caller's tensor;
    `ReLU(inplace=True)` as first layer zeroes its negative pixels.  Control: `worst_case_accuracy` (which
    goes through `ProtectedLayer`) leaves the same tensor as it was."""
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(1, 3, 3, padding=1), *gap_head())
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    x0 = x.clone()
    ci.worst_case_accuracy(model, x, torch.zeros(4, dtype=torch.long), ci.c4())
    assert torch.equal(x, x0)
    ci.top1_change(model, x)
    assert torch.equal(x, x0)


def test_eq_psnr_of_an_in_place_model_equals_its_out_of_place_twin():
    """Mechanism: `reference = f(inputs)` runs first and, with `ReLU(inplace=True)`, leaves relu(x) in the
    caller's tensor; the moved inputs are then moves of relu(x), not of x, and the measure reads the
    aliasing of the ReLU as smaller.  Oracle: the out-of-place twin computes the same function.
    Control: that twin (and the caller's tensor must be left as it was)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular").double()
    model = nn.Sequential(nn.ReLU(inplace=True), conv)
    control = nn.Sequential(nn.ReLU(), conv)
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x0 = x.clone()
    truth = ci.eq_psnr(control, x.clone())["psnr_db"]
    measured = ci.eq_psnr(model, x)["psnr_db"]
    assert measured == pytest.approx(truth, abs=1e-6)
    assert torch.equal(x, x0)


def _true_eq_t(model, max_shift, draws, generator):
    """EQ-T over the whole population by Monte Carlo, with our own FFT shift: fresh images, per image a fresh
    random sub-pixel move of size U[max_shift/4, max_shift] in a uniform direction."""
    x = torch.randn(draws, 1, 7, 7, generator=generator, dtype=torch.float64)
    size = max_shift * (0.25 + 0.75 * torch.rand(draws, generator=generator, dtype=torch.float64))
    angle = 2 * math.pi * torch.rand(draws, generator=generator, dtype=torch.float64)
    dy, dx = size * torch.sin(angle), size * torch.cos(angle)
    with torch.no_grad():
        mse = (model(fourier_shift(x, dy, dx)) - fourier_shift(model(x), dy, dx)).pow(2).flatten(1).mean(1).tolist()
    return 10 * math.log10(4 / (sum(mse) / len(mse)))


def test_eq_psnr_interval_covers_the_population_value():
    """Mechanism: the `draws` moves are shared by every sample; on a model whose error depends on the
    direction of motion (equivariant horizontally, not vertically) the four shared directions decide the
    value, and the bootstrap over N x draws pairs ignores that variance: the 95% interval is a few dB wide
    around a value that moves by ~10 dB from seed to seed.  Oracle: EQ-T of the population (fresh image,
    fresh move per sample, our FFT shift, 40000 draws).  We ask the interval to contain it in 10 of 12 seeds
    on fresh images.  Control: the oracle's estimate on two independent halves agrees within 0.5 dB."""
    generator = torch.Generator().manual_seed(7)
    a, b = _true_eq_t(RowGain(), 0.5, 20000, generator), _true_eq_t(RowGain(), 0.5, 20000, generator)
    assert abs(a - b) < 0.5
    truth = (a + b) / 2
    hits = 0
    for seed in range(12):
        images = torch.randn(16, 1, 7, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(50 + seed))
        lo, hi = ci.eq_psnr(RowGain(), images, seed=seed)["psnr_db_ci"]
        hits += lo <= truth <= hi
    assert hits >= 10, f"the 95% interval contained the population EQ-T {truth:.2f} dB in {hits} of 12 calls"


def test_eq_psnr_is_not_infinite_on_a_non_equivariant_model():
    """Mechanism: `data_range` is validated with `value > 0`, which inf passes; `10·log10(inf/MSE)` is inf,
    the documented value of an exactly equivariant f, on a column mask.  Control: a finite data range gives
    a finite, low PSNR."""
    model = ColumnGain(8)
    x = torch.randn(4, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert ci.eq_psnr(model, x)["psnr_db"] < 40
    with pytest.raises(InvalidArgument, match="data_range"):
        ci.eq_psnr(model, x, data_range=float("inf"))


# ============================================================================ intervals


@pytest.mark.parametrize("p, n", [(0.001, 100), (0.003, 32), (0.9, 1)])
def test_the_share_interval_the_measures_use_covers_near_the_boundary(p, n):
    """Mechanism: the Wilson lower end at k = 1 lies above small p, so P(cover) = P(k = 0) ≈ e^{-np} < 0.95
    for np ≈ 0.1; at n = 1 the interval for k = 1 starts at 0.21 and for k = 0 ends at 0.79, so p = 0.9 is
    covered only when k = 1.  Oracle: exact binomial sum.  The measures (consistency, top1_change) now use the
    Clopper–Pearson interval, whose coverage is at least nominal for every p and n; `wilson_interval` stays,
    documented with that dip (checked: it is really below nominal there, so the docstring's warning is true).
    Control: at p = 0.5, n = 20 both cover above 0.95."""
    assert wilson_exact_coverage(ci.wilson_interval, 0.5, 20) > 0.95
    assert wilson_exact_coverage(ci.clopper_pearson_interval, 0.5, 20) > 0.95
    assert wilson_exact_coverage(ci.clopper_pearson_interval, p, n) >= 0.95 - 1e-9
    assert wilson_exact_coverage(ci.wilson_interval, p, n) < 0.95
    assert "coverage dips" in ci.wilson_interval.__doc__


def test_bootstrap_interval_covers_the_mean_at_small_n():
    """Mechanism: the percentile bootstrap of a mean is too narrow by about sqrt((n-1)/n) and ignores the
    t-quantile; at n = 5 its 95% interval covers a normal mean ~80% of the time.  Oracle: Monte Carlo, 300
    samples of N(0, 1)^5.  We ask >= 0.90.  Control: at n = 200 coverage is near nominal."""
    def coverage(n, reps, seed):
        g = torch.Generator().manual_seed(seed)
        hits = 0
        for r in range(reps):
            lo, hi = ci.bootstrap_interval(torch.randn(n, generator=g, dtype=torch.float64), seed=r)
            hits += lo <= 0.0 <= hi
        return hits / reps

    assert coverage(200, 100, 1) >= 0.88
    assert coverage(5, 300, 2) >= 0.90


def test_intervals_at_the_edges():
    """Withstood: k = 0, k = n, n = 1 give ordered intervals inside [0, 1] containing the observed share; a
    constant sample gives a point; one sample gives a (documented) point."""
    for k, n in [(0, 1), (1, 1), (0, 50), (50, 50), (1, 2)]:
        for interval in (ci.wilson_interval, ci.clopper_pearson_interval):
            lo, hi = interval(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert ci.bootstrap_interval(torch.full((10,), 3.0)) == (3.0, 3.0)
    assert ci.bootstrap_interval(torch.tensor([2.0])) == (2.0, 2.0)


# ============================================================================ worst case and shrinking


class OneShiftFlips(nn.Module):
    """Class 1 only when pixel (2, 3) is the brightest: one orbit element out of 35 flips an impulse at (0, 0)."""

    def forward(self, x):
        flat = x[:, 0].flatten(1)
        hit = (flat.argmax(1) == 2 * x.shape[-1] + 3).to(x.dtype)
        return torch.stack([1 - hit, hit], 1)


def test_worst_case_accuracy_matches_an_exhaustive_loop():
    """Withstood: a model that flips under exactly one element of the 5x7 torus; the orbit must not be
    sampled.  Oracle: our loop over every element, one sample at a time.  Control: the identity is never a
    flip."""
    x = torch.zeros(3, 1, 5, 7)
    x[0, 0, 0, 0] = 1.0
    x[1, 0, 1, 1] = 1.0
    x[2, 0, 4, 6] = 2.0
    labels = torch.zeros(3, dtype=torch.long)
    group = ci.Translations((5, 7))
    result = ci.worst_case_accuracy(OneShiftFlips(), x, labels, group, memory_budget=3 * 35 * 4 * 7)
    model = OneShiftFlips()
    for n in range(3):
        preds = [int(model(g(x[n:n + 1])).argmax(1)) for g in group.elements()]
        assert [bool(p == 0) for p in preds] == result.correct[:, n].tolist()
        assert result.flips[n] is None or result.flips[n] != group.elements()[0]
    assert result.worst_case_accuracy == 0.0 and result.clean_accuracy == 1.0


def test_worst_case_accuracy_refuses_a_batch_coupled_model():
    """Mechanism: the orbit is evaluated as one batch of G·N images and the clean inputs as one of N; a model
    that centres its score on the batch mean is not a function of its input, so every number is an artefact
    of the batch (here clean accuracy 1.0, while each sample alone is predicted class 0 and sample 1 is
    wrong).  Oracle: one sample and one element per call.  Control: the per-sample oracle itself."""
    x = torch.zeros(2, 1, 3, 3)
    x[0, 0, 0, 0] = 1.0
    x[1, 0, 1, 1] = 5.0
    labels = torch.tensor([0, 1])
    model = BatchCentred()
    alone = [int(model(x[n:n + 1]).argmax(1)) for n in range(2)]
    assert alone == [0, 0]
    with pytest.raises((LayerError, InvalidArgument)):
        ci.worst_case_accuracy(model, x, labels, ci.Translations((3, 3)))


class CornerSign(nn.Module):
    """Two class scores from a weighted 3x3 corner patch and a global mean: flips under most shifts."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(1)

    def forward(self, x):
        h = self.bn(x)
        corner = h[:, 0, :3, :3].sum((1, 2))
        return torch.stack([corner, h.mean((1, 2, 3)) * 3], 1)


@pytest.mark.parametrize("seed", range(4))
def test_shrunk_input_really_flips_when_re_run(seed):
    """Withstood: the shrunk input must flip when we re-run the model ourselves (eval mode, as documented),
    on a model with a BatchNorm left in train mode (whose batch statistics would differ)."""
    model = CornerSign()
    with torch.no_grad():
        model.bn.running_mean.fill_(0.3)
        model.bn.running_var.fill_(2.0)
    model.train()
    element = ci.CircularShift((1, 2))
    g = torch.Generator().manual_seed(seed)
    for _ in range(50):
        x = torch.randn(1, 1, 6, 6, generator=g)
        with torch.no_grad():
            ev = copy.deepcopy(model).eval()
            if int(ev(x).argmax(1)) != int(ev(element(x)).argmax(1)):
                break
    else:
        pytest.skip("no flipping input drawn")
    found = ci.shrink_flipping_input(model, x, element)
    assert model.training
    with torch.no_grad():
        ev = copy.deepcopy(model).eval()
        before, after = int(ev(found.x).argmax(1)), int(ev(element(found.x)).argmax(1))
    assert (before, after) == (found.before, found.after) and before != after
    assert found.nonzero == int(torch.count_nonzero(found.x))


# ============================================================================ bad arguments


BAD_CALLS = {
    "consistency pairs=0": lambda: ci.consistency(Lattice(), torch.randn(4, 1, 8, 8), pairs=0),
    "consistency empty inputs": lambda: ci.consistency(Lattice(), torch.randn(0, 1, 8, 8)),
    "consistency max_shift=-2": lambda: ci.consistency(Lattice(), torch.randn(4, 1, 8, 8), max_shift=-2),
    "consistency input_shape=(3, 8)": lambda: ci.consistency(Lattice(), input_shape=(3, 8)),
    "consistency module=3": lambda: ci.consistency(3, torch.randn(4, 1, 8, 8)),
    "top1_change empty inputs": lambda: ci.top1_change(Lattice(), torch.randn(0, 1, 8, 8)),
    "top1_change NaN inputs": lambda: ci.top1_change(Lattice(), torch.full((2, 1, 8, 8), float("nan"))),
    "eq_psnr empty inputs": lambda: ci.eq_psnr(nn.Identity(), torch.randn(0, 1, 8, 8)),
    "eq_psnr NaN inputs": lambda: ci.eq_psnr(nn.Identity(), torch.full((2, 1, 8, 8), float("nan"))),
    "eq_psnr float16 inputs": lambda: ci.eq_psnr(nn.Identity(), torch.randn(2, 1, 8, 8).half()),
    "shrink on a 4-D output": lambda: ci.shrink_flipping_input(
        lambda t: t.roll(1, -1) * torch.arange(8.0), torch.randn(1, 2, 8, 8), ci.CircularShift((0, 1))),
    "bootstrap values='abc'": lambda: ci.bootstrap_interval("abc"),
    "bootstrap seed='a'": lambda: ci.bootstrap_interval(torch.randn(5), seed="a"),
    "bootstrap NaN values": lambda: ci.bootstrap_interval(torch.tensor([1.0, float("nan")])),
    "layerwise empty batch": lambda: ci.layerwise_lie_derivative(
        nn.Sequential(nn.Conv2d(1, 1, 3)), torch.randn(0, 1, 8, 8), "translation-x", output_action="invariant"),
    "find_culprit on a function": lambda: ci.find_culprit(lambda t: t, torch.randn(1, 1, 6, 6), SHIFT),
    "find_culprit element=None": lambda: ci.find_culprit(nn.Identity(), torch.randn(1, 1, 6, 6), None),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_arguments_raise_invalid_argument(case):
    """Mechanism: argument validation of the measures.  Each call must raise InvalidArgument (or, for NaN in
    the data, a LayerError/InvalidArgument), never another exception, a NaN result, or None.  Control:
    `test_bad_arguments_control` (the same functions reject what they do validate)."""
    try:
        result = BAD_CALLS[case]()
    except (InvalidArgument, LayerError):
        return
    raise AssertionError(f"{case}: returned {str(result)[:120]}")


def test_bad_arguments_control():
    """Control for the case above: what the measures do validate, they reject clearly."""
    with pytest.raises(InvalidArgument, match="confidence"):
        ci.top1_change(Lattice(), torch.randn(2, 1, 8, 8), confidence=1)
    with pytest.raises(InvalidArgument, match="labels"):
        ci.worst_case_accuracy(Lattice(), torch.randn(2, 1, 8, 8), torch.zeros(2), ci.c4())
    with pytest.raises(InvalidArgument, match="draws"):
        ci.eq_psnr(nn.Identity(), torch.randn(2, 1, 8, 8), draws=True)
    with pytest.raises(LayerError):
        ci.shrink_flipping_input(lambda t: t.flatten(), torch.randn(1, 2, 8, 8), ci.CircularShift((0, 1)))
    assert per_element_break(torch.ones(2), torch.ones(2), torch.float32) is False
