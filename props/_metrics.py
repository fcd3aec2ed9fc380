"""Published invariance metrics of trained networks, each following its paper's protocol, with intervals.

- :func:`top1_change` — Azulay & Weiss, "Why do deep convolutional networks generalize so poorly to small
  image transformations?" (JMLR 2019): the probability that the top-1 class changes, and the mean absolute
  change (MAC) of the top-1 class's probability, when the image moves one pixel diagonally.  Their images
  sit in a larger black canvas, so the shift brings in zeros: ``boundary="zero"`` (the default) follows
  that; ``"circular"`` rolls the image instead.
- :func:`eq_psnr` — Karras et al., "Alias-Free Generative Adversarial Networks" (StyleGAN3, NeurIPS 2021):
  EQ-T and EQ-R, the peak signal-to-noise ratio in decibels between ``f(g·x)`` and ``g·f(x)`` for random
  sub-pixel translations and random rotations, ``10·log10(I²/MSE)`` with ``I`` the output's dynamic range
  (2 for images in [−1, 1], their convention).  The input is moved as the band-limited signal it samples
  (the trigonometric interpolant: :func:`flow`), so the transformation itself adds no aliasing.

Zhang's consistency lives with the audit (:func:`consistency`); the exact worst case over a finite orbit is
the orbit engine's (:func:`orbit_error`).  Every sampler here draws non-identity elements only: a draw of
the identity would count as perfect agreement and flatter the network.
"""

from __future__ import annotations

import math

import torch

from ._errors import InvalidArgument, describe_value, require_spatial
from ._intervals import bootstrap_interval, wilson_interval
from ._lie import flow
from ._safety import audited_copy

__all__ = ["eq_psnr", "top1_change"]

BOUNDARIES = ("zero", "circular")


def _check_model_and_inputs(model, inputs, name="inputs"):
    if not callable(model):
        raise InvalidArgument(f"model={describe_value(model)} must be a torch.nn.Module or a callable on tensors")
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4 or not inputs.is_floating_point():
        raise InvalidArgument(f"{name}={describe_value(inputs)} must be a floating (N, C, H, W) tensor")
    require_spatial(inputs, name)


def _shift(x, shift, boundary):
    dy, dx = shift
    if boundary == "circular":
        return torch.roll(x, (dy, dx), (-2, -1))
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _evaluated(model, x):
    """``model(x)`` without gradients, a module in eval mode on a copy (the caller's module is left as it was)."""
    with torch.no_grad():
        if isinstance(model, torch.nn.Module):
            with audited_copy(model, probe=x) as (module, _):
                return module(x)
        return model(x)


def top1_change(model, inputs: torch.Tensor, *, shift: tuple = (1, 1), boundary: str = "zero",
                confidence: float = 0.95) -> dict:
    """Azulay & Weiss's P(top-1 change) and MAC under a shift of ``shift = (dy, dx)`` pixels (one pixel
    diagonally by default), with a Wilson interval for the probability and a bootstrap interval for the MAC;
    and, beyond the paper, ``p_top1_change_worst_neighbour``: the largest P(top-1 change) over all eight
    one-pixel moves (with ``worst_neighbour``), since a single shift can happen to be a symmetry of the model.

    ``model`` maps (N, C, H, W) images to (N, K) logits; probabilities are their softmax.  The top-1 class
    is the one predicted on the unshifted image; MAC is the mean of ``|p_c(x) − p_c(shifted x)|`` for it.

    >>> import torch
    >>> pool = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    >>> result = top1_change(pool, torch.randn(16, 3, 8, 8), boundary="circular")
    >>> result["p_top1_change"], result["mac"] < 1e-6
    (0.0, True)
    """
    _check_model_and_inputs(model, inputs)
    if boundary not in BOUNDARIES:
        raise InvalidArgument(f"boundary={boundary!r} must be one of {BOUNDARIES}")
    if (not isinstance(shift, tuple) or len(shift) != 2 or not all(isinstance(t, int) for t in shift)
            or shift == (0, 0) or any(abs(t) >= n for t, n in zip(shift, inputs.shape[-2:]))):
        raise InvalidArgument(f"shift={shift!r} must be a non-zero (dy, dx) tuple of ints smaller than the image "
                              f"{tuple(inputs.shape[-2:])}")
    before = _evaluated(model, inputs)
    after = _evaluated(model, _shift(inputs, shift, boundary))
    if before.dim() != 2 or not before.is_floating_point():
        raise InvalidArgument(f"model returns {describe_value(before)}; top1_change needs (N, K) logits")
    top = before.argmax(dim=1)
    changed = int((after.argmax(dim=1) != top).sum())
    # beyond the protocol: one shift can be a symmetry of a model that every other small shift breaks (a
    # model on the checkerboard lattice is invariant to (1, 1)), so the worst of the eight one-pixel moves too
    neighbours = {}
    for move in ((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)):
        moved = _evaluated(model, _shift(inputs, move, boundary)).argmax(dim=1)
        neighbours[move] = int((moved != top).sum())
    worst = max(neighbours, key=lambda move: neighbours[move])
    p_before = before.double().softmax(dim=1).gather(1, top[:, None])[:, 0]
    p_after = after.double().softmax(dim=1).gather(1, top[:, None])[:, 0]
    change = (p_before - p_after).abs()
    n = inputs.shape[0]
    return {"p_top1_change": changed / n, "p_top1_change_ci": wilson_interval(changed, n, confidence),
            "mac": float(change.mean()), "mac_ci": bootstrap_interval(change, confidence=confidence),
            "p_top1_change_worst_neighbour": neighbours[worst] / n, "worst_neighbour": worst,
            "inputs": n, "shift": shift, "boundary": boundary, "confidence": confidence}


