"""What every reference layer shares: argument checks, input checks, deterministic integer weights."""

from __future__ import annotations

import torch


class InvalidHyperparameter(ValueError):
    """A layer was constructed with a hyperparameter it cannot work with.

    >>> from convnet_invariances.models import BlurPool
    >>> BlurPool(channels=1, filter_size=9)
    Traceback (most recent call last):
    convnet_invariances.models._common.InvalidHyperparameter: filter_size=9 must be an int in 1..7 (binomial filters of those sizes)
    """


class InvalidInput(ValueError):
    """A layer was called on an input of the wrong rank or size.

    >>> from convnet_invariances.models import Conv
    >>> Conv(1, 1)(torch.zeros(8, 8))
    Traceback (most recent call last):
    convnet_invariances.models._common.InvalidInput: Conv expects a (N, C, H, W) tensor, got shape (8, 8)
    """


def positive_int(name, value, minimum=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidHyperparameter(f"{name}={value!r} must be an int ≥ {minimum}")
    return value


def one_of(name, value, options):
    if value not in options:
        raise InvalidHyperparameter(f"{name}={value!r} must be one of {tuple(options)}")
    return value


def check_input(x, layer, rank=4, channels=None, divisible_by=1, square=False, odd=False):
    """Raise :class:`InvalidInput` naming the layer and the expected shape."""
    layout = {3: "(N, C, L)", 4: "(N, C, H, W)"}[rank]
    if not isinstance(x, torch.Tensor) or x.dim() != rank:
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise InvalidInput(f"{layer} expects a {layout} tensor, got {got}")
    if channels is not None and x.shape[1] != channels:
        raise InvalidInput(f"{layer} expects {channels} input channel(s) {layout}, got shape {tuple(x.shape)}")
    if any(n % divisible_by for n in x.shape[2:]):
        raise InvalidInput(
            f"{layer} expects spatial sizes divisible by {divisible_by} (its total stride), got {tuple(x.shape[2:])}"
        )
    if square and x.shape[-1] != x.shape[-2]:
        raise InvalidInput(f"{layer} expects square inputs (H == W), got {tuple(x.shape[2:])}")
    if odd and any(n % 2 == 0 for n in x.shape[2:]):
        raise InvalidInput(f"{layer} expects odd spatial sizes (rot90 parity with stride 2), got {tuple(x.shape[2:])}")


def integer_init_(module, seed, low=-1, high=1):
    """Fill every parameter with integers in [low, high] from a fixed seed, so exact mode is available.

    Integer weights and integer inputs keep convolutions, pooling and sums
    exact in floating point while intermediate values stay below 2^24
    (float32) or 2^53 (float64).
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randint(low, high + 1, p.shape, generator=generator).to(p.dtype))
    return module
