"""Experiment 3, dense_learns_conv: does a dense layer trained to reproduce a convolution become one?

A dense linear layer (``models.DenseLinear`` in 1-D, its 2-D twin on
flattened 8×8 images) is trained by full-batch Adam to reproduce a fixed
random circular convolution (kernel 5 on length 32; 3×3 on 8×8) from ``n``
input/output pairs.  Inputs are either white noise, which spans every
direction, or smooth (low-pass) signals, which span only the low
frequencies.  Measured: the distance of the learned matrix to the nearest
circulant (the nearest convolution), the translation orbit error of the
layer on inputs like the training ones and on high-pass signals (off the
smooth distribution), and the error against the convolution.  A second sweep
factors the layer through ``h`` hidden units (two linear layers) to ask how
many units a convolution of N samples needs.
"""

from __future__ import annotations

import math

import torch

from ..._groups import Translations
from ...models import DenseLinear, circulant_matrix, padded_conv2d
from . import _measure as measure
from ._networks import standard_init_
from ._settings import Settings, Task
from ._stats import fmt, summary
from ._train import seeded

NAME = "dense_learns_conv"
QUESTION = ("A dense layer can represent a convolution (it is one with a circulant weight matrix). Trained on "
            "examples of a convolution, does it become one — shift-equivariant — also on inputs unlike its "
            "training data? How many training samples and how many units does it need?")
LENGTH, SIDE = 32, 8
DEFINITIONS = {
    "circulant_distance": "‖W − P(W)‖ / ‖W‖ (Frobenius), P(W) the nearest circulant (block-circulant in 2-D): the "
                          "average of W along each wrapped diagonal; 0 exactly for a convolution",
    "orbit[on]": "translation orbit error of the layer: max over every circular shift and the batch of "
                 "|f(g·x) − g·f(x)|, relative to max |f(x)| (orbit_error, equivariant), on fresh inputs from the "
                 "training distribution",
    "orbit[off]": "the same on high-pass inputs (only the frequencies that smooth inputs lack)",
    "error[on]": "‖f(x) − conv(x)‖ / ‖conv(x)‖ over fresh inputs from the training distribution",
    "error[off]": "the same on high-pass inputs",
    "train_error": "‖f(x) − conv(x)‖ / ‖conv(x)‖ on the training pairs at the end of training",
}
#: training-set sizes, as multiples of the number of inputs N (32 in 1-D, 64 in 2-D)
SAMPLE_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: hidden units, as multiples of N, of the two-layer factorisation (trained on 4N white-noise pairs)
UNIT_FACTORS = (0.25, 0.5, 1.0, 2.0)


def _frequencies(shape):
    """Per position of an FFT grid, the largest absolute frequency index over the axes."""
    grids = torch.meshgrid(*[torch.fft.fftfreq(n) * n for n in shape], indexing="ij")
    return torch.stack([g.abs() for g in grids]).amax(dim=0)


