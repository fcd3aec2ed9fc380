"""The DFT shift theorem: |FFT| is invariant to circular shifts, the phase moves by e^{-2πi k·t/N}.

(proofs: dft_shift.)  The FFT is not exact arithmetic, so these are float-mode
checks: the tolerance comes from the tolerance model (2·γ_n·max|output|)
and a float64 re-run separates rounding from violations.
"""

import math

import torch
from hypothesis import given
from hypothesis import strategies as st

from helpers import falsify
from convnet_invariances import (
    Action,
    CircularShift,
    OutputAction,
    Translations,
    ZeroShift,
    assert_invariant,
    assert_orbit,
    images,
    shifts,
    trivial_action,
)


def fourier_magnitude(x):
    return torch.fft.fftn(x, dim=tuple(range(2, x.dim()))).abs()


def fourier_transform(x):
    return torch.fft.fftn(x, dim=tuple(range(2, x.dim())))


class PhaseRamp(Action):
    """Multiplication of a spectrum by e^{-2πi k·t/N}: what a circular shift by t does in Fourier space."""

    def __init__(self, shifts):
        self.shifts = tuple(shifts)

    def _apply(self, spectrum):
        phase = torch.zeros((), dtype=torch.float64)
        for axis, (t, n) in enumerate(zip(self.shifts, spectrum.shape[2:])):
            k = torch.fft.fftfreq(n, d=1.0 / n, dtype=torch.float64)
            shape = [1] * len(self.shifts)
            shape[axis] = n
            phase = phase + (-2 * math.pi * t / n) * k.view(shape)
        return spectrum * torch.polar(torch.ones_like(phase), phase).to(spectrum.dtype)

    def inverse(self):
        return PhaseRamp(tuple(-t for t in self.shifts))

    def rounding_steps(self, shape):
        return 8  # phase argument (2), cos and sin (1 each), complex product (4)

    def __repr__(self):
        return f"phase_ramp({', '.join(map(str, self.shifts))})"


class FourierShiftTheorem(OutputAction):
    """ρ(shift t) = multiplication by the phase ramp e^{-2πi k·t/N}."""

    def __call__(self, g):
        return PhaseRamp(g.shifts)

    def __repr__(self):
        return "FourierShiftTheorem()"


@given(x=images(values="floats", channels=(1, 2), max_side=8))
def test_fourier_magnitude_2d_is_invariant_to_every_circular_shift(x):
    assert_orbit(fourier_magnitude, x, Translations(x.shape[2:]), output_action=trivial_action(), mode="float")


@given(x=images(dims=1, values="floats", channels=(1, 2), max_side=16))
def test_fourier_magnitude_1d_is_invariant_to_every_circular_shift(x):
    assert_orbit(fourier_magnitude, x, Translations(x.shape[2:]), output_action=trivial_action(), mode="float")


@given(dims=st.sampled_from([1, 2]), data=st.data())
def test_fourier_phase_moves_by_exactly_the_shift_theorem_ramp(dims, data):
    x = data.draw(images(dims=dims, values="floats", max_side=8)).double()
    assert_orbit(fourier_transform, x, Translations(x.shape[2:]), output_action=FourierShiftTheorem(), mode="float")


def test_twin_wrong_phase_sign_is_caught():
    class WrongSign(FourierShiftTheorem):
        def __call__(self, g):
            return PhaseRamp(tuple(-t for t in g.shifts))

    @given(x=images(dims=1, min_side=3, max_side=8))
    def wrong_sign_holds(x):
        assert_orbit(fourier_transform, x.double(), Translations(x.shape[2:]), output_action=WrongSign(), mode="float")

    found = falsify(wrong_sign_holds)
    assert found.input_shape[2:] == (3,), found.report()


def test_twin_zero_fill_shift_changes_the_fourier_magnitude():
    @given(x=images(min_side=2, max_side=6), t=shifts(max_shift=1, nonzero=True))
    def magnitude_ignores_zero_fill_shifts(x, t):
        assert_invariant(fourier_magnitude, x, ZeroShift(t), mode="float")

    found = falsify(magnitude_ignores_zero_fill_shifts)
    assert max(found.input_shape[2:]) == 2, found.report()


@given(x=images(values="object", background=2, min_side=5, max_side=8), t=shifts(max_shift=2))
def test_zero_fill_shift_of_an_object_on_empty_background_keeps_the_magnitude(x, t):
    # content that stays inside the frame: the zero-fill shift equals the circular one
    assert torch.equal(ZeroShift(t)(x), CircularShift(t)(x))
    assert_invariant(fourier_magnitude, x, ZeroShift(t), mode="float")
