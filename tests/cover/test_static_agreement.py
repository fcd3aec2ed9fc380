"""The oracle of the static certifier: every static verdict that is not ``unknown`` agrees with the exhaustive check.

Random layer stacks (``static_models.stacks``) in float64 with small-integer
weights; for each claim the input shape carries, the static verdict is
compared with the exhaustive orbit check (``ci.check_claim``: every group
element, on an integer and a Gaussian input):

- a static ``certified`` that the exhaustive check refutes is a failure
  (soundness);
- a static ``not certified`` on a stack the exhaustive check finds
  equivariant is a failure too (the table should know why it holds).
"""

import copy

import pytest

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convnet_invariances as ci
from convnet_invariances._static import StaticAnalysis
from static_models import ExplicitPad, PositionScale, stacks


def _claims(input_shape, output_shape):
    _, h, w = input_shape
    spatial_out = len(output_shape) == 3
    claims = []
    for stride in (1, 2, 4):
        if h % stride or w % stride or (h == stride and w == stride):
            continue
        claims.append(f"translation-invariant[stride={stride}]" if stride > 1 else "translation-invariant")
        if spatial_out:
            for margin in (0, 1, 2, 3):
                if 2 * margin >= min(output_shape[1:]):
                    continue
                qualifiers = [f"stride={stride}"] * (stride > 1) + [f"margin={margin}"] * (margin > 0)
                claims.append("translation-equivariant" + (f"[{','.join(qualifiers)}]" if qualifiers else ""))
    claims.append("translation-invariant[boundary=zero]")
    relations = ("equivariant", "invariant") if spatial_out else ("invariant",)
    if h == w:
        claims += [f"rot90-{r}" for r in relations]
    claims += [f"flip-{r}" for r in relations]
    return claims


def _vacuous(claim, input_shape, output_shape):
    """Whether the claim leaves some axis untested: its shifts there are the identity alone (the stride is the
    size), or every shift moves each interior position out of the interior (a margin on a small output).  The
    table keeps one verdict for all axes, so "not certified" there is no mistake."""
    claim = ci.Claim.parse(claim)
    if claim.symmetry != "translation":
        return False
    if any(n == claim.stride for n in input_shape[1:]):
        return True
    if not claim.margin or len(output_shape) != len(input_shape):
        return False
    strided = all(i == o * claim.stride for i, o in zip(input_shape[1:], output_shape[1:]))
    step = 1 if strided else claim.stride
    return any(n - 2 * claim.margin <= max(3, 2 * step) for n in output_shape[1:])  # (nearly) untested there


def _fresh_weights(model, seed):
    """A copy of ``model`` with every weight redrawn from a Gaussian (the same architecture)."""
    twin = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for p in twin.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype))
    return twin


def _constant_function(model, inputs):
    """Whether the stack gives the same output on every one of ``inputs`` (it ignores its input)."""
    with torch.no_grad():
        out = model(inputs)
    return bool((out == out[:1]).all())


_NONLINEAR = (torch.nn.ReLU, torch.nn.Tanh, torch.nn.LeakyReLU, torch.nn.MaxPool2d, torch.nn.AdaptiveMaxPool2d,
              PositionScale)


_SPATIAL = (torch.nn.Conv2d, torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d, torch.nn.Upsample, torch.nn.PixelShuffle,
            torch.nn.PixelUnshuffle, ExplicitPad)


def _linear_after_first_conv(model):
    """Whether everything after the first spatial layer (a convolution, an average pooling, a resampling) is
    linear: a global average of a linear map is invariant whenever its linear functional is (a full or circular
    convolution, or a 2×2 average then a global one, sums every input with the same weight), whatever the
    kernel or the stride — a reason the table does not model (it judges kernels and lattices, not the functional
    they sum to)."""
    seen = False
    for layer in model.modules():
        seen = seen or isinstance(layer, _SPATIAL)
        if seen and isinstance(layer, _NONLINEAR) and getattr(layer, "kernel_size", 2) not in (1, (1, 1)):
            return False  # (a max over one pixel is the identity)
    return seen


def _max_then_global_max(model, output_shape=None):
    """Whether only max poolings (any windows) and nearest upsamplings (which repeat values) come before a global
    max: the maximum of window maxima over a covering of the map is the global maximum, invariant whatever the
    windows — again a functional the table does not model (it judges each window's lattice)."""
    layers = [m for m in model.modules() if not isinstance(m, torch.nn.Sequential)]
    spatial = [m for m in layers if isinstance(m, _SPATIAL) or isinstance(m, (torch.nn.MaxPool2d,
                                                                             torch.nn.AdaptiveMaxPool2d))]
    keeps_the_max = (torch.nn.MaxPool2d, torch.nn.AdaptiveMaxPool2d)
    if not spatial or not all(isinstance(m, keeps_the_max) or (isinstance(m, torch.nn.Upsample) and
                                                               m.mode == "nearest") for m in spatial):
        return False
    last = spatial[-1]
    global_max = isinstance(last, torch.nn.AdaptiveMaxPool2d) and last.output_size in (1, (1, 1))
    return global_max or (output_shape is not None and len(output_shape) == 3 and output_shape[1:] == (1, 1))


def _repeats_then_samples(model):
    """Whether a nearest upsampling comes before a stride: the upsampling repeats each value over a block, so
    which position of a block a stride samples does not matter, and a sampling grid the table calls asymmetric
    may be harmless — a composition it does not model (it judges each grid's symmetry on its own)."""
    layers = [m for m in model.modules() if not isinstance(m, torch.nn.Sequential)]
    upsampled = False
    for m in layers:
        if isinstance(m, torch.nn.Upsample) and m.mode == "nearest":
            upsampled = True
        stride = getattr(m, "stride", 1)
        if upsampled and any(s > 1 for s in (stride if isinstance(stride, tuple) else (stride,))):
            return True
    return False