def cutoff(shape) -> int:
    """Smooth inputs keep frequencies up to N/8 per axis (1-D: 9 of 32 directions; 2-D: 9 of 64)."""
    return max(1, shape[0] // 8)


def signals(kind: str, count: int, shape: tuple, generator: torch.Generator) -> torch.Tensor:
    """``count`` inputs (count, 1, *shape): "white" noise, "smooth" (low-pass) or "high" (high-pass), unit variance.

    >>> g = torch.Generator().manual_seed(0)
    >>> smooth = signals("smooth", 4, (32,), g)
    >>> spectrum = torch.fft.fft(smooth).abs()[..., 5:28]
    >>> smooth.shape, bool(spectrum.max() < 1e-4)
    (torch.Size([4, 1, 32]), True)
    """
    x = torch.randn((count, 1, *shape), generator=generator)
    if kind != "white":
        low = _frequencies(shape) <= cutoff(shape)
        keep = low if kind == "smooth" else ~low
        dims = tuple(range(2, 2 + len(shape)))
        x = torch.fft.ifftn(torch.fft.fftn(x, dim=dims) * keep, dim=dims).real
    return x / x.flatten(1).std(dim=1).clamp_min(1e-12).view(-1, *([1] * (x.dim() - 1)))


def nearest_circulant(weight: torch.Tensor, shape: tuple) -> torch.Tensor:
    """The nearest (block-)circulant matrix to ``weight`` (M×M, M = prod(shape)) in the Frobenius norm: every entry
    replaced by the mean of the entries with the same wrapped difference of output and input position.

    >>> nearest_circulant(torch.diag(torch.tensor([1., 2., 3.])), (3,)).tolist()  # the diagonal's mean
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]
    >>> c = circulant_matrix(torch.tensor([1., 5., 2.]))
    >>> torch.equal(nearest_circulant(c, (3,)), c)
    True
    """
    positions = torch.stack(torch.meshgrid(*[torch.arange(n) for n in shape], indexing="ij")).flatten(1)  # (d, M)
    size = torch.tensor(shape).view(-1, 1, 1)
    difference = (positions[:, :, None] - positions[:, None, :]) % size  # (d, M, M)
    flat = torch.zeros_like(difference[0])
    for axis, n in enumerate(shape):
        flat = flat * n + difference[axis]
    count = math.prod(shape)
    sums = torch.zeros(count, dtype=weight.dtype).scatter_add_(0, flat.flatten(), weight.flatten())
    return (sums / count)[flat]


def circulant_distance(weight: torch.Tensor, shape: tuple) -> float:
    weight = weight.detach()
    return float((weight - nearest_circulant(weight, shape)).norm() / weight.norm())


class Dense2d(torch.nn.Module):
    """A dense linear map of (N, 1, H, W) images to images of the same size: the 2-D twin of ``DenseLinear``.

    >>> Dense2d(4)(torch.zeros(2, 1, 4, 4)).shape
    torch.Size([2, 1, 4, 4])
    """

    def __init__(self, side: int):
        super().__init__()
        self.side = side
        self.weight = torch.nn.Parameter(torch.empty(side * side, side * side))

    def forward(self, x):
        return (x.flatten(1) @ self.weight.T).view(x.shape)


class Factored(torch.nn.Module):
    """Two dense linear layers through ``hidden`` units, on (N, 1, L) signals: rank at most ``hidden``.

    >>> Factored(8, 2)(torch.zeros(3, 1, 8)).shape
    torch.Size([3, 1, 8])
    """

    def __init__(self, length: int, hidden: int):
        super().__init__()
        self.encode = torch.nn.Linear(length, hidden, bias=False)
        self.decode = torch.nn.Linear(hidden, length, bias=False)

    @property
    def weight(self) -> torch.Tensor:
        return self.decode.weight @ self.encode.weight

    def forward(self, x):
        return self.decode(self.encode(x))


def _target(dims: int, generator: torch.Generator):
    """The convolution to reproduce: a random kernel (5 taps in 1-D, 3×3 in 2-D), circular."""
    if dims == 1:
        column = torch.zeros(LENGTH)
        column[:5] = torch.randn(5, generator=generator)
        matrix = circulant_matrix(column)
        return lambda x: torch.einsum("ij,ncj->nci", matrix, x)
    kernel = torch.randn((1, 1, 3, 3), generator=generator)
    return lambda x: padded_conv2d(x, kernel, padding_mode="circular")


def _fit(layer, x, y, steps, learning_rate=0.1):
    """Full-batch Adam with a cosine-decaying learning rate on the mean squared error."""
    optimiser = torch.optim.Adam(layer.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(layer(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    layer.eval()


def _relative(f, target, x) -> float:
    with torch.no_grad():
        expected = target(x)
        return float((f(x) - expected).norm() / expected.norm())


def run_one(settings: Settings, seed: int, *, dims: int, kind: str, factor: float, hidden: float = 0.0) -> dict:
    shape = (LENGTH,) if dims == 1 else (SIDE, SIDE)
    inputs = math.prod(shape)
    with seeded(seed) as generator:
        target = _target(dims, generator)
        if hidden:
            layer: torch.nn.Module = Factored(LENGTH, int(hidden * inputs))
        else:
            layer = DenseLinear(LENGTH) if dims == 1 else Dense2d(SIDE)
        standard_init_(layer)
        x = signals(kind, int(factor * inputs), shape, generator)
        with torch.no_grad():
            y = target(x)
        _fit(layer, x, y, settings.regression_steps)
        on = signals(kind, settings.eval_images, shape, generator)
        off = signals("high", settings.eval_images, shape, generator)
    weight = torch.as_tensor(layer.weight).detach()  # a Parameter, or the factored layer's product
    group = Translations(shape)
    return {
        "circulant_distance": circulant_distance(weight, shape),
        "orbit[on]": measure.orbit_error(layer, on, group, equivariant=True),
        "orbit[off]": measure.orbit_error(layer, off, group, equivariant=True),
        "error[on]": _relative(layer, target, on),
        "error[off]": _relative(layer, target, off),
        "train_error": _relative(layer, target, x),
    }


def sample_factors(settings: Settings) -> tuple[float, ...]:
    return (0.5, 2.0) if settings.quick else SAMPLE_FACTORS


def unit_factors(settings: Settings) -> tuple[float, ...]:
    return (0.5, 2.0) if settings.quick else UNIT_FACTORS


def tasks(settings: Settings) -> list[Task]:
    out = []
    for seed in settings.seeds:
        for dims in (1, 2):
            for kind in ("white", "smooth"):
                for factor in sample_factors(settings):
                    out.append(Task(NAME, f"{dims}d/{kind}/n={factor:g}N", seed, run_one,
                                    (("dims", dims), ("kind", kind), ("factor", factor)), cost=1))
        for hidden in unit_factors(settings):
            out.append(Task(NAME, f"1d/units/h={hidden:g}N", seed, run_one,
                            (("dims", 1), ("kind", "white"), ("factor", 4.0), ("hidden", hidden)), cost=1))
    return out


#: below this distance to the nearest circulant the layer counts as having become a convolution
CIRCULANT = 0.05


def answer(metrics: dict) -> str:
    v = metrics["variants"]
    parts = []
    for dims, n in ((1, LENGTH), (2, SIDE * SIDE)):
        factors = sorted(float(k.split("n=")[1][:-1]) for k in v if k.startswith(f"{dims}d/white/"))
        white = [v[f"{dims}d/white/n={f:g}N"] for f in factors]
        smooth = [v[f"{dims}d/smooth/n={f:g}N"] for f in factors]
        became = [f for f, m in zip(factors, white) if m["circulant_distance"]["mean"] < CIRCULANT]
        label = f"In {dims}-D (N = {n} inputs)"
        if became:
            parts.append(f"{label}, trained on white noise the dense layer became a convolution once it had "
                         f"n = {became[0]:g}N samples (distance to the nearest circulant "
                         f"{fmt(v[f'{dims}d/white/n={became[0]:g}N']['circulant_distance'])}, against "
                         f"{fmt(white[0]['circulant_distance'])} at n = {factors[0]:g}N).")
        else:
            parts.append(f"{label}, trained on white noise the dense layer did not become a convolution with up to "
                         f"{factors[-1]:g}N samples (distance to the nearest circulant "
                         f"{fmt(white[-1]['circulant_distance'])} at n = {factors[-1]:g}N).")
        last = smooth[-1]
        inside = last["orbit[on]"]["mean"] < 0.5 * last["orbit[off]"]["mean"]
        parts.append(
            f"Trained on smooth signals, even with {factors[-1]:g}N samples it stayed "
            f"{'far from' if last['circulant_distance']['mean'] >= CIRCULANT else 'close to'} a convolution "
            f"(distance {fmt(last['circulant_distance'])}); its translation orbit error was "
            f"{fmt(last['orbit[on]'])} on smooth inputs and {fmt(last['orbit[off]'])} on high-pass inputs"
            + (" — equivariant where the data had been, not elsewhere." if inside else "."))
    units = sorted(float(k.split("h=")[1][:-1]) for k in v if k.startswith("1d/units/"))
    errors = [v[f"1d/units/h={h:g}N"]["error[on]"] for h in units]
    enough = [h for h, e in zip(units, errors) if e["mean"] < 0.05]
    parts.append(
        "Through h hidden units (two linear layers, 4N white-noise samples), the error against the convolution was "
        + ", ".join(f"{fmt(e)} at h = {h:g}N" for h, e in zip(units, errors))
        + (f": it took h ≥ {enough[0]:g}N units per layer to represent the convolution of an N-sample signal."
           if enough else ": no width tried represented the convolution."))
    return " ".join(parts)


def summarise(rows: dict) -> dict:
    return {"definitions": DEFINITIONS, "length_1d": LENGTH, "side_2d": SIDE,
            "variants": {variant: {key: summary([r[key] for r in runs]) for key in runs[0]}
                         for variant, runs in rows.items()}}
