"""Fourier magnitude, a 1-D Mellin magnitude, and the Fourier–Mellin descriptor.

|DFT| is invariant to circular shifts (proofs: dft_shift).  Resampling on a
logarithmic grid turns a dilation into a shift, so |DFT| of the log-resampled
signal is scale invariant up to the grid and interpolation (proofs:
mellin_scaling); on a log-polar grid, rotations become shifts along the angle
axis and dilations shifts along the log-radius axis (the Fourier–Mellin
construction).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._common import InvalidHyperparameter, check_input, positive_int


class FourierMagnitude(torch.nn.Module):
    """|DFT| over the spatial axes of (N, C, L) (``dims=1``) or (N, C, H, W) (``dims=2``) inputs.

    >>> x = torch.tensor([[[1., 0., 0., 0.]]])
    >>> FourierMagnitude(dims=1)(x).flatten().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, dims=2):
        super().__init__()
        if dims not in (1, 2):
            raise InvalidHyperparameter(f"dims={dims!r} must be 1 or 2")
        self.dims = dims

    def forward(self, x):
        check_input(x, "FourierMagnitude", rank=self.dims + 2)
        return torch.fft.fftn(x, dim=tuple(range(2, x.dim()))).abs()

    def extra_repr(self):
        return f"dims={self.dims}"


def _interpolate_1d(x, positions):
    """Linear interpolation of (N, C, L) samples at pixel-centre positions t (pixel n is centred at n + 0.5); 0 outside."""
    length = x.shape[-1]
    index = positions - 0.5
    low = torch.floor(index)
    frac = (index - low).to(x.dtype)
    low = low.long()
    padded = F.pad(x, (1, 1))  # zeros outside the signal
    left = padded[..., (low + 1).clamp(0, length + 1)]
    right = padded[..., (low + 2).clamp(0, length + 1)]
    return left * (1 - frac) + right * frac


class MellinMagnitude1d(torch.nn.Module):
    """|DFT| of the signal resampled at t_k = 2^(k / samples_per_octave), k < samples_per_octave · octaves.

    Dilating the signal by 2 (``convnet_invariances.Upscale(2)``) shifts the log samples by
    ``samples_per_octave``; content that stays inside [1, 2^octaves) pixels
    then gives the same magnitude, up to interpolation error that falls with
    resolution.

    >>> MellinMagnitude1d(samples_per_octave=4, octaves=3)(torch.ones(1, 1, 8)).shape
    torch.Size([1, 1, 12])
    """

    def __init__(self, samples_per_octave=16, octaves=6):
        super().__init__()
        self.samples_per_octave = positive_int("samples_per_octave", samples_per_octave)
        self.octaves = positive_int("octaves", octaves)
        k = torch.arange(samples_per_octave * octaves, dtype=torch.float64)
        self.register_buffer("positions", torch.pow(2.0, k / samples_per_octave))

    def forward(self, x):
        check_input(x, "MellinMagnitude1d", rank=3)
        return torch.fft.fft(_interpolate_1d(x, self.positions), dim=-1).abs()

    def extra_repr(self):
        return f"samples_per_octave={self.samples_per_octave}, octaves={self.octaves}"


class FourierMellin(torch.nn.Module):
    """|DFT over log-radius| of |DFT over angle| of the image resampled on a log-polar grid about its centre.

    ``angles`` (a multiple of 4) samples θ_j = 2πj/angles; radii are
    r_k = r_min · 2^(k / samples_per_octave) up to ``max_radius_fraction`` of
    the half-side.  rot90 and the flips map the grid onto itself, so they
    leave the descriptor unchanged up to rounding; continuous rotations and
    dilations do so up to interpolation error.

    >>> FourierMellin(angles=8, radii=6)(torch.zeros(1, 1, 16, 16)).shape
    torch.Size([1, 1, 8, 6])
    """

    def __init__(self, angles=32, radii=16, *, r_min=1.0, max_radius_fraction=0.9):
        super().__init__()
        self.angles = positive_int("angles", angles, 4)
        if angles % 4:
            raise InvalidHyperparameter(f"angles={angles!r} must be a multiple of 4 (so rot90 maps the grid to itself)")
        self.radii = positive_int("radii", radii, 2)
        self.r_min = float(r_min)
        self.max_radius_fraction = float(max_radius_fraction)

    def grid(self, side, dtype, device):
        half = (side - 1) / 2
        r_max = self.max_radius_fraction * half
        if r_max <= self.r_min:
            raise ValueError(f"FourierMellin needs images larger than {2 * self.r_min / self.max_radius_fraction + 1:.0f} pixels")
        theta = 2 * math.pi * torch.arange(self.angles, dtype=torch.float64) / self.angles
        log_r = torch.linspace(math.log(self.r_min), math.log(r_max), self.radii, dtype=torch.float64)
        r = torch.exp(log_r)
        cols = half + r.view(1, -1) * torch.cos(theta).view(-1, 1)
        rows = half - r.view(1, -1) * torch.sin(theta).view(-1, 1)
        # grid_sample with align_corners=True maps -1 and 1 to the centres of the first and last pixels
        grid = torch.stack([cols / half - 1, rows / half - 1], dim=-1)
        return grid.to(dtype=dtype, device=device)

    def forward(self, x):
        check_input(x, "FourierMellin", square=True)
        grid = self.grid(x.shape[-1], x.dtype, x.device).expand(x.shape[0], -1, -1, -1)
        log_polar = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        over_angle = torch.fft.fft(log_polar, dim=-2).abs()
        return torch.fft.fft(over_angle, dim=-1).abs()

    def extra_repr(self):
        return f"angles={self.angles}, radii={self.radii}"