def eq_psnr(f, inputs: torch.Tensor, generator: str = "translation", *, draws: int = 4, max_shift: float = 0.5,
            max_angle: float = math.pi, data_range: float = 2.0, seed: int = 0, confidence: float = 0.95) -> dict:
    """StyleGAN3's EQ-T (``generator="translation"``) or EQ-R (``"rotation"``) in decibels, with a bootstrap
    interval over the (sample, draw) pairs; higher is more equivariant, ``inf`` for an exactly equivariant f.

    Each of ``draws`` per sample is a random sub-pixel translation whose size is uniform in
    ``[max_shift/4, max_shift]`` pixels along a random direction (EQ-T), or a rotation by an angle uniform in
    ``[max_angle/4, max_angle]`` radians with a random sign (EQ-R): never the identity.  ``f`` maps images to
    images of the same size; the MSE is over all output elements (the periodic model has no border to mask).

    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular").double()
    >>> eq_psnr(conv, torch.randn(4, 1, 8, 8, dtype=torch.float64))["psnr_db"] > 250
    True
    """
    _check_model_and_inputs(f, inputs)
    if generator not in ("translation", "rotation"):
        raise InvalidArgument(f"generator={generator!r} must be 'translation' (EQ-T) or 'rotation' (EQ-R)")
    for name, value in (("max_shift", max_shift), ("max_angle", max_angle), ("data_range", data_range)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
            raise InvalidArgument(f"{name}={value!r} must be a positive number")
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 1:
        raise InvalidArgument(f"draws={draws!r} must be a positive int")
    rng = torch.Generator().manual_seed(seed)
    reference = _evaluated(f, inputs)
    if reference.shape[-2:] != inputs.shape[-2:]:
        raise InvalidArgument(f"f maps {tuple(inputs.shape)} to {tuple(reference.shape)}: EQ-T/EQ-R compare images "
                              f"of the input's size")
    errors, elements = [], []
    moves: tuple[tuple[str, float], ...]
    for _ in range(draws):
        if generator == "translation":
            size = max_shift * (0.25 + 0.75 * float(torch.rand((), generator=rng)))
            direction = 2 * math.pi * float(torch.rand((), generator=rng))
            moves = (("translation-y", size * math.sin(direction)), ("translation-x", size * math.cos(direction)))
        else:
            angle = max_angle * (0.25 + 0.75 * float(torch.rand((), generator=rng)))
            moves = (("rotation", angle if float(torch.rand((), generator=rng)) < 0.5 else -angle),)
        elements.append(moves)

        def act(t, moves=moves):
            for name, amount in moves:
                t = flow(t, name, amount)
            return t

        moved = _evaluated(f, act(inputs))
        errors.append((moved.double() - act(reference.double())).pow(2).flatten(1).mean(dim=1))
    mse = torch.stack(errors).flatten()

    def psnr(batch):
        return 10 * torch.log10(data_range**2 / batch.mean(dim=1).clamp_min(1e-300))

    value = float(psnr(mse[None]))
    return {"psnr_db": value, "psnr_db_ci": bootstrap_interval(mse, psnr, confidence=confidence, seed=seed),
            "mse": float(mse.mean()), "generator": generator, "draws": draws, "inputs": int(inputs.shape[0]),
            "data_range": data_range, "elements": [[(n, round(a, 6)) for n, a in m] for m in elements]}