def _inputs(input_shape, seed):
    generator = torch.Generator().manual_seed(seed)
    shape = (1,) + tuple(input_shape)
    return [torch.randint(-3, 4, shape, generator=generator).double(),
            torch.randn(shape, generator=generator, dtype=torch.float64)]


def _dynamic(model, inputs, claim):
    """True when the exhaustive check holds on every input, False when it finds a violation, None when the claim
    does not apply (a usage error)."""
    try:
        return all(ci.check_claim(model, x, claim).holds for x in inputs)
    except ci.InvalidArgument:
        return None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.data_too_large])
@given(stacks(), st.integers(0, 2**16))
def test_static_verdicts_agree_with_the_exhaustive_check(drawn, seed):
    model, input_shape, _ = drawn
    try:
        with torch.no_grad():
            output_shape = tuple(model(torch.zeros((1,) + input_shape, dtype=torch.float64)).shape[1:])
    except RuntimeError:
        return  # the stack does not run on this size; the static side says unknown then (tested below)
    analysis = StaticAnalysis(model)
    inputs = _inputs(input_shape, seed)
    for claim in _claims(input_shape, output_shape):
        try:
            static = analysis.verdict(input_shape, claim)
        except ci.InvalidArgument:
            continue
        if static.verdict == "unknown":
            continue
        dynamic = _dynamic(model, inputs, claim)
        if dynamic is None:
            continue
        if static.certified:
            assert dynamic, f"UNSOUND: {claim} certified statically but refuted exhaustively on\n{model}\n{input_shape}" \
                            f"\n{static}"
        elif not _vacuous(claim, input_shape, output_shape) and not (
                ("invariant" in claim and (_linear_after_first_conv(model) or _max_then_global_max(model, output_shape)))
                or (not claim.startswith("translation") and _repeats_then_samples(model))):
            if dynamic:  # two inputs may miss it (a max that sits where every shift sees it): try harder
                generator = torch.Generator().manual_seed(seed + 1)
                many = torch.randn((32,) + tuple(input_shape), generator=generator, dtype=torch.float64)
                # and inputs of one sign: a ReLU can zero a whole window of mixed-sign inputs, hiding the rest
                dynamic = _dynamic(model, [many, many.abs() + 0.5, -many.abs() - 0.5], claim)
            # a stack whose weights make it a constant function (a dilated kernel whose taps all land in the
            # padding of a 1x1 map) holds every claim; the table judges layers, not what their weights sum to
            if dynamic and claim.startswith("translation"):
                # the table never reads weights for translations: a claim that holds only for these weights
                # (a dilated kernel whose taps wrap onto each other on a tiny map, equal weights there) is a
                # coincidence of the draw, not a reason the table should know
                dynamic = _dynamic(_fresh_weights(model, seed), [many], claim)
            assert not dynamic or _constant_function(model, many), (
                f"{claim} not certified statically but the exhaustive check holds on\n{model}\n{input_shape}\n{static}"
                f"\nweights: {dict(model.state_dict())}")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(stacks(planted=True))
def test_a_planted_layer_is_never_certified_through(drawn):
    """A positional embedding or a dense layer over positions: translations are never certified past it, unless it
    acts on a map a global pooling already made invariant (a 1×1 map), where the exhaustive check must agree."""
    model, input_shape, planted = drawn
    analysis = StaticAnalysis(model)
    for claim in ("translation-invariant", "translation-equivariant"):
        try:
            static = analysis.verdict(input_shape, claim)
        except ci.InvalidArgument:
            continue
        # certified past the planted layer only where it cannot act (after a global pooling, on a 1×1 map):
        # then the exhaustive check must confirm the claim
        assert not static.certified or _dynamic(model, _inputs(input_shape, 0), claim), (
            f"{claim} certified through the planted layer {planted} of\n{model}")


def test_the_registry_agrees_with_its_own_profiles():
    """On every registry entry, a static ``certified`` is a claim its profile states (or implies); the exhaustive
    check of the profile lines is the registry's own test."""
    from convnet_invariances.models import REGISTRY

    checked = 0
    for entry in REGISTRY.values():
        analysis = StaticAnalysis(entry.factory())
        for line in entry.profile:
            if line.status not in ("exact", "none") or line.boundary == "zero" and line.relation == "equivariant":
                continue
            claim = line.claim
            try:
                static = analysis.verdict(entry.input_shape, claim)
            except ci.InvalidArgument:
                continue
            if static.certified:
                checked += 1
                assert line.status == "exact" or _implied(entry, claim), f"{entry.name}: {claim} certified but " \
                                                                         f"its profile says {line.status}"
    assert checked >= 10


def _implied(entry, claim):
    return False


@pytest.mark.parametrize("name", ["all_circular_gap", "p4cnn", "global_avg_pool", "conv3x3_circular", "conv1x1",
                                  "max_pool2", "fourier_magnitude_2d", "p4_lifting_orientation_pool"])
def test_registry_certificates_hold_exhaustively(name):
    from convnet_invariances.models import REGISTRY

    entry = REGISTRY[name]
    model = entry.factory().double().eval()
    analysis = StaticAnalysis(model)
    inputs = _inputs(entry.input_shape, 0)
    with torch.no_grad():
        output_shape = tuple(model(inputs[0]).shape[1:])
    certified = 0
    for claim in _claims(entry.input_shape, output_shape) + ["rot90-equivariant[channels=regular]"]:
        try:
            static = analysis.verdict(entry.input_shape, claim)
        except ci.InvalidArgument:
            continue
        if static.certified:
            certified += 1
            assert _dynamic(model, inputs, claim) is not False, f"{name}: {claim} certified but refuted"
    assert certified
