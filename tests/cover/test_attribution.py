"""Layer attribution: the first layer that breaks a violated claim is named, on generated stacks with a planted
violating layer at a random depth, and in the audit's reports."""

import json

import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convnet_invariances as ci
from convnet_invariances._attribution import find_culprit
from convnet_invariances._output_actions import Same, Trivial
from static_models import PositionScale, Residual, RowDense


@st.composite
def planted_stacks(draw):
    """Circular, stride-1 layers (every one keeps translations and, with symmetric kernels, rot90), a planted
    layer at a random depth, then more layers; returns (model, input shape, planted layer's name)."""
    channels, side = draw(st.integers(1, 3)), draw(st.integers(5, 10))
    depth = draw(st.integers(1, 6))
    at = draw(st.integers(0, depth - 1))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 1000)))
    layers, name = [], None
    for index in range(depth):
        if index == at:
            layers.append(draw(st.sampled_from([lambda: PositionScale((channels, side, side), index),
                                                lambda: RowDense(side, index)]))())
            name = str(len(layers) - 1)
            continue
        kind = draw(st.sampled_from(["conv", "relu", "bn", "residual", "identity"]))
        if kind in ("conv", "residual"):
            k = draw(st.sampled_from([1, 3]))
            conv = torch.nn.Conv2d(channels, channels, k, padding=k // 2, padding_mode="circular").double()
            with torch.no_grad():
                weight = (torch.randint(1, 3, conv.weight.shape, generator=generator) *
                          (2 * torch.randint(0, 2, conv.weight.shape, generator=generator) - 1)).double()
                conv.weight.copy_(sum(torch.rot90(weight, r, (-2, -1)) for r in range(4)))
            layers.append(conv if kind == "conv" else Residual(torch.nn.Sequential(conv, torch.nn.Tanh())))
        elif kind == "relu":
            layers.append(torch.nn.ReLU())
        elif kind == "bn":
            layers.append(torch.nn.BatchNorm2d(channels).double().eval())
        else:
            layers.append(torch.nn.Identity())
    model = torch.nn.Sequential(*layers).eval()
    return model, (channels, side, side), name


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted_stacks(), st.sampled_from(["translation", "rot90"]), st.integers(0, 2**16))
def test_attribution_names_the_planted_layer(drawn, symmetry, seed):
    model, shape, planted = drawn
    x = torch.randn((1,) + shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    element = ci.CircularShift((1, 2)) if symmetry == "translation" else ci.rot90()
    with torch.no_grad():
        violated = not torch.allclose(model(element(x)), element(model(x)))
    assume(violated)  # a ReLU may zero what the planted layer acts on: then nothing is violated to attribute
    culprit = find_culprit(model, x, element, Same())
    assert culprit is not None
    assert culprit.layer == planted or culprit.layer.startswith(planted + "."), (culprit, model)
    assert culprit.verdict == "violated" and culprit.max_error > 0


def test_attribution_leaves_the_module_as_it_was():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), PositionScale((1, 6, 6), 0).float())
    find_culprit(model, torch.randn(1, 1, 6, 6), ci.CircularShift((0, 1)), Same())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_a_stride_is_named_where_the_shift_cannot_follow():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
                                torch.nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode="circular"),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    culprit = find_culprit(model, torch.randn(1, 1, 8, 8), ci.CircularShift((0, 1)), Trivial())
    assert culprit.layer == "1"


def test_the_audit_reports_the_culprit(tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"), torch.nn.ReLU(),
                                RowDense(6, 0).float(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    report = ci.audit(model, (1, 6, 6), ["translation-invariant"], examples=2)
    result = report.results[0]
    assert result.verdict == "violated"
    assert result.culprit["layer"] == "2.dense"
    assert json.loads(json.dumps(report.to_dict()))["claims"][0]["culprit"]["layer"] == "2.dense"
    assert "static: not certified" in " ".join(result.notes)


def test_the_audit_reports_static_certificates_with_their_reasons():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1, padding_mode="circular"),
                                torch.nn.ReLU(), torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    report = ci.audit(model, (1, 8, 8), ["translation-invariant[stride=2]"], examples=2)
    result = report.results[0]
    assert result.verdict == "certified"
    assert "stride 2 at `0`" in result.message and "invariant after `2`" in result.message
