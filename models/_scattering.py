"""A 2-D scattering transform (Mallat 2012; Bruna & Mallat 2013), orders 0, 1 and 2.

Morlet wavelets ψ_{j,θ} at scales 2^j (j < J) and ``orientations`` angles in
[0, π), a Gaussian low-pass φ_J of width 0.8·2^J; every convolution is
circular, done by FFT.  Coefficients are

    S0 = x ⋆ φ_J,  S1 = |x ⋆ ψ_{j1,θ1}| ⋆ φ_J,  S2 = ||x ⋆ ψ_{j1,θ1}| ⋆ ψ_{j2,θ2}| ⋆ φ_J  (j1 < j2),

subsampled by 2^J.  Circular shifts by multiples of 2^J move the output by
t/2^J exactly; other shifts change it by at most about |t|·2^-J relative
(proofs: averaging_bound), which is the translation invariance "up to 2^J".
kymatio 0.3.0, the reference implementation, does not import with scipy ≥ 1.17,
so this is a compact re-implementation of the same construction.
"""

from __future__ import annotations

import math

import torch

from ._common import InvalidHyperparameter, check_input, positive_int


def _periodic_grid(side):
    """Coordinates of an N×N periodic grid, centred on pixel (0, 0), for periodised filters."""
    u = torch.arange(side, dtype=torch.float64)
    u = torch.where(u >= side / 2, u - side, u)
    return torch.meshgrid(u, u, indexing="ij")


def gaussian_filter_hat(side, sigma):
    """Fourier transform of a periodised unit-mass Gaussian of width ``sigma`` (φ̂(0) = 1)."""
    rows, cols = _periodic_grid(side)
    g = torch.zeros(side, side, dtype=torch.float64)
    for dy in (-side, 0, side):
        for dx in (-side, 0, side):
            g += torch.exp(-((rows + dy) ** 2 + (cols + dx) ** 2) / (2 * sigma**2))
    g /= g.sum()
    return torch.fft.fft2(g)


def morlet_filter_hat(side, j, theta, xi=3 * math.pi / 4, sigma0=0.8):
    """Fourier transform of a periodised Morlet wavelet at scale 2^j and angle θ (zero mean)."""
    rows, cols = _periodic_grid(side)
    sigma, frequency = sigma0 * 2**j, xi / 2**j
    total = torch.zeros(side, side, dtype=torch.complex128)
    envelope_total = torch.zeros(side, side, dtype=torch.float64)
    for dy in (-side, 0, side):
        for dx in (-side, 0, side):
            r, c = rows + dy, cols + dx
            envelope = torch.exp(-(r**2 + c**2) / (2 * sigma**2))
            along = c * math.cos(theta) - r * math.sin(theta)
            total += envelope * torch.exp(1j * frequency * along)
            envelope_total += envelope
    beta = total.sum() / envelope_total.sum()  # subtract a multiple of the envelope: zero mean
    psi = (total - beta * envelope_total) / envelope_total.sum()
    return torch.fft.fft2(psi)


class Scattering2d(torch.nn.Module):
    """Scattering coefficients of orders 0–2: (N, C, H, W) -> (N, C·K, H/2^J, W/2^J).

    K = 1 + J·L + L²·J(J−1)/2 with L = ``orientations``; inputs must be
    ``side``×``side`` with ``side`` divisible by 2^J.

    >>> Scattering2d(side=16, J=2, orientations=4)(torch.zeros(1, 1, 16, 16)).shape
    torch.Size([1, 25, 4, 4])
    """

    def __init__(self, side=32, J=2, orientations=4):
        super().__init__()
        self.side = positive_int("side", side, 4)
        self.J = positive_int("J", J)
        self.orientations = positive_int("orientations", orientations)
        if side % 2**J or 2**J > side // 2:
            raise InvalidHyperparameter(f"side={side} must be divisible by 2^J={2**J} and at least 2^(J+1)")
        # Complex filters are stored as real (..., 2) tensors: Module.to(float64) would silently drop the
        # imaginary part of a complex buffer (torch casts complex to real), breaking the float64 re-run.
        self.register_buffer("phi", torch.view_as_real(gaussian_filter_hat(side, 0.8 * 2**J)))
        psi = [morlet_filter_hat(side, j, math.pi * l / orientations) for j in range(J) for l in range(orientations)]
        self.register_buffer("psi", torch.view_as_real(torch.stack(psi)))  # (J·L, side, side, 2), scale then angle

    @staticmethod
    def _complex(buffer, dtype):
        real = torch.float64 if dtype == torch.complex128 else torch.float32
        return torch.view_as_complex(buffer.to(real).contiguous())

    def _lowpass(self, spectrum):
        step = 2**self.J
        return torch.fft.ifft2(spectrum * self._complex(self.phi, spectrum.dtype)).real[..., ::step, ::step]

    def forward(self, x):
        check_input(x, "Scattering2d", square=True)
        if x.shape[-1] != self.side:
            raise ValueError(f"Scattering2d was built for {self.side}×{self.side} inputs, got {tuple(x.shape[2:])}")
        complex_dtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
        psi = self._complex(self.psi, complex_dtype)
        spectrum = torch.fft.fft2(x.to(complex_dtype))
        order0 = self._lowpass(spectrum)
        u1 = torch.fft.ifft2(spectrum.unsqueeze(2) * psi).abs()  # (N, C, J·L, H, W)
        u1_spectrum = torch.fft.fft2(u1.to(complex_dtype))
        order1 = self._lowpass(u1_spectrum)
        order2 = []
        L = self.orientations
        for j1 in range(self.J):
            for j2 in range(j1 + 1, self.J):
                source = u1_spectrum[:, :, j1 * L:(j1 + 1) * L]  # (N, C, L, H, W)
                filters = psi[j2 * L:(j2 + 1) * L]  # (L, H, W)
                u2 = torch.fft.ifft2(source.unsqueeze(3) * filters).abs()  # (N, C, L, L, H, W)
                order2.append(self._lowpass(torch.fft.fft2(u2.flatten(2, 3).to(complex_dtype))))
        parts = [order0.unsqueeze(2), order1] + order2
        out = torch.cat(parts, dim=2)
        return out.flatten(1, 2).to(x.dtype)

    def extra_repr(self):
        return f"side={self.side}, J={self.J}, orientations={self.orientations}"
