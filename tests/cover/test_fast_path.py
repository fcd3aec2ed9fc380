"""The fast path and the certificates return the same verdicts as the naive loop; memory stays in its budget."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import integer_weights_
from convnet_invariances import (
    LayerError,
    Translations,
    certify_translation_equivariance,
    conv_layers,
    images,
    orbit_error,
    trivial_action,
)
from convnet_invariances.app import SmallCNN, naive_loop


def test_fast_path_errors_are_bitwise_the_naive_loop_errors_on_a_cnn():
    model = SmallCNN(width=4).eval()
    x = torch.randint(-2, 3, (1, 3, 8, 8)).float()
    group = Translations((8, 8))
    fast = orbit_error(model, x, group, output_action=trivial_action(), mode="exact")
    assert fast.errors.tolist() == naive_loop(model, x, group, trivial_action())


@given(conv=conv_layers(in_channels=(1, 2), kernel_sizes=(1, 3), padding_modes=("circular", "zeros", "reflect")),
       data=st.data())
def test_certificate_agrees_with_the_exhaustive_orbit(conv, data):
    side = data.draw(st.integers(3, 6))
    certificate = certify_translation_equivariance(conv, (conv.in_channels, side, side))
    x = data.draw(images(channels=conv.in_channels, shape=(side, side)))
    exhaustive = orbit_error(conv, x, Translations((side, side)), mode="exact")
    if certificate.certified:
        assert exhaustive.holds  # soundness: a certificate never covers a violation the orbit sees
    else:
        assert "not commute" in certificate.reason or "not invariant" in certificate.reason
        assert not orbit_error(conv, torch.randint(-100, 100, x.shape).float(), Translations((side, side)),
                               mode="exact").holds or not exhaustive.holds


def test_certificate_refuses_nonlinear_and_non_integer_layers():
    relu_net = torch.nn.Sequential(integer_weights_(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")),
                                   torch.nn.ReLU())
    assert "the operation ReLU (at '1') is not affine" in certify_translation_equivariance(relu_net, (1, 6, 6)).reason
    float_conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    assert "not integer-valued" in certify_translation_equivariance(float_conv, (1, 6, 6)).reason


@pytest.mark.slow
def test_compiled_fast_path_gives_bitwise_the_eager_errors_and_leaves_the_layer_alone():
    model = SmallCNN(width=2).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randint(-2, 3, (1, 3, 8, 8)).float()
    group = Translations((8, 8))
    eager = orbit_error(model, x, group, output_action=trivial_action(), mode="exact")
    compiled = orbit_error(model, x, group, output_action=trivial_action(), mode="exact", torch_compile=True)
    assert torch.equal(compiled.errors, eager.errors) and compiled.errors.max() > 0  # max pooling: not invariant
    assert type(model) is SmallCNN and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_failing_compile_falls_back_to_the_eager_layer_with_a_warning(monkeypatch):
    def broken_compile(f, **options):
        def run(x):
            raise RuntimeError("no C++ compiler (simulated)")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    model = SmallCNN(width=2).eval()
    x = torch.randint(-2, 3, (1, 3, 8, 8)).float()
    eager = orbit_error(model, x, Translations((8, 8)), output_action=trivial_action(), mode="exact")
    with pytest.warns(RuntimeWarning, match=r"torch.compile failed \(RuntimeError: no C\+\+ compiler"):
        fallback = orbit_error(model, x, Translations((8, 8)), output_action=trivial_action(), mode="exact",
                               torch_compile=True)
    assert torch.equal(fallback.errors, eager.errors)


def test_a_compiled_check_still_reports_the_layers_own_error(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda f, **options: f)  # compiling changes nothing here

    def raises_once_moved(x):  # defined on the reference input only: every shifted input makes it raise
        if bool((x[:, :, 0, 0] != 1).any()):
            raise ValueError("shifted")
        return x

    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 0, 0] = 1.0
    result = orbit_error(raises_once_moved, x, Translations((4, 4)), torch_compile=True)
    assert not result.holds
    assert "f(g·x) raised where f(x) did not" in result.measurement().report()
    assert "ValueError: shifted" in result.measurement().report()


class QuantiserPlusPosition(torch.nn.Module):
    """round(x) is the identity on integers: linear on every integer probe, not over the reals."""

    def __init__(self):
        super().__init__()
        self.conv = integer_weights_(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False))
        self.register_buffer("ramp", torch.arange(8.0).expand(8, 8).clone())

    def forward(self, x):
        return self.conv(x) + (x - torch.round(x)) * self.ramp


def test_a_layer_linear_on_integer_probes_only_is_not_certified():
    certificate = certify_translation_equivariance(QuantiserPlusPosition(), (1, 8, 8))
    assert not certificate.certified and "round" in certificate.reason
    x = torch.rand(1, 1, 8, 8)  # the negative twin: off the integers the layer is not equivariant
    assert not orbit_error(QuantiserPlusPosition(), x, Translations((8, 8))).holds
