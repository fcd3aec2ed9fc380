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

from ._errors import InvalidArgument, describe_value
from ._intervals import _check_confidence, bootstrap_interval, clopper_pearson_interval
from ._lie import flow
from ._measuring import protected_model, require_int, require_model, require_number, require_samples, require_seed

__all__ = ["eq_psnr", "top1_change"]

BOUNDARIES = ("zero", "circular")


def _check_model_and_inputs(model, inputs, name="inputs", dtypes=None):
    require_model(model)
    require_samples(inputs, name, dtypes=dtypes)


def _shift(x, shift, boundary):
    dy, dx = shift
    if boundary == "circular":
        return torch.roll(x, (dy, dx), (-2, -1))
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def top1_change(model, inputs: torch.Tensor, *, shift: tuple = (1, 1), boundary: str = "zero",
                confidence: float = 0.95) -> dict:
    """Azulay & Weiss's P(top-1 change) and MAC under a shift of ``shift = (dy, dx)`` pixels (one pixel
    diagonally by default), with a Clopper–Pearson interval for the probability (coverage at least
    ``confidence``) and an expanded percentile bootstrap interval for the MAC (:func:`bootstrap_interval`);
    and, beyond the paper, ``p_top1_change_worst_neighbour``: the largest P(top-1 change) over all eight
    one-pixel moves (with ``worst_neighbour``), since a single shift can happen to be a symmetry of the model.

    ``model`` maps (N, C, H, W) images to (N, K) logits; probabilities are their softmax.  The top-1 class
    is the one predicted on the unshifted image; MAC is the mean of ``|p_c(x) − p_c(shifted x)|`` for it.
    A module is evaluated in eval mode on a copy, and every call gets a copy of the images: neither the module,
    the random generators nor ``inputs`` change.

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
    _check_confidence(confidence)
    with protected_model(model, inputs) as layer, torch.no_grad():
        before = layer(inputs, "f(x)", keep=True)
        if before.dim() != 2 or not before.is_floating_point():
            raise InvalidArgument(f"model returns {describe_value(before)}; top1_change needs (N, K) logits")
        after = layer(_shift(inputs, shift, boundary), f"f(x shifted by {shift})", keep=True)
        top = before.argmax(dim=1)
        changed = int((after.argmax(dim=1) != top).sum())
        # beyond the protocol: one shift can be a symmetry of a model that every other small shift breaks (a
        # model on the checkerboard lattice is invariant to (1, 1)), so the worst of the eight one-pixel moves too
        neighbours = {}
        for move in ((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)):
            moved = layer(_shift(inputs, move, boundary), f"f(x shifted by {move})").argmax(dim=1)
            neighbours[move] = int((moved != top).sum())
    worst = max(neighbours, key=lambda move: neighbours[move])
    p_before = before.double().softmax(dim=1).gather(1, top[:, None])[:, 0]
    p_after = after.double().softmax(dim=1).gather(1, top[:, None])[:, 0]
    change = (p_before - p_after).abs()
    n = inputs.shape[0]
    return {"p_top1_change": changed / n, "p_top1_change_ci": clopper_pearson_interval(changed, n, confidence),
            "mac": float(change.mean()), "mac_ci": bootstrap_interval(change, confidence=confidence),
            "p_top1_change_worst_neighbour": neighbours[worst] / n, "worst_neighbour": worst,
            "inputs": n, "shift": shift, "boundary": boundary, "confidence": confidence}


def eq_psnr(f, inputs: torch.Tensor, generator: str = "translation", *, draws: int = 4, max_shift: float = 0.5,
            max_angle: float = math.pi, data_range: float = 2.0, seed: int = 0, confidence: float = 0.95) -> dict:
    """StyleGAN3's EQ-T (``generator="translation"``) or EQ-R (``"rotation"``) in decibels, with a bootstrap
    interval over the samples; higher is more equivariant, very large (up to ``10·log10(I²/1e-300)``) for an
    exactly equivariant f.

    Each sample gets ``draws`` random elements of its own (``elements[d][n]``: draw d of sample n): a sub-pixel
    translation whose size is uniform in ``[max_shift/4, max_shift]`` pixels along a random direction (EQ-T),
    or a rotation by an angle uniform in ``[max_angle/4, max_angle]`` radians with a random sign (EQ-R): never
    the identity.  Since elements are not shared between samples, the samples' mean squared errors are
    independent, and the expanded percentile bootstrap over them (:func:`bootstrap_interval`) covers the
    variance of both the images and the elements.  ``f`` maps float32 or float64 images to images of the same
    size; the MSE is over all output elements (the periodic model has no border to mask).  ``data_range`` is
    the finite, positive ``I``.  A module is evaluated in eval mode on a copy, every call on a copy of its input.

    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular").double()
    >>> eq_psnr(conv, torch.randn(4, 1, 8, 8, dtype=torch.float64))["psnr_db"] > 250
    True
    """
    _check_model_and_inputs(f, inputs, dtypes=(torch.float32, torch.float64))
    if generator not in ("translation", "rotation"):
        raise InvalidArgument(f"generator={generator!r} must be 'translation' (EQ-T) or 'rotation' (EQ-R)")
    require_number(max_shift, "max_shift", meaning="the largest sub-pixel move, in pixels")
    require_number(max_angle, "max_angle", meaning="the largest rotation, in radians")
    require_number(data_range, "data_range", meaning="the output's dynamic range I in 10·log10(I²/MSE), e.g. 2 "
                                                     "for images in [−1, 1]")
    require_int(draws, "draws", minimum=1, meaning="random moves per sample")
    require_seed(seed)
    _check_confidence(confidence)
    rng = torch.Generator().manual_seed(seed)
    n = inputs.shape[0]
    x = inputs.detach().clone()

    def draw():
        """One random element, never the identity: its moves as (generator, amount) pairs."""
        if generator == "translation":
            size = max_shift * (0.25 + 0.75 * float(torch.rand((), generator=rng)))
            direction = 2 * math.pi * float(torch.rand((), generator=rng))
            return (("translation-y", size * math.sin(direction)), ("translation-x", size * math.cos(direction)))
        angle = max_angle * (0.25 + 0.75 * float(torch.rand((), generator=rng)))
        return (("rotation", angle if float(torch.rand((), generator=rng)) < 0.5 else -angle),)

    def act(t, moves):
        for name, amount in moves:
            t = flow(t, name, amount)
        return t

    errors, elements = [], []
    with protected_model(f, x) as layer, torch.no_grad():
        reference = layer(x, "f(x)", keep=True)
        if reference.dim() != 4 or reference.shape[-2:] != x.shape[-2:] or not reference.is_floating_point():
            raise InvalidArgument(f"f maps {tuple(x.shape)} to {describe_value(reference)}: EQ-T/EQ-R compare "
                                  f"floating images (N, C, H, W) of the input's size")
        for _ in range(draws):
            # a fresh element for every sample: the N errors of a draw are then independent, and an interval over
            # the samples accounts for the variance of the elements too
            moves = [draw() for _ in range(n)]
            elements.append(moves)
            moved = layer(torch.cat([act(x[i:i + 1], m) for i, m in enumerate(moves)]), "f(g·x)")
            expected = torch.cat([act(reference[i:i + 1].double(), m) for i, m in enumerate(moves)])
            errors.append((moved.double() - expected).pow(2).flatten(1).mean(dim=1))
    # per sample, the mean over its draws: the samples are independent, a sample's draws share its image
    mse = torch.stack(errors).mean(dim=0)

    def psnr(batch):
        return 10 * torch.log10(data_range**2 / batch.mean(dim=1).clamp_min(1e-300))

    value = float(psnr(mse[None]))
    return {"psnr_db": value, "psnr_db_ci": bootstrap_interval(mse, psnr, confidence=confidence, seed=seed),
            "mse": float(mse.mean()), "generator": generator, "draws": draws, "inputs": n,
            "data_range": data_range,
            "elements": [[[(name, round(a, 6)) for name, a in m] for m in per_sample] for per_sample in elements]}
