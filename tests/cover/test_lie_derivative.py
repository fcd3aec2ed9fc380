"""The Lie derivative: the derivative it computes is the right one, exact layers sit at the floor, planted violations show.

The reference for every derivative is the smooth flow itself (``_lie.flow``:
the trigonometric interpolant read at moved points), differentiated by
central differences in float64.
"""

import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import convnet_invariances as ci
from convnet_invariances import (
    InvalidArgument,
    conv_layers,
    images,
    lie_derivative,
    regular_c4_action,
    same_action,
    strided_action,
    trivial_action,
)
from convnet_invariances._lie import _lie_derivative_and_output, flow, flow_tangent

GENERATORS = ["translation-x", "translation-y", "rotation", "scale"]
ACTIONS = ["invariant", "equivariant"]
#: rounding floor of the relative Lie derivative of an exactly equivariant layer in float32 (measured: ≤ 2e-6)
FLOAT32_FLOOR = 1e-5


def smooth_network(channels=2):
    """Convolutions and smooth nonlinearities: nonzero Lie derivative for every generator, differentiable everywhere."""
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 3, 3, padding=1), torch.nn.Tanh(), torch.nn.Conv2d(3, 2, 3, padding=1),
        torch.nn.Softplus(),
    ).double()


def central_difference(f, x, generator, output_action, step=1e-4):
    """d/dt [ρ(g_{-t}) f(g_t x)] at t = 0 by central differences through the finite flow."""
    def moved(t):
        out = f(flow(x, generator, t))
        return out if output_action == "invariant" else flow(out, generator, -t)
    with torch.no_grad():
        return (moved(step) - moved(-step)) / (2 * step)


# ----------------------------------------------------------------------------- the flow and its tangent


@given(x=images(batch=2, channels=2, min_side=4, max_side=9, values="floats", dtype=torch.float64),
       generator=st.sampled_from(GENERATORS))
def test_the_tangent_is_the_forward_mode_derivative_of_the_flow(x, generator):
    zero, one = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    start, derivative = torch.func.jvp(lambda t: flow(x, generator, t), (zero,), (one,))
    scale = float(x.abs().max()) * max(x.shape[2:]) + 1
    assert torch.allclose(start, x, rtol=0, atol=1e-12 * scale)
    assert torch.allclose(flow_tangent(x, generator), derivative, rtol=0, atol=1e-11 * scale)


@given(x=images(batch=1, channels=2, min_side=3, max_side=8, square=True, values="floats", dtype=torch.float64))
def test_the_flow_is_exact_on_the_grid_a_quarter_turn_is_rot90_and_a_whole_shift_is_a_roll(x):
    assert torch.allclose(flow(x, "rotation", math.pi / 2), torch.rot90(x, 1, (-2, -1)), atol=1e-10)
    assert torch.allclose(flow(x, "translation-x", 1.0), torch.roll(x, 1, -1), atol=1e-10)
    assert torch.allclose(flow(x, "translation-y", -2.0), torch.roll(x, -2, -2), atol=1e-10)


def test_a_subpixel_flow_is_the_package_subpixel_shift_and_stays_real_at_nyquist():
    x = torch.randn(2, 1, 6, 8, dtype=torch.float64)
    assert torch.allclose(flow(x, "translation-x", 0.3), ci.SubpixelShift((0.0, 0.3))(x), atol=1e-12)
    nyquist = torch.cos(math.pi * torch.arange(8, dtype=torch.float64)).view(1, 1, 8)
    # cos(π(u − t)) sampled at the integers is cos(πt)·(−1)^u: real, and with zero slope at t = 0
    assert torch.allclose(flow(nyquist, "translation-x", 0.25), math.cos(math.pi / 4) * nyquist, atol=1e-12)
    assert float(flow_tangent(nyquist, "translation-x").abs().max()) < 1e-12


# ----------------------------------------------------------------------------- agreement with central differences


