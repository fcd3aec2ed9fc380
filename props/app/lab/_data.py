"""The lab's data: scikit-learn's bundled 8×8 digits, placed on a 16×16 canvas; the transformations training uses.

Why this data set: it ships inside the scikit-learn wheel (1,797 images, no
download at run time, a few hundred kilobytes), it is real handwriting (a
network can learn something about it that noise would not teach), and at
8×8 a dozen small networks train in seconds on two CPU cores.  Each digit is
resized to 12×12 (bilinear) and centred on a 16×16 black canvas, so that
translations, rotations and rescalings have room to move it without cutting
it off, and so the whole orbit of circular shifts has 256 elements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..._actions import Action
#: canvas side and the side the 8×8 digit is resized to before it is centred on the canvas
CANVAS, DIGIT = 16, 12


class MissingDataSet(RuntimeError):
    """scikit-learn (the ``lab`` extra) is not installed."""


@dataclass(frozen=True)
class Digits:
    """Train and test images (N, 1, 16, 16) in [0, 1] and their labels (N,)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    def subset(self, train: int, test: int) -> Digits:
        """The first ``train`` training and ``test`` test images (the split is already shuffled)."""
        return Digits(self.train_x[:train], self.train_y[:train], self.test_x[:test], self.test_y[:test])

    def only_classes(self, classes) -> tuple[Digits, Digits]:
        """(the images of ``classes``, the images of every other class)."""
        def split(x, y):
            keep = torch.isin(y, torch.tensor(list(classes)))
            return (x[keep], y[keep]), (x[~keep], y[~keep])
        (a_train, b_train), (a_test, b_test) = split(self.train_x, self.train_y), split(self.test_x, self.test_y)
        return Digits(*a_train, *a_test), Digits(*b_train, *b_test)


def load_digits(test_fraction: float = 1 / 3) -> Digits:
    """scikit-learn's digits on the 16×16 canvas, split once by a fixed permutation (the same for every seed).

    >>> digits = load_digits()
    >>> digits.train_x.shape, digits.test_x.shape, float(digits.train_x.max())
    (torch.Size([1198, 1, 16, 16]), torch.Size([599, 1, 16, 16]), 1.0)
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise MissingDataSet("the lab trains on scikit-learn's bundled digits: install the lab extra, "
                             "pip install 'convnet-invariances[lab]'") from None
    bunch = sklearn_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(bunch.target, dtype=torch.long)
    resized = F.interpolate(images, size=(DIGIT, DIGIT), mode="bilinear", align_corners=False).clamp(0, 1)
    pad = (CANVAS - DIGIT) // 2
    canvas = F.pad(resized, (pad, pad, pad, pad))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    canvas, labels = canvas[order], labels[order]
    test = int(round(len(labels) * test_fraction))
    return Digits(canvas[test:], labels[test:], canvas[:test], labels[:test])


def affine(x: torch.Tensor, *, angles=None, scales=None) -> torch.Tensor:
    """Rotate each image counter-clockwise by ``angles`` (radians, (N,)) and magnify it by ``scales`` ((N,)) about
    the centre, bilinear, zeros outside: the continuous augmentation and the non-integer rescaling.

    >>> x = torch.zeros(1, 1, 4, 4); x[0, 0, 1, 1] = 1.0
    >>> torch.allclose(affine(x, angles=torch.tensor([0.0]), scales=torch.tensor([1.0])), x, atol=1e-6)
    True
    """
    n = x.shape[0]
    angles = torch.zeros(n) if angles is None else angles
    scales = torch.ones(n) if scales is None else scales
    c, s = torch.cos(angles) / scales, torch.sin(angles) / scales
    # affine_grid maps output to input coordinates: the inverse rotation, shrunk by the magnification
    matrix = torch.stack([torch.stack([c, -s, torch.zeros(n)], 1), torch.stack([s, c, torch.zeros(n)], 1)], 1)
    grid = F.affine_grid(matrix.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_rotations(x: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Rotation augmentation of a batch: ``"c4"`` a random multiple of 90° per image, ``"continuous"`` a uniform
    angle in [0, 360°), ``"none"`` the batch itself."""
    if kind == "none":
        return x
    if kind == "c4":
        k = torch.randint(0, 4, (x.shape[0],), generator=generator)
        return torch.stack([torch.rot90(image, int(turns), dims=(-2, -1)) for image, turns in zip(x, k)])
    angles = torch.rand(x.shape[0], generator=generator) * 2 * math.pi
    return affine(x, angles=angles)


def random_zoom(x: torch.Tensor, generator: torch.Generator, low: float = 0.6, high: float = 1.6) -> torch.Tensor:
    """Scale augmentation: magnify each image by a log-uniform factor in [low, high] about the centre."""
    log_scale = torch.empty(x.shape[0]).uniform_(math.log(low), math.log(high), generator=generator)
    return affine(x, scales=log_scale.exp())


def noise_images(n: int, seed: int) -> torch.Tensor:
    """Smooth random images on the canvas (a 4×4 uniform field, bilinearly upsampled, inside the digit's box): off
    the data, for asking whether an invariance was learned for digits only."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand((n, 1, 4, 4), generator=generator)
    box = F.interpolate(coarse, size=(DIGIT, DIGIT), mode="bilinear", align_corners=False)
    pad = (CANVAS - DIGIT) // 2
    return F.pad(box, (pad, pad, pad, pad))


@dataclass(frozen=True, repr=False)
class Zoom(Action):
    """Magnify the content by ``factor`` about the centre, on the same canvas (bilinear, zeros outside): the
    non-integer rescaling the lab measures, as a group element the suite's orbit functions accept.

    >>> x = torch.zeros(1, 1, 8, 8); x[0, 0, 3:5, 3:5] = 1.0
    >>> Zoom(2.0)(x)[0, 0].sum() > x[0, 0].sum()
    tensor(True)
    """

    factor: float
    spatial_rank = 2
    exact_arithmetic = False

    def _apply(self, x):
        return affine(x, scales=torch.full((x.shape[0],), float(self.factor)))

    def inverse(self):
        return Zoom(1.0 / self.factor)

    def rounding_steps(self, shape):
        return 8  # bilinear weights and a 4-term weighted sum, like Rotation

    @property
    def is_identity(self):
        return self.factor == 1.0

    def __repr__(self):
        return f"zoom(×{self.factor:g})"

    def code(self, prefix="ci."):
        return f"Zoom({self.factor!r})  # convnet_invariances.app.lab._data.Zoom"
