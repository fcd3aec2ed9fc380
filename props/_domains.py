"""The input portfolio of the falsification search: the kinds of input a defect may need before it shows.

Small integers make convolution, pooling and permutations exact (bitwise
checks); but a defect can need non-integer values, magnitudes far above a
few units, non-negative or constant images, sparse or smooth ones, or
content next to the border.  Every domain draws from a ``torch.Generator``
seeded by the search, so an input is rebuilt exactly from its description
(domain, seed, scale, batch size) — which is what reproductions print.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

Draw = Callable[[torch.Generator, tuple, float], torch.Tensor]


def _integers(generator, shape, scale):
    return torch.randint(-3, 4, shape, generator=generator, dtype=torch.float64)


def _wide_integers(generator, shape, scale):
    bound = max(4, int(scale))
    return torch.randint(-bound, bound + 1, shape, generator=generator, dtype=torch.float64)


def _gaussian(generator, shape, scale):
    return torch.randn(shape, generator=generator, dtype=torch.float64) * scale


def _nonnegative(generator, shape, scale):
    return torch.rand(shape, generator=generator, dtype=torch.float64) * scale


def _constant(generator, shape, scale):
    value = torch.randn(shape[:2] + (1,) * (len(shape) - 2), generator=generator, dtype=torch.float64) * scale
    return value.expand(shape).clone()


def _near_constant(generator, shape, scale):
    noise = torch.randn(shape, generator=generator, dtype=torch.float64) * 1e-3 * scale
    return _constant(generator, shape, scale) + noise


def _sparse(generator, shape, scale):
    x = torch.zeros(shape, dtype=torch.float64)
    per_sample = math.prod(shape[1:])
    count = max(1, min(3, per_sample // 4))
    for n in range(shape[0]):
        positions = torch.randperm(per_sample, generator=generator)[:count]
        values = torch.randint(1, 4, (count,), generator=generator).double()
        signs = torch.randint(0, 2, (count,), generator=generator).double() * 2 - 1
        x[n].view(-1)[positions] = values * signs * max(1.0, scale)
    return x


def _smooth(generator, shape, scale):
    """A few low-frequency cosines: band-limited, nothing at Nyquist."""
    spatial = shape[2:]
    grids = torch.meshgrid(*[torch.arange(n, dtype=torch.float64) for n in spatial], indexing="ij")
    x = torch.zeros(shape, dtype=torch.float64)
    for _ in range(3):
        phase = float(torch.rand((), generator=generator, dtype=torch.float64)) * 2 * math.pi
        argument = phase + sum(2 * math.pi * int(torch.randint(-2, 3, (), generator=generator)) * g / n
                               for g, n in zip(grids, spatial))
        amplitude = torch.randn(shape[:2] + (1,) * len(spatial), generator=generator, dtype=torch.float64)
        x = x + amplitude * torch.cos(argument)
    return x * scale


def _large(generator, shape, scale):
    magnitude = 10 ** (3 + 3 * torch.rand(shape, generator=generator, dtype=torch.float64))  # 1e3 … 1e6
    signs = torch.randint(0, 2, shape, generator=generator).double() * 2 - 1
    return magnitude * signs


def _border(generator, shape, scale):
    """Content on the outer ring only (rows and columns 0 and n − 1)."""
    x = torch.randn(shape, generator=generator, dtype=torch.float64) * scale
    inner = (...,) + tuple(slice(1, n - 1) for n in shape[2:])
    x[inner] = 0
    return x


@dataclass(frozen=True)
class Domain:
    """One kind of input: its name, how to draw it, and the scales a search may try."""

    name: str
    draw: Draw
    scales: tuple
    integer: bool = False  # integer-valued: exact mode is available for integer weights

    def sample(self, shape, seed, scale, dtype, device) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return self.draw(generator, tuple(shape), scale).to(dtype=dtype, device=device)


#: the first scale of each domain is in the portfolio every search starts with; generated inputs may use any
DOMAINS = (
    Domain("integers", _integers, (1.0,), integer=True),
    Domain("gaussian", _gaussian, (1.0, 1e-3, 1e3)),
    Domain("nonnegative", _nonnegative, (1.0, 10.0)),
    Domain("constant", _constant, (1.0, 10.0)),
    Domain("near-constant", _near_constant, (1.0,)),
    Domain("sparse", _sparse, (1.0, 100.0)),
    Domain("smooth", _smooth, (1.0,)),
    Domain("large", _large, (1.0,)),
    Domain("wide-integers", _wide_integers, (50.0, 1000.0), integer=True),
    Domain("border", _border, (1.0,)),
)
#: the portfolio: every domain, and the Gaussian at its three scales (tiny, unit, huge values)
PORTFOLIO = [(d.name, scale) for d in DOMAINS for scale in (d.scales if d.name == "gaussian" else d.scales[:1])]
DOMAIN_NAMES = tuple(d.name for d in DOMAINS)
BY_NAME = {d.name: d for d in DOMAINS}
#: batch sizes the search varies: mostly one to three samples, sometimes several (odd and even), once 17
BATCH_SIZES = (1, 3, 2, 1, 5, 1, 8, 2, 1, 17, 3, 1)


@dataclass(frozen=True)
class InputCase:
    """A reproducible input batch: ``domain`` drawn with ``seed`` at ``scale``, ``batch`` samples.

    >>> case = InputCase("integers", seed=3, scale=1.0, batch=2)
    >>> x = case.tensor((1, 4, 4), torch.float32, "cpu")
    >>> x.shape, bool((x == x.round()).all())
    (torch.Size([2, 1, 4, 4]), True)
    """

    domain: str
    seed: int
    scale: float
    batch: int

    def tensor(self, sample_shape, dtype, device) -> torch.Tensor:
        return BY_NAME[self.domain].sample((self.batch,) + tuple(sample_shape), self.seed, self.scale, dtype, device)

    def describe(self) -> str:
        scale = f", scale {self.scale:g}" if self.scale != 1.0 else ""
        return f"{self.domain} (seed {self.seed}{scale}, batch {self.batch})"

    def construction(self, sample_shape, dtype) -> str:
        """Python that rebuilds the input from the public API (for reproductions)."""
        return (f"InputCase({self.domain!r}, seed={self.seed}, scale={self.scale!r}, batch={self.batch})"
                f".tensor({tuple(sample_shape)!r}, {dtype}, 'cpu')")


def portfolio(seed: int) -> list[InputCase]:
    """One case per entry of :data:`PORTFOLIO`, batch sizes cycling through :data:`BATCH_SIZES`: the explicit
    examples every search starts with, so that every domain is covered whatever else the budget allows."""
    return [InputCase(name, (seed * 7919 + i) % 2**31, scale, BATCH_SIZES[i % len(BATCH_SIZES)])
            for i, (name, scale) in enumerate(PORTFOLIO)]