@pytest.mark.parametrize("values", ["smooth", "floats"])
@given(data=st.data(), generator=st.sampled_from(GENERATORS), output_action=st.sampled_from(ACTIONS))
def test_agrees_with_central_differences_within_one_percent(values, data, generator, output_action):
    # "floats" is white noise: on the band-limited model it is as differentiable as a smooth image
    x = data.draw(images(batch=2, channels=2, min_side=6, max_side=8, values=values, dtype=torch.float64))
    net = smooth_network()
    derivative, output = _lie_derivative_and_output(net, x, generator, output_action)
    assume(float(derivative.norm()) > 1e-6 * float(output.norm()))  # a derivative at the rounding floor has no digits
    reference = central_difference(net, x, generator, output_action)
    assert float((derivative - reference).norm()) <= 0.01 * float(reference.norm())
    relative = lie_derivative(net, x, generator, output_action=output_action)
    expected = reference.flatten(1).norm(dim=1) / output.flatten(1).norm(dim=1)
    # per sample, one sample may sit at the rounding floor while the batch does not: there the central
    # difference itself errs by about u/h = 2⁻⁵³/1e-4 ≈ 1e-12 of the output, so that is the absolute slack
    assert torch.allclose(relative, expected, rtol=0.01, atol=1e-10)


def test_without_a_forward_formula_the_double_backward_gives_the_same_derivative():
    """grid_sample has no forward-mode formula; sampled on the identity grid it is the identity in x."""
    class IdentityResample(torch.nn.Module):
        def forward(self, x):
            grid = torch.nn.functional.affine_grid(torch.eye(2, 3, dtype=x.dtype).expand(len(x), 2, 3),
                                                   list(x.shape), align_corners=True)
            return torch.nn.functional.grid_sample(x, grid, align_corners=True)

    x = torch.randn(2, 1, 7, 7, dtype=torch.float64)
    with pytest.raises(NotImplementedError, match="forward AD"):
        torch.func.jvp(IdentityResample(), (x,), (x,))
    for generator in GENERATORS:
        assert float(lie_derivative(IdentityResample(), x, generator, output_action="equivariant").max()) < 1e-12
        expected = flow_tangent(x, generator).flatten(1).norm(dim=1) / x.flatten(1).norm(dim=1)
        assert torch.allclose(lie_derivative(IdentityResample(), x, generator, output_action="invariant"), expected)


# ----------------------------------------------------------------------------- exactly equivariant layers: the floor


@given(conv=conv_layers(exact=False, out_channels=(1, 4)), data=st.data(), generator=st.sampled_from(GENERATORS[:2]))
def test_circular_convolution_is_at_the_float32_floor_for_translations(conv, data, generator):
    x = data.draw(images(batch=2, channels=conv.in_channels, min_side=9, max_side=12, values="floats"))
    with torch.no_grad():
        assume(float(conv(x).norm()) > 1e-3)
    assert float(lie_derivative(conv, x, generator, output_action="equivariant").max()) < FLOAT32_FLOOR
    assert float(lie_derivative(conv, x, generator, output_action=same_action()).max()) < FLOAT32_FLOOR


@given(x=images(batch=3, channels=2, min_side=6, max_side=12, values="floats"), generator=st.sampled_from(GENERATORS[:2]))
def test_circular_convolutions_then_global_average_pool_are_at_the_floor_for_invariance(x, generator):
    torch.manual_seed(2)
    head = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular"),
                               torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode="circular"),
                               torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with torch.no_grad():
        assume(float(head(x).norm()) > 1e-3)
    assert float(lie_derivative(head, x, generator, output_action=trivial_action()).max()) < FLOAT32_FLOOR


def test_pointwise_layers_are_at_the_floor_for_every_generator_and_a_circular_conv1d_for_translation():
    x = torch.randn(4, 3, 16, 16)
    pointwise = torch.nn.Conv2d(3, 2, 1)
    for generator in GENERATORS:
        assert float(lie_derivative(pointwise, x, generator, output_action="equivariant").max()) < FLOAT32_FLOOR
    signal = torch.randn(4, 2, 20)
    conv1d = torch.nn.Conv1d(2, 3, 5, padding=2, padding_mode="circular")
    assert float(lie_derivative(conv1d, signal, "translation-x", output_action="equivariant").max()) < FLOAT32_FLOOR


