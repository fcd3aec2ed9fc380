"""Numeric twins: each theorem's claim tested on torch layers (props engine where it applies, plain torch elsewhere).

Each theorem names its twin (``Twin.test``) and says in its document what the
twin checks; ``test_every_theorem_names_a_twin_that_exists`` keeps the two in
step. Every twin has a negative half: the same check on a case the theorem
excludes must fail, so the check can fail.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from convnet_invariances import models
import convnet_invariances as props
from convnet_invariances.proofs import theorems

GEN = torch.Generator().manual_seed(0)


def integers(*shape, low=-3, high=3):
    return torch.randint(low, high + 1, shape, generator=GEN).double()


def randn(*shape):
    return torch.randn(*shape, generator=GEN, dtype=torch.float64)


def integer_conv(conv):
    with torch.no_grad():
        for parameter in conv.parameters():
            parameter.copy_(integers(*parameter.shape))
    return conv.double()


def holds(f, x, group, **options):
    return props.orbit_error(f, x, group, **options).holds


# ------------------------------------------------------------------ Theorem 1

def test_circular_correlation_commutes_with_every_circular_shift():
    for side, kernel in ((5, 3), (6, 2), (7, 5)):
        conv = integer_conv(torch.nn.Conv2d(2, 3, kernel, padding="same", padding_mode="circular"))
        x = integers(1, 2, side, side)
        props.assert_orbit(conv, x, props.Translations((side, side)), mode="exact")
        zero = integer_conv(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="zeros"))
        assert not holds(zero, x, props.Translations((side, side)), mode="exact")


# ------------------------------------------------------------------ Theorem 2

def test_circulant_layers_commute_with_the_shift_and_dense_ones_do_not():
    for length in (4, 5, 8):
        layer = models.CirculantLinear(length).double()
        x = integers(2, 1, length)
        props.assert_orbit(layer, x, props.Translations((length,)), mode="exact")
        matrix = layer.matrix()
        for row in range(length):
            assert torch.equal(matrix[:, row], torch.roll(matrix[:, 0], row))
        assert not holds(models.DenseLinear(length).double(), x, props.Translations((length,)), mode="exact")


# ------------------------------------------------------------------ Theorem 3

def test_strided_conv_is_equivariant_exactly_on_multiples_of_the_stride():
    conv = integer_conv(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1, padding_mode="circular"))
    x = integers(1, 1, 8, 8)
    props.assert_orbit(conv, x, props.Translations((8, 8), stride=2), output_action=props.strided_action(2),
                       mode="exact")
    moved = conv(torch.roll(x, 1, dims=-1))
    out = conv(x)
    assert all(not torch.equal(moved, torch.roll(out, (a, b), dims=(-2, -1))) for a in range(4) for b in range(4))


# ------------------------------------------------------------------ Theorem 4

def test_zero_padded_conv_is_equivariant_where_both_positions_are_interior():
    size, mismatches_outside = 16, 0
    for radius, dilation in ((1, 1), (1, 2), (2, 1), (2, 2)):
        conv = integer_conv(torch.nn.Conv1d(1, 1, 2 * radius + 1, padding=dilation * radius, dilation=dilation,
                                            bias=False))
        margin = dilation * radius
        x = integers(1, 1, size)
        out = conv(x)[0, 0]
        for t in range(-5, 6):
            moved = conv(torch.roll(x, t, dims=-1))[0, 0]
            for n in range(size):
                interior = margin <= n <= size - 1 - margin
                source = margin <= n - t <= size - 1 - margin
                if interior and source:
                    assert moved[n] == out[n - t]
                elif interior and 0 <= n - t < size and moved[n] != out[n - t]:
                    mismatches_outside += 1
    assert mismatches_outside > 0  # the condition on n − t is needed


# ------------------------------------------------------------------ Theorem 5

def test_composition_pointwise_maps_and_pooling():
    x = integers(1, 2, 6, 6)
    props.assert_orbit(torch.nn.ReLU(), x, props.d4(), mode="exact")
    props.assert_orbit(torch.nn.ReLU(), x, props.Translations((6, 6)), mode="exact")
    net = torch.nn.Sequential(integer_conv(torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")),
                              torch.nn.ReLU(),
                              integer_conv(torch.nn.Conv2d(3, 2, 3, padding=1, padding_mode="circular")),
                              models.GlobalPool("avg"))
    props.assert_orbit(net, x, props.Translations((6, 6)), output_action=props.trivial_action())
    pool = torch.nn.MaxPool2d(2)
    assert not holds(pool, x, props.Translations((6, 6), stride=1).subgroup(1), output_action=props.trivial_action())
    moved, out = pool(torch.roll(x, 1, dims=-1)), pool(x)
    assert all(not torch.equal(moved, torch.roll(out, (a, b), dims=(-2, -1))) for a in range(3) for b in range(3))
    composite = torch.nn.Sequential(pool, models.GlobalPool("max"))
    props.assert_orbit(composite, x, props.Translations((6, 6)), output_action=props.trivial_action(), mode="exact")


# ------------------------------------------------------------------ Theorem 6

def test_max_pooling_window_invariance_and_non_expansiveness():
    k = 3
    x = integers(1, 1, 6, 6, low=0, high=3)
    for window in ((0, 0), (0, 3), (3, 0), (3, 3)):
        x[0, 0, window[0] + 1, window[1] + 1] = 9  # one peak in the middle of each window
    pool = torch.nn.MaxPool2d(k)
    for t in ((0, 1), (1, 0), (-1, 1), (1, -1)):
        props.assert_invariant(pool, x, props.CircularShift(t), mode="exact")
    for _ in range(20):
        y, t = randn(1, 2, 6, 6), (int(torch.randint(-3, 4, (1,), generator=GEN)), 1)
        moved = torch.roll(y, t, dims=(-2, -1))
        assert (pool(moved) - pool(y)).abs().max() <= (moved - y).abs().max()
    generic = randn(1, 1, 4, 4)
    assert not torch.equal(torch.nn.MaxPool2d(2)(torch.roll(generic, 1, dims=-1)), torch.nn.MaxPool2d(2)(generic))


# ------------------------------------------------------------------ Theorem 7

def test_dft_of_a_circular_shift_is_a_phase_ramp():
    for size in (5, 8, 13):
        x = randn(3, size)
        k = torch.arange(size)
        for t in range(size):
            ramp = torch.exp(-2j * math.pi * k * t / size)
            assert torch.allclose(torch.fft.fft(torch.roll(x, t, -1)), ramp * torch.fft.fft(x), atol=1e-10)
            assert torch.allclose(torch.fft.fft(torch.roll(x, t, -1)).abs(), torch.fft.fft(x).abs(), atol=1e-10)
    image = randn(1, 6, 7)
    ramp2 = torch.exp(-2j * math.pi * (torch.arange(6)[:, None] * 2 / 6 + torch.arange(7)[None, :] * 3 / 7))
    assert torch.allclose(torch.fft.fft2(torch.roll(image, (2, 3), (-2, -1))), ramp2 * torch.fft.fft2(image),
                          atol=1e-10)
    zero_fill = torch.cat([torch.zeros(3, 1, dtype=torch.float64), x[:, :-1]], dim=-1)
    assert not torch.allclose(torch.fft.fft(zero_fill).abs(), torch.fft.fft(x).abs(), atol=1e-6)


# ------------------------------------------------------------------ Theorem 8

def _mellin(f, s, points):
    """∫_0^∞ f(x) x^{s-1} dx on a log grid: x = e^u, dx = x du (trapezoid rule in u)."""
    u = torch.linspace(-12.0, 6.0, points, dtype=torch.float64)
    values = f(torch.exp(u)) * torch.exp(u * s)
    return torch.trapezoid(values, u)


def test_mellin_magnitude_is_scale_invariant_up_to_a_falling_grid_error():
    def bump(x):
        return x * torch.exp(-x)

    a, sigma = 2.0, 1.0
    errors = []
    for points in (64, 128, 256, 512):
        for omega in (0.0, 1.5, 4.0):
            s = complex(sigma, omega)
            normalised = abs(_mellin(lambda x: a**sigma * bump(a * x), s, points))
            original = abs(_mellin(bump, s, points))
            errors.append(abs(normalised - original) / original)
        unnormalised = abs(_mellin(lambda x: bump(a * x), complex(sigma, 0.0), points))
        assert abs(unnormalised / abs(_mellin(bump, complex(sigma, 0.0), points)) - a**-sigma) < 1e-3
    assert errors[-1] < 1e-8 and max(errors[-3:]) <= max(errors[:3])


# ------------------------------------------------------------------ Theorem 9

def test_rot90_moves_the_kernel_and_p4_lifting_cycles_orientations():
    x = integers(1, 1, 7, 7)
    kernel = integers(1, 1, 3, 3)

    def correlate(image, weight):
        return F.conv2d(F.pad(image, (1, 1, 1, 1), mode="circular"), weight)

    rotated = torch.rot90(x, 1, (-2, -1))
    assert torch.equal(correlate(rotated, kernel),
                       torch.rot90(correlate(x, torch.rot90(kernel, -1, (-2, -1))), 1, (-2, -1)))
    assert not torch.equal(correlate(rotated, kernel), torch.rot90(correlate(x, kernel), 1, (-2, -1)))
    symmetric = sum(torch.rot90(kernel, r, (-2, -1)) for r in range(4))
    props.assert_orbit(lambda image: correlate(image, symmetric), x, props.c4(), mode="exact")
    lifting = models.P4Lifting(1, 2).double()
    props.assert_orbit(lifting, x, props.c4(), output_action=props.regular_c4_action(), mode="exact")


# ------------------------------------------------------------------ Theorem 10

def test_gaussian_smoothing_moves_by_at_most_the_bound_and_the_bound_halves():
    size, sigma = 512, 1.5
    x = randn(1, 1, size).clamp(-2, 2)
    sup = x.abs().max()
    worst = []
    for J in range(4):
        width = sigma * 2**J
        u = torch.arange(-size // 2, size // 2, dtype=torch.float64)
        phi = torch.exp(-u**2 / (2 * width**2))
        phi = (phi / phi.sum()).view(1, 1, -1)

        def smooth(signal):
            return torch.fft.ifft(torch.fft.fft(signal) * torch.fft.fft(torch.fft.ifftshift(phi))).real

        bound_per_shift = math.sqrt(2 / math.pi) / width * sup
        changes = []
        for t in (1, 2, 3):
            change = (smooth(torch.roll(x, t, -1)) - smooth(x)).abs().max()
            assert change <= t * bound_per_shift * 1.05  # 5 % for sampling the Gaussian
            changes.append(change / t)
        worst.append(max(changes))
    assert all(later < earlier * 0.75 for earlier, later in zip(worst, worst[1:]))


# ------------------------------------------------------------------ Theorem 11

def test_equivariant_then_invariant_is_invariant_and_equivariant_alone_is_not():
    x = integers(1, 1, 6, 6)
    conv = integer_conv(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"))
    group = props.Translations((6, 6))
    props.assert_orbit(conv, x, group, mode="exact")
    assert not holds(conv, x, group, output_action=props.trivial_action(), mode="exact")
    props.assert_orbit(torch.nn.Sequential(conv, models.GlobalPool("avg")), x, group,
                       output_action=props.trivial_action())

    def broadcast(image):
        return image.sum(dim=(-2, -1), keepdim=True).expand_as(image).clone()

    props.assert_orbit(broadcast, x, group, mode="exact")
    props.assert_orbit(broadcast, x, group, output_action=props.trivial_action(), mode="exact")


# ------------------------------------------------------------------ Theorem 12

def test_lp_pooling_invariance_equivariance_and_bound():
    x = randn(1, 2, 8, 8)
    for p in (2, 3):
        props.assert_orbit(models.GlobalPool("lp", p=p).double(), x, props.Translations((8, 8)),
                           output_action=props.trivial_action())
        local = models.Pool("lp", 2, p=p).double()
        props.assert_orbit(local, x, props.Translations((8, 8), stride=2), output_action=props.strided_action(2))
        moved, out = local(torch.roll(x, 1, -1)), local(x)
        assert all(not torch.allclose(moved, torch.roll(out, (a, b), (-2, -1))) for a in range(4) for b in range(4))
        for _ in range(20):
            a, b = randn(9), randn(9)
            assert abs(a.abs().pow(p).sum() ** (1 / p) - b.abs().pow(p).sum() ** (1 / p)) <= (
                (a - b).abs().pow(p).sum() ** (1 / p) + 1e-12)


# ------------------------------------------------------------------ Theorem 13

def test_aps_is_equivariant_to_every_circular_shift_without_ties():
    aps = models.APS()
    x = randn(1, 1, 8, 8)
    assert not aps.selection_has_ties(x)
    out = aps(x)
    for a in range(8):
        for b in range(8):
            moved = aps(torch.roll(x, (a, b), (-2, -1)))
            candidates = [(u, v) for u in (a // 2, -(-a // 2)) for v in (b // 2, -(-b // 2))]
            assert any(torch.equal(moved, torch.roll(out, c, (-2, -1))) for c in candidates), (a, b)
    components = models.polyphase_components(x)
    shifted = models.polyphase_components(torch.roll(x, (0, 1), (-2, -1)))
    norms = components.flatten(2).norm(dim=2)
    assert torch.allclose(shifted.flatten(2).norm(dim=2).sort().values, norms.sort().values)
    plain = x[..., ::2, ::2]
    moved = torch.roll(x, (0, 1), (-2, -1))[..., ::2, ::2]
    assert all(not torch.equal(moved, torch.roll(plain, (u, v), (-2, -1))) for u in range(4) for v in range(4))


# ------------------------------------------------------------------ Theorem 14

def test_subsampling_aliases_and_blurpool_only_reduces_it():
    size = 16
    half = size // 2
    x = randn(size)
    spectrum = torch.fft.fft(x)
    k = torch.arange(half)
    omega = torch.exp(torch.tensor(-2j * math.pi / size))
    assert torch.allclose(torch.fft.fft(x[::2]), (spectrum[:half] + spectrum[half:]) / 2, atol=1e-10)
    assert torch.allclose(torch.fft.fft(x[1::2]), omega ** (-k) * (spectrum[:half] - spectrum[half:]) / 2, atol=1e-10)
    band = spectrum.clone()
    band[size // 4:3 * size // 4 + 1] = 0  # no energy in the folded half
    limited = torch.fft.ifft(band).real
    assert torch.allclose(torch.fft.fft(limited[1::2]).abs()[:size // 4], torch.fft.fft(limited[::2]).abs()[:size // 4],
                          atol=1e-10)
    image = randn(8, 1, 16, 16)
    blur = models.BlurPool(1, padding_mode="circular").double()

    def change(layer):
        moved, out = layer(torch.roll(image, 1, -1)), layer(image)
        return min((moved - torch.roll(out, (0, u), (-2, -1))).norm() for u in range(8)) / out.norm()

    plain = models.BlurPool(1, filter_size=1, padding_mode="circular").double()
    assert 0 < change(blur) < change(plain)


# ------------------------------------------------------------------ Theorem 15

def test_the_dft_diagonalises_circulant_layers():
    for length in (4, 7):
        dft = torch.fft.fft(torch.eye(length, dtype=torch.complex128), dim=0)
        for matrix in (models.CirculantLinear(length).matrix().double(), models.circulant_matrix(randn(length))):
            conjugated = dft @ matrix.to(torch.complex128) @ torch.linalg.inv(dft)
            diagonal = torch.fft.fft(matrix[:, 0])
            assert torch.allclose(conjugated, torch.diag(diagonal), atol=1e-9)
        dense = models.DenseLinear(length).weight.detach().double().to(torch.complex128)
        off = dft @ dense @ torch.linalg.inv(dft)
        assert (off - torch.diag(torch.diag(off))).abs().max() > 1e-3


# ------------------------------------------------------------------ Theorem 16

def test_orbit_averaging_is_invariant_and_augmentation_is_a_variance_penalty():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(2 * 5 * 5, 1)).double()
    group = props.Translations((5, 5))

    def averaged(x):
        return torch.stack([net(g(x)) for g in group.elements()]).mean(dim=0)

    x = randn(1, 1, 5, 5)
    props.assert_orbit(averaged, x, group, output_action=props.trivial_action())
    assert not holds(net, x, group, output_action=props.trivial_action())
    predictions = torch.stack([net(g(x)) for g in group.elements()]).flatten()
    y = 0.3
    augmented = ((predictions - y) ** 2).mean()
    decomposed = (predictions.mean() - y) ** 2 + ((predictions - predictions.mean()) ** 2).mean()
    assert torch.allclose(augmented, decomposed)


# ------------------------------------------------------------------ Theorem 17

def test_upscaling_by_two_shifts_the_pyramid_by_one_level():
    x = integers(1, 1, 8, 8)
    up = props.Upscale(2)(x)
    assert torch.equal(up, x.repeat_interleave(2, -1).repeat_interleave(2, -2))

    def pyramid(image, levels):
        out = [image]
        for _ in range(levels - 1):
            out.append(F.avg_pool2d(out[-1], 2))
        return out

    for level_up, level in zip(pyramid(up, 4)[1:], pyramid(x, 3)):
        assert torch.equal(level_up, level)
    assert torch.equal(models.GlobalPool("avg")(up), models.GlobalPool("avg")(x))
    conv = integer_conv(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"))

    def features(image, levels):
        return torch.stack([models.GlobalPool("max")(torch.relu(conv(level))) for level in pyramid(image, levels)])

    small = integers(1, 1, 4, 4)
    small_up = props.Upscale(2)(small)
    # a network applied to every level and max-pooled over levels: levels ≥ 1 of U₂x are the levels of x
    assert torch.equal(features(small_up, 3)[1:].amax(dim=0), features(small, 2).amax(dim=0))
    # on a single level the same network is not invariant to the upscaling
    assert not torch.equal(features(small_up, 1)[0], features(small, 1)[0])


# ------------------------------------------------------------------ Theorem 18

def test_scattering_is_shift_and_deformation_stable_where_fourier_is_not():
    scattering = models.Scattering2d(side=32, J=2, orientations=4).double()
    x = randn(1, 1, 32, 32)
    out = scattering(x)
    assert torch.allclose(scattering(torch.roll(x, (4, 8), (-2, -1))), torch.roll(out, (1, 2), (-2, -1)), atol=1e-9)
    one_pixel = (scattering(torch.roll(x, 1, -1)) - out).norm() / out.norm()
    assert one_pixel < 0.5

    grid = torch.arange(32, dtype=torch.float64) - 16
    rows, cols = torch.meshgrid(grid, grid, indexing="ij")

    def pattern(scale):
        envelope = torch.exp(-(rows**2 + cols**2) / (2 * 6.0**2))
        return (envelope * torch.cos(2.6 * cols / scale)).view(1, 1, 32, 32)

    original, dilated = pattern(1.0), pattern(1.05)
    fourier = models.FourierMagnitude()

    def relative(layer):
        return ((layer(dilated) - layer(original)).norm() / layer(original).norm()).item()

    assert relative(scattering) < relative(fourier)


# ------------------------------------------------------------------ Theorem 19

def test_a_dense_layer_with_a_banded_toeplitz_weight_is_a_zero_padded_conv():
    size = 9
    for radius in (1, 2):
        kernel = integers(2 * radius + 1)
        toeplitz = torch.zeros(size, size, dtype=torch.float64)
        for i in range(size):
            for j in range(max(0, i - radius), min(size, i + radius + 1)):
                toeplitz[i, j] = kernel[j - i + radius]
        dense = torch.nn.Linear(size, size, bias=False).double()
        with torch.no_grad():
            dense.weight.copy_(toeplitz)
        conv = torch.nn.Conv1d(1, 1, 2 * radius + 1, padding=radius, bias=False).double()
        with torch.no_grad():
            conv.weight.copy_(kernel.view(1, 1, -1))
        x = integers(3, 1, size)
        assert torch.equal(dense(x), conv(x))
        assert not holds(dense, x, props.Translations((size,)), mode="exact")
        circulant = models.circulant_matrix(toeplitz[:, 0])
        assert not torch.equal(toeplitz, circulant)
        assert toeplitz[0, size - 1] == 0 and toeplitz[1, 0] == kernel[radius - 1]


@pytest.mark.parametrize("theorem", theorems(), ids=[t.name for t in theorems()])
def test_every_theorem_names_a_twin_that_exists(theorem):
    path, _, name = theorem.twin.test.partition("::")
    assert path == "tests/proofs/test_proof_twins.py", theorem.twin.test
    assert callable(globals().get(name)), theorem.twin.test
