"""Hints: each one only where the layer's structure and the error's place agree; none is better than a wrong one."""

import torch

import convnet_invariances as ci
from convnet_invariances._hints import hints_for, padding_modes


def border_example(layer, size=9):
    """A violation of circular-shift equivariance measured on ``layer`` with one value on the border."""
    x = torch.zeros(1, 1, size, size)
    x[0, 0, 0, 0] = 1.0
    return ci.equivariance_error(layer, x, ci.CircularShift((1, 0)))


def conv(**options):
    torch.manual_seed(0)
    return torch.nn.Conv2d(1, 1, 3, padding=1, bias=False, **options)


def test_a_zero_padded_conv_is_told_about_its_padding():
    measurement = border_example(conv())
    assert measurement.violated
    (hint,) = [h for h in measurement.hints if "border" in h]
    assert "pads non-periodically (zeros in (the layer))" in hint and "padding_mode='circular'" in hint


def test_reflect_padding_is_named_as_such():
    (hint,) = [h for h in border_example(conv(padding_mode="reflect")).hints if "border" in h]
    assert "reflect in (the layer)" in hint


class _BorderBump(torch.nn.Module):
    """Circular padding everywhere, and then custom code that treats the border row differently."""

    def __init__(self):
        super().__init__()
        self.conv = conv(padding_mode="circular")

    def forward(self, x):
        y = self.conv(x)
        return torch.cat([y[..., :1, :] * 2, y[..., 1:, :]], dim=-2)


def test_custom_code_gets_a_conditional_hint_without_the_circular_advice():
    measurement = border_example(_BorderBump())
    assert measurement.violated
    (hint,) = [h for h in measurement.hints if "border" in h]
    assert hint.startswith("the error sits on the output border. If the layer pads, crops or indexes")
    assert "padding_mode='circular'" not in hint  # it already pads circularly


def test_a_circular_layer_gets_no_border_hint_for_an_error_on_the_border():
    """Known all-circular torch layers cannot break shift equivariance at the border: the hint would mislead."""
    layer = torch.nn.Sequential(conv(padding_mode="circular"), torch.nn.Flatten(), torch.nn.Unflatten(1, (1, 9, 9)))
    x = torch.zeros(1, 1, 9, 9)
    y = layer(x)
    hints = hints_for(layer, x, y, (0, 0, 0, 4), None, True, ci.CircularShift((1, 0)), ci.same_action())
    assert hints == ()


def test_rot90_failures_get_no_stride_or_border_hint():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1)  # strided and zero-padded: both hints are tempting
    x = torch.randn(1, 1, 16, 16)
    measurement = ci.equivariance_error(layer, x, ci.rot90())
    assert measurement.violated and measurement.hints == ()


def test_the_stride_hint_needs_an_equivariance_claim_with_shifts_and_a_smaller_output():
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, padding_mode="circular")
    x = torch.randn(1, 1, 16, 16)
    y = layer(x)
    shift = ci.CircularShift((1, 0))
    (hint,) = hints_for(layer, x, y, (0, 0, 3, 3), None, True, shift, ci.same_action())
    assert hint.startswith("the output is 2× smaller than the input")
    assert hints_for(layer, x, y, (0, 0, 3, 3), None, True, shift, ci.trivial_action()) == ()  # invariance
    assert hints_for(layer, x, y, (0, 0, 3, 3), None, True, shift, ci.strided_action(2)) == ()  # already strided
    assert hints_for(layer, x, y, (0, 0, 3, 3), None, False, shift, ci.same_action()) == ()  # not violated


def test_training_mode_is_named_only_for_layers_that_mix_the_batch():
    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"),
                                torch.nn.BatchNorm2d(1)).train()
    x = torch.randn(1, 1, 9, 9)
    y = layer(x)
    assert any("training mode" in h for h in hints_for(layer, x, y, None, None, True, ci.rot90(), ci.same_action()))
    assert not any("training mode" in h for h in hints_for(layer.eval(), x, y, None, None, True, ci.rot90(),
                                                           ci.same_action()))


def test_padding_modes_reads_torch_layers_and_admits_custom_code():
    layer = torch.nn.Sequential(torch.nn.ReflectionPad2d(1), torch.nn.Conv2d(1, 1, 3),
                                torch.nn.MaxPool2d(3, padding=1), torch.nn.AvgPool2d(3, padding=1, stride=1))
    assert padding_modes(layer) == ({"reflect": ["0"], "−∞": ["2"], "zeros": ["3"]}, True)
    assert padding_modes(_BorderBump()) == ({"circular": ["conv"]}, False)
    assert padding_modes(lambda x: x) == ({}, False)