def fourier_decimation(z):
    """Ideal band-limited decimation by 2 of a 1-D signal: a shift by t moves the output by exactly t/2."""
    spectrum = torch.fft.fft(z)
    n, m = z.shape[-1], z.shape[-1] // 2
    kept = torch.zeros(z.shape[:-1] + (m,), dtype=spectrum.dtype)
    # frequencies strictly inside the output band (its Nyquist bin would be read as a cosine, not moved)
    kept[..., : m // 2] = spectrum[..., : m // 2]
    kept[..., m - m // 2 + 1:] = spectrum[..., n - m // 2 + 1:]
    return torch.fft.ifft(kept).real


def test_a_strided_output_action_moves_the_output_by_t_over_s():
    x = torch.randn(2, 2, 16, dtype=torch.float64)
    assert float(lie_derivative(fourier_decimation, x, "translation-x", output_action=strided_action(2)).max()) < 1e-12
    # the twin: plain subsampling keeps only even shifts, and aliases for every other one
    aliased = lie_derivative(lambda z: z[..., ::2], x, "translation-x", output_action=strided_action(2))
    assert float(aliased.min()) > 0.1


# ----------------------------------------------------------------------------- planted violations and their twins


def position_gain(size, channels=1):
    """f(x) = x · (1 + size·m): a gain that depends on the position, zero at size 0 (the exact twin)."""
    torch.manual_seed(3)
    mask = torch.randn(1, channels, 10, 10)
    return lambda x: x * (1 + size * mask)


def zero_padding_blend(size):
    """(1 − size)·circular conv + size·zero-padded conv with the same weights: the planted border term grows with size."""
    torch.manual_seed(4)
    circular = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    zero = torch.nn.Conv2d(2, 3, 3, padding=1)
    zero.load_state_dict(circular.state_dict())
    return lambda x: (1 - size) * circular(x) + size * zero(x)


SIZES = [0.0, 0.01, 0.1, 0.3, 1.0]


@pytest.mark.parametrize("planted, channels", [(position_gain, 1), (zero_padding_blend, 2)],
                         ids=["position-dependent gain", "zero padding"])
@pytest.mark.parametrize("generator", GENERATORS[:2])
def test_a_planted_violation_is_caught_and_grows_with_its_size(planted, channels, generator):
    x = torch.randn(3, channels, 10, 10)
    values = torch.stack([lie_derivative(planted(size), x, generator, output_action="equivariant") for size in SIZES])
    assert float(values[0].max()) < FLOAT32_FLOOR  # the twin without the plant sits at the floor
    assert bool((values[1:] > 100 * FLOAT32_FLOOR).all())
    assert bool((values[1:] > values[:-1]).all()), values


def test_a_planted_position_dependent_gain_before_global_pooling_breaks_invariance():
    # a large mean keeps ‖f(x)‖ nearly the same for every size, so the relative value grows with the numerator
    x = torch.randn(3, 1, 10, 10) + 5
    torch.manual_seed(3)
    mask = torch.randn(1, 1, 10, 10)
    mask -= mask.mean()
    values = [float(lie_derivative(lambda z, size=size: (z * (1 + size * mask)).mean((2, 3)), x, "translation-x",
                                   output_action="invariant").max()) for size in SIZES]
    assert values[0] < FLOAT32_FLOOR and values[1] > 10 * FLOAT32_FLOOR
    assert values == sorted(values) and len(set(values)) == len(values), values


def test_zero_output_reads_zero_when_its_derivative_is_zero_and_inf_when_not():
    x = torch.randn(2, 1, 6, 6)
    assert lie_derivative(lambda z: 0 * z, x, "rotation", output_action="equivariant").tolist() == [0.0, 0.0]
    assert lie_derivative(lambda z: z - z.detach(), x, "rotation", output_action="invariant").tolist() == [math.inf] * 2


# ----------------------------------------------------------------------------- the user's input and module


def test_the_input_and_the_module_are_not_modified():
    torch.manual_seed(5)
    module = torch.nn.Sequential(torch.nn.ReLU(inplace=True), torch.nn.Conv2d(2, 3, 3, padding=1),
                                 torch.nn.BatchNorm2d(3), torch.nn.Dropout(0.5)).train()
    module[1].weight.requires_grad_(False)
    state = {name: value.clone() for name, value in module.state_dict().items()}
    x = torch.randn(2, 2, 8, 8)
    original = x.clone()
    rng = torch.get_rng_state()
    first = lie_derivative(module, x, "scale", output_action="equivariant")
    again = lie_derivative(module, x, "scale", output_action="equivariant")
    assert torch.equal(first, again)  # measured in eval mode: dropout and batch statistics play no part
    assert torch.equal(x, original)
    assert all(m.training for m in module.modules())
    assert not module[1].weight.requires_grad and module[1].bias.requires_grad
    assert all(torch.equal(state[name], value) for name, value in module.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
    assert first.shape == (2,) and not first.requires_grad


# ----------------------------------------------------------------------------- bad arguments


IMAGE = torch.randn(2, 1, 6, 6)
CONV = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")

BAD_CALLS = [
    ("no output action", lambda: lie_derivative(CONV, IMAGE, "translation-x"),
     r"output_action=None: .*never guessed from shapes: 'invariant' .*'equivariant'"),
    ("unknown output action name", lambda: lie_derivative(CONV, IMAGE, "rotation", output_action="same"),
     r"output_action='same' must be 'invariant' .*'equivariant'"),
    ("output action without an infinitesimal form", lambda: lie_derivative(CONV, IMAGE, "rotation",
                                                                       output_action=regular_c4_action()),
     r"output_action=regular_c4_action\(\) must be .*no infinitesimal form"),
    ("strided action on a rotation", lambda: lie_derivative(CONV, IMAGE, "rotation", output_action=strided_action(2)),
     r"output_action=strided_action\(2\) acts on translations only, not generator='rotation'"),
    ("strided action on an indivisible size", lambda: lie_derivative(
        CONV, torch.randn(1, 1, 5, 5), "translation-x", output_action=strided_action(2)),
     r"output_action=strided_action\(2\): x has spatial shape \(5, 5\), not divisible by the stride 2"),
    ("equivariant output of the wrong shape", lambda: lie_derivative(
        torch.nn.AdaptiveAvgPool2d(1), IMAGE, "translation-x", output_action="equivariant"),
     r"output_action=same_action\(\) needs a real output of spatial shape \(6, 6\) .*use 'invariant'"),
    ("unknown generator", lambda: lie_derivative(CONV, IMAGE, "shift", output_action="equivariant"),
     r"generator='shift' must be one of 'translation-x' \(per pixel\), .*'rotation' \(per radian\), "
     r"'scale' \(per unit log-scale\)"),
    ("rotation of a 1-D signal", lambda: lie_derivative(torch.nn.Identity(), torch.randn(1, 1, 8), "rotation",
                                                        output_action="equivariant"),
     r"generator='rotation' moves 2-D images, but x has shape \(1, 1, 8\)"),
    ("rank-2 input", lambda: lie_derivative(CONV, torch.randn(6, 6), "scale", output_action="invariant"),
     r"x has shape \(6, 6\) \(rank 2\)"),
    ("integer input", lambda: lie_derivative(CONV, torch.ones(1, 1, 4, 4, dtype=torch.long), "scale",
                                             output_action="invariant"),
     r"x has dtype torch.int64; it must be torch.float32 or torch.float64"),
    ("half input", lambda: lie_derivative(CONV, torch.ones(1, 1, 4, 4, dtype=torch.float16), "scale",
                                          output_action="invariant"),
     r"x has dtype torch.float16"),
    ("not a layer", lambda: lie_derivative("conv", IMAGE, "scale", output_action="invariant"),
     r"f='conv' must be a torch.nn.Module or a callable"),
]


@pytest.mark.parametrize("call, message", [pytest.param(c, m, id=i) for i, c, m in BAD_CALLS])
def test_bad_arguments_raise_invalid_argument_naming_the_argument(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_a_layer_that_raises_is_reported_as_a_layer_error():
    def broken(x):
        raise RuntimeError("boom")
    with pytest.raises(ci.LayerError, match="raised RuntimeError: boom"):
        lie_derivative(broken, IMAGE, "scale", output_action="invariant")
