"""The input portfolio of the falsification search: the kinds of input a defect may need before it shows.

Small integers make convolution, pooling and permutations exact (bitwise
checks); but a defect can need non-integer values, magnitudes far above or
below a few units, non-negative or non-positive images, constant, narrow-band,
sparse, single-impulse, smooth or high-frequency ones, channels of very
different sizes, or content next to the border — and often two of these at
once.  So an input is a *domain* (how values are drawn) followed by
*transforms* (sign, value grid, magnitude), and a batch's samples after the
first are each drawn from another row of a pairwise covering design: every
pair of (domain, sign, values, magnitude) levels meets in some row, so a
defect that needs two input properties together is met within the first rows.

Every draw comes from a ``torch.Generator`` seeded by the search, so an input
is rebuilt exactly from its description (domain, seed, scale, batch size,
transforms, variation).
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


def _impulse(generator, shape, scale):
    """One non-zero value per sample, anywhere, of either sign and a size between 1 and 10 (times ``scale``)."""
    x = torch.zeros(shape, dtype=torch.float64)
    per_sample = math.prod(shape[1:])
    for n in range(shape[0]):
        position = int(torch.randint(per_sample, (), generator=generator))
        size = 1 + 9 * float(torch.rand((), generator=generator))
        sign = 1.0 if bool(torch.randint(2, (), generator=generator)) else -1.0
        x[n].view(-1)[position] = sign * size * scale
    return x


def _checkerboard(generator, shape, scale):
    """Gaussian magnitudes with the sign alternating from pixel to pixel: all energy near Nyquist."""
    spatial = shape[2:]
    grids = torch.meshgrid(*[torch.arange(n) for n in spatial], indexing="ij")
    parity = torch.zeros(spatial, dtype=torch.long)
    for grid in grids:
        parity = parity + grid
    signs = (1 - 2 * (parity % 2)).double()
    return torch.randn(shape, generator=generator, dtype=torch.float64).abs() * signs * scale


def _narrow_band(generator, shape, scale):
    """Each sample in a narrow band of its own: an offset of either sign with a contrast of 3–10 % of ``scale``.

    The offsets' magnitudes are stratified over (0, 1.2)·``scale`` across the batch (one stratum per sample,
    a random point in each), so a batch of n samples puts a sample in every band wider than 2.4/n of that range:
    a defect tied to one level of grey (mid-grey, say) is met without knowing the level.
    """
    batch = shape[0]
    strata = (torch.randperm(batch, generator=generator).double()
              + torch.rand(batch, generator=generator, dtype=torch.float64)) / batch
    signs = torch.randint(0, 2, (batch,), generator=generator).double() * 2 - 1
    offset = (1.2 * strata * signs * scale).view((batch,) + (1,) * (len(shape) - 1))
    width = 10 ** (torch.rand(shape[:1] + (1,) * (len(shape) - 1), generator=generator, dtype=torch.float64)
                   * 0.5 - 1.5) * scale
    return offset + (torch.rand(shape, generator=generator, dtype=torch.float64) - 0.5) * width


def _unit(generator, shape, scale):
    """Values in [0, 1): a float image as data loaders give it (``ToTensor``)."""
    return torch.rand(shape, generator=generator, dtype=torch.float64) * scale


def _pixels(generator, shape, scale):
    """Raw 8-bit pixel values, integers 0 … 255."""
    return torch.randint(0, 256, shape, generator=generator, dtype=torch.float64)


def _grey(generator, shape, scale):
    """A grey image stored with every channel equal (grey as RGB), values in [0, 1)."""
    one = torch.rand((shape[0], 1) + tuple(shape[2:]), generator=generator, dtype=torch.float64) * scale
    return one.expand(shape).clone()


def _signed_unit(generator, shape, scale):
    """Values in [-1, 1): an image normalised to [-1, 1] (``2u - 1``)."""
    return (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * scale


#: ImageNet's per-channel mean and standard deviation (channel c uses entry c mod 3)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _imagenet(generator, shape, scale):
    """An image in [0, 1) normalised by the ImageNet mean and standard deviation, per channel."""
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    view = (1, shape[1]) + (1,) * (len(shape) - 2)
    mean = torch.tensor([IMAGENET_MEAN[c % 3] for c in range(shape[1])], dtype=torch.float64).view(view)
    std = torch.tensor([IMAGENET_STD[c % 3] for c in range(shape[1])], dtype=torch.float64).view(view)
    return (u - mean) / std * scale


def _repeated(generator, shape, scale):
    """One Gaussian sample repeated through the batch (test-time augmentation, benchmark loops)."""
    one = torch.randn((1,) + tuple(shape[1:]), generator=generator, dtype=torch.float64) * scale
    return one.expand(shape).clone()


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
    together: bool = False  # the batch's samples are drawn as a design (strata): the portfolio keeps them all
    # a kind of whole batch (what a data loader gives): its portfolio case is uniform, and it is not a row of
    # RECIPES — a test a layer makes once per batch ("is every value in [0, 1]?") sees such batches only
    whole_batch: bool = False
    batch: int = 0  # the portfolio's batch size for this domain (0: the next of BATCH_SIZES)

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
    Domain("impulse", _impulse, (1.0, 100.0)),
    Domain("smooth", _smooth, (1.0,)),
    Domain("checkerboard", _checkerboard, (1.0,)),
    Domain("narrow-band", _narrow_band, (1.0,), together=True),
    Domain("large", _large, (1.0,)),
    Domain("wide-integers", _wide_integers, (50.0, 1000.0), integer=True),
    Domain("border", _border, (1.0,)),
    Domain("unit", _unit, (1.0,), together=True, whole_batch=True),
    Domain("pixels", _pixels, (1.0,), integer=True, whole_batch=True),
    Domain("grey", _grey, (1.0,), together=True, whole_batch=True),
    # whole batches at the sizes layers special-case (16, 32, 64 and above: fused large-batch kernels)
    Domain("repeated", _repeated, (1.0,), together=True, whole_batch=True, batch=16),
    Domain("signed-unit", _signed_unit, (1.0,), together=True, whole_batch=True, batch=32),
    Domain("imagenet", _imagenet, (1.0,), together=True, whole_batch=True, batch=64),
)
DOMAIN_NAMES = tuple(d.name for d in DOMAINS)
#: the domains the covering design mixes within a batch (the whole-batch ones come as whole batches)
RECIPE_DOMAINS = tuple(d.name for d in DOMAINS if not d.whole_batch)
BY_NAME = {d.name: d for d in DOMAINS}


# ----------------------------------------------------------------------------- transforms


def _channel_scales(x, generator):
    """Each channel of each sample times its own 10^U(−3, 3): channels of very different sizes."""
    exponents = torch.rand(x.shape[:2] + (1,) * (x.dim() - 2), generator=generator, dtype=torch.float64) * 6 - 3
    return x * 10.0**exponents


def _low_contrast(x):
    """Each sample pulled toward its own mean, ten times closer: a dim, foggy image, values in a narrow band."""
    mean = x.mean(dim=tuple(range(1, x.dim())), keepdim=True)
    return mean + 0.1 * (x - mean)


#: what a transform does to a drawn batch (float64, before the cast to the layer's dtype)
TRANSFORMS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "nonnegative": lambda x, g: x.abs(),
    "nonpositive": lambda x, g: -x.abs(),
    "negated": lambda x, g: -x,
    "half-integers": lambda x, g: torch.floor(x) + 0.5,  # exact in every float format: ties for rounding
    "fractional": lambda x, g: x * 0.3183098861837907 + 0.1,  # off every dyadic grid
    "times 1e-8": lambda x, g: x * 1e-8,
    "times 1e3": lambda x, g: x * 1e3,
    "channel-scaled": _channel_scales,
    "low-contrast": lambda x, g: _low_contrast(x),
}
#: the factors of the covering design and their levels ("" leaves the input as drawn)
SIGNS = ("", "nonnegative", "nonpositive")
VALUES = ("", "half-integers", "fractional")
MAGNITUDES = ("", "times 1e-8", "times 1e3", "channel-scaled")
CONTRASTS = ("", "low-contrast")


def _pairwise_rows(factors: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """A small set of rows covering every pair of levels of every two factors (greedy, deterministic).

    >>> rows = _pairwise_rows((("a", "b"), ("x", "y"), ("0", "1")))
    >>> all(any(r[i] == u and r[j] == v for r in rows) for i, j in ((0, 1), (0, 2), (1, 2))
    ...     for u in (("a", "b"), ("x", "y"), ("0", "1"))[i] for v in (("a", "b"), ("x", "y"), ("0", "1"))[j])
    True
    """
    uncovered = {(i, u, j, v) for i in range(len(factors)) for j in range(i + 1, len(factors))
                 for u in factors[i] for v in factors[j]}
    rows = []
    first = 0
    while uncovered:
        # start from the first factor's levels in turn, then add the level of each later factor that covers
        # the most uncovered pairs with the levels chosen so far (ties: the first listed)
        row = [factors[0][first % len(factors[0])]]
        first += 1
        for k in range(1, len(factors)):
            def gain(level, k=k):
                return sum((i, row[i], k, level) in uncovered for i in range(k))
            row.append(max(factors[k], key=gain))
        covered = {(i, row[i], j, row[j]) for i in range(len(row)) for j in range(i + 1, len(row))}
        if covered & uncovered:
            rows.append(tuple(row))
            uncovered -= covered
    return tuple(rows)


#: rows of (domain, contrast, sign, values, magnitude): every two levels of any two factors meet in some row;
#: the transforms apply in that order (contrast before sign, so a low-contrast band may sit on either side of 0)
RECIPES = tuple((domain, tuple(t for t in rest if t)) for domain, *rest in
                _pairwise_rows((RECIPE_DOMAINS, CONTRASTS, SIGNS, VALUES, MAGNITUDES)))


def _transformed(x, transforms, generator):
    for name in transforms:
        x = TRANSFORMS[name](x, generator)
    return x


# ----------------------------------------------------------------------------- input cases


#: batch sizes of the portfolio, in its order: one sample for the two integer cases (exact checks), several odd
#: and even sizes and 18 (above the 17 a layer might special-case) — the reference's own batch size, not only the
#: engine's chunks — and as many samples in all as the portfolio's varied samples need to walk every row of
#: RECIPES once (the narrow-band case keeps its own stratified batch)
BATCH_SIZES = (1, 4, 2, 1, 7, 3, 6, 3, 1, 18, 5, 6, 4, 1, 11)
#: generated cases draw batch sizes up to this
LARGEST_BATCH = 33


@dataclass(frozen=True)
class InputCase:
    """A reproducible input batch: ``domain`` drawn with ``seed`` at ``scale``, ``batch`` samples, then
    ``transforms``; with ``vary``, every sample after the first is drawn from its own row of :data:`RECIPES`.

    >>> case = InputCase("integers", seed=3, scale=1.0, batch=2)
    >>> x = case.tensor((1, 4, 4), torch.float32, "cpu")
    >>> x.shape, bool((x == x.round()).all())
    (torch.Size([2, 1, 4, 4]), True)
    >>> y = InputCase("gaussian", seed=3, scale=1.0, batch=1, transforms=("nonnegative",)).tensor((1, 4, 4),
    ...                                                                                             torch.float32, "cpu")
    >>> bool((y >= 0).all())
    True
    """

    domain: str
    seed: int
    scale: float
    batch: int
    transforms: tuple = ()
    vary: bool = False

    def tensor(self, sample_shape, dtype, device) -> torch.Tensor:
        shape = (self.batch,) + tuple(sample_shape)
        generator = torch.Generator().manual_seed(self.seed)
        x = _transformed(BY_NAME[self.domain].draw(generator, shape, self.scale), self.transforms, generator)
        if self.vary and self.batch > 1:
            for n in range(1, self.batch):
                domain, transforms = RECIPES[(self.seed + n) % len(RECIPES)]
                generator = torch.Generator().manual_seed((self.seed + 7919 * n) % 2**63)
                drawn = BY_NAME[domain].draw(generator, (1,) + tuple(sample_shape), BY_NAME[domain].scales[0])
                x[n] = _transformed(drawn, transforms, generator)[0]
        return x.to(dtype=dtype, device=device)

    @property
    def integer(self) -> bool:
        """Integer-valued whatever the seed: exact mode stays available."""
        return BY_NAME[self.domain].integer and not self.vary and all(
            t in ("nonnegative", "nonpositive", "negated", "times 1e3") for t in self.transforms)

    def describe(self) -> str:
        scale = f", scale {self.scale:g}" if self.scale != 1.0 else ""
        transforms = "".join(f", {t}" for t in self.transforms)
        vary = ", the other samples each of another kind" if self.vary and self.batch > 1 else ""
        return f"{self.domain} (seed {self.seed}{scale}{transforms}, batch {self.batch}{vary})"


#: the portfolio: every domain, and the Gaussian at its three scales (tiny, unit, huge values)
PORTFOLIO = [(d.name, scale) for d in DOMAINS for scale in (d.scales if d.name == "gaussian" else d.scales[:1])]


def portfolio(seed: int) -> list[InputCase]:
    """One case per entry of :data:`PORTFOLIO`, batch sizes cycling through :data:`BATCH_SIZES`: the explicit
    examples every search starts with, so that every domain is covered whatever else the budget allows.  The
    samples after the first of a non-integer case walk through :data:`RECIPES`, so the portfolio's extra
    samples meet every pair of input properties."""
    cases = []
    offset = 0
    for i, (name, scale) in enumerate(PORTFOLIO):
        batch = BY_NAME[name].batch or BATCH_SIZES[i % len(BATCH_SIZES)]
        vary = not (BY_NAME[name].integer or BY_NAME[name].together)
        case_seed = (seed * 7919 + i) % 2**31
        if vary:  # consecutive rows: the seed picks where this case's samples start in RECIPES
            case_seed = case_seed - case_seed % len(RECIPES) + offset % len(RECIPES)
            offset += batch - 1
        cases.append(InputCase(name, case_seed, scale, batch, vary=vary))
    return cases


#: kinds of input tried, in turn, when a drawn batch breaks the stated assumption: the drawn domain with one
#: transform at a time, then every recipe applied to the whole batch
def assumption_variants(case: InputCase) -> list[InputCase]:
    """Other inputs of the same size to try when ``case`` breaks the caller's assumption.

    >>> len(assumption_variants(InputCase("gaussian", 1, 1.0, 2))) > 40
    True
    """
    variants = [InputCase(case.domain, case.seed, case.scale, case.batch, (t,)) for t in TRANSFORMS]
    variants += [InputCase(case.domain, case.seed, case.scale, case.batch, (a, b))
                 for a in SIGNS[1:] + CONTRASTS[1:] for b in MAGNITUDES[1:]]
    variants += [InputCase(domain, case.seed + k, BY_NAME[domain].scales[-1], case.batch, transforms)
                 for k, (domain, transforms) in enumerate(RECIPES)]
    return variants


def probe_batches(sample_shape, dtype, device, seed: int, cap: int) -> list[torch.Tensor]:
    """The portfolio as few batches: its first case (the audit's first input), every mixed case (each cut to
    ``cap`` samples) in one batch, and each whole-batch case alone (cut to ``cap``), so that a test a layer makes
    once per batch still sees a homogeneous one.  For checks that compare two ways of calling a layer (other
    execution contexts, a copy) on the search's inputs at a fraction of the calls."""
    cases = portfolio(seed)
    tensors = [case.tensor(sample_shape, dtype, device)[:cap] for case in cases]
    mixed = [t for case, t in zip(cases, tensors) if not BY_NAME[case.domain].whole_batch]
    whole = [t for case, t in zip(cases, tensors) if BY_NAME[case.domain].whole_batch]
    return [tensors[0], torch.cat(mixed)] + whole
