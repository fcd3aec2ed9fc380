"""``REGISTRY``: every reference layer and architecture, its default input shape and its stated profile.

Each profile line is a claim the tests check with the props engine and the
audit re-derives from scratch; where they disagree, the registry is wrong.
"""

from __future__ import annotations

import math

import torch

from ._architectures import AllCircularGAP, C4StridedCNN, LeNet5Like, P4CNN, ResNet18Like, ScatteringLinear
from ._conv import CirculantLinear, Conv, CoordConv, DenseLinear
from ._p4 import OrientationPool, P4GroupConv, P4Lifting
from ._pooling import APS, BlurPool, GlobalPool, Pool
from ._profile import ASPECTS, Entry, Line
from ._scattering import Scattering2d
from ._spectral import FourierMagnitude, FourierMellin, MellinMagnitude1d

F64 = torch.float64


#: keyword names of :func:`_profile` for each aspect
_ASPECT_KEYS = {"translation_zero": ("translation", "zero")} | {s: (s, b) for s, b in ASPECTS if b == "circular"}


def _profile(relation_by_default, **lines):
    """A full profile: the given lines (keyed by aspect: ``translation``, ``translation_zero``, ``rot90`` …),
    and ``none`` (with the default relation) for every other aspect."""
    unknown = set(lines) - set(_ASPECT_KEYS)
    if unknown:
        raise ValueError(f"unknown aspects {sorted(unknown)}; valid: {sorted(_ASPECT_KEYS)}")
    given = {_ASPECT_KEYS[key]: value if isinstance(value, tuple) else (value,) for key, value in lines.items()}
    out: list[Line] = []
    for symmetry, boundary in ASPECTS:
        default = (Line(symmetry, relation_by_default, "none", boundary=boundary),)
        out.extend(given.get((symmetry, boundary), default))
    return tuple(out)


def exact(symmetry, relation="equivariant", **kw):
    return Line(symmetry, relation, "exact", **kw)


def zero_fill(relation="equivariant", status="exact", **kw):
    """A line about zero-fill translations (content moved on an empty background)."""
    return Line("translation", relation, status, boundary="zero", **kw)


def _resolution_factory(build):
    """A factory that accepts ``resolution`` (the input side) for rate sweeps, ignoring it otherwise."""

    def factory(resolution=None, **overrides):
        return build(resolution, **overrides)

    return factory


def _entries():
    biased = zero_fill("equivariant", "none",
                  note="the bias maps the empty background to the bias, so vacated pixels do not stay zero: "
                       "zero-fill equivariance needs f(0) = 0")
    conv_modes = {
        "circular": dict(translation=exact("translation"), translation_zero=biased),
        "zeros": dict(translation=Line("translation", "equivariant", "interior", margin=1), translation_zero=biased),
        "reflect": dict(translation=Line("translation", "equivariant", "interior", margin=1)),
        "replicate": dict(translation=Line("translation", "equivariant", "interior", margin=1)),
    }
    entries = [
        Entry(f"conv3x3_{mode}", lambda mode=mode: Conv(2, 3, 3, padding_mode=mode), (2, 8, 8),
              _profile("equivariant", **lines), f"3×3 convolution, {mode} padding", exact_dtype=F64)
        for mode, lines in conv_modes.items()
    ]
    entries += [
        Entry("conv3x3_zeros_nobias", lambda: Conv(2, 3, 3, padding_mode="zeros", bias=False), (2, 8, 8),
              _profile("equivariant", translation=Line("translation", "equivariant", "interior", margin=1),
                       translation_zero=zero_fill(border=1)),
              "3×3 convolution, zero padding, no bias: f(0) = 0", exact_dtype=F64),
        Entry("conv3x3_circular_stride2", lambda: Conv(2, 3, 3, stride=2), (2, 8, 8),
              _profile("equivariant", translation=Line("translation", "equivariant", "subgroup", stride=2,
                                                       condition="H, W divisible by 2")),
              "3×3 circular convolution with stride 2", exact_dtype=F64),
        Entry("conv3x3_circular_dilated", lambda: Conv(2, 3, 3, dilation=2), (2, 9, 9),
              _profile("equivariant", translation=exact("translation"), translation_zero=biased),
              "3×3 circular convolution with dilation 2", exact_dtype=F64),
        Entry("conv1x1", lambda: Conv(2, 3, 1, bias=False), (2, 6, 6),
              _profile("equivariant", translation=exact("translation"), translation_zero=zero_fill(),
                       rot90=exact("rot90"), flip=exact("flip"), scale=exact("scale"),
                       rotation=exact("rotation", note="a 1×1 conv mixes channels only, so it commutes with any "
                                                       "channel-wise resampling")),
              "1×1 convolution without bias: a pointwise channel mixing", exact_dtype=F64),
    ]
    for kind in ("max", "avg", "lp"):
        entries.append(Entry(
            f"{kind}_pool2", lambda kind=kind: Pool(kind, 2), (2, 8, 8),
            _profile("equivariant",
                     translation=Line("translation", "equivariant", "subgroup", stride=2, condition="H, W even"),
                     rot90=exact("rot90", condition="H = W even"), flip=exact("flip", condition="H, W even")),
            f"{kind} pooling, 2×2 windows, stride 2", exact_dtype=F64 if kind != "lp" else None))
    for kind in ("max", "avg"):
        entries.append(Entry(
            f"global_{kind}_pool", lambda kind=kind: GlobalPool(kind), (2, 6, 6),
            _profile("invariant", translation=exact("translation", "invariant"),
                     translation_zero=zero_fill("invariant"), rot90=exact("rot90", "invariant"),
                     flip=exact("flip", "invariant"), scale=exact("scale", "invariant")),
            f"global {kind} pooling", exact_dtype=F64, output="flat"))
    entries += [
        Entry("blurpool3_circular", lambda: BlurPool(2, 3, padding_mode="circular"), (2, 8, 8),
              _profile("equivariant", translation=Line("translation", "equivariant", "subgroup", stride=2,
                                                       condition="H, W even"),
                       rot90=Line("rot90", "equivariant", "none",
                                  note="the 3-tap blur is centred but stride-2 sampling starts at pixel 0"),
                       flip=Line("flip", "equivariant", "none")),
              "BlurPool: binomial 3×3 blur then stride 2 (Zhang 2019), circular padding", exact_dtype=F64),
        Entry("aps", lambda: APS(2), (2, 8, 8),
              _profile("equivariant", translation=Line("translation", "equivariant", "subgroup", stride=2,
                                                       condition="H, W even"),
                       rot90=exact("rot90", condition="H = W even; no ties between polyphase norms"),
                       flip=exact("flip", condition="H, W even; no ties between polyphase norms")),
              "adaptive polyphase sampling, stride 2 (Chaman & Dokmanić 2021)", exact_dtype=F64, tags=("aps",)),
        Entry("fourier_magnitude_2d", lambda: FourierMagnitude(2), (1, 8, 8),
              _profile("invariant", translation=exact("translation", "invariant"),
                       translation_zero=zero_fill("invariant")),
              "|DFT| over both spatial axes", output="spatial"),
        Entry("fourier_magnitude_1d", lambda: FourierMagnitude(1), (1, 16),
              _profile("invariant", translation=exact("translation", "invariant"),
                       translation_zero=zero_fill("invariant"),
                       flip=exact("flip", "invariant", note="reversal conjugates the spectrum of a real signal")),
              "|DFT| of 1-D signals"),
        Entry("mellin_magnitude_1d",
              _resolution_factory(lambda n, **kw: MellinMagnitude1d(16, int(math.log2(n or 64)) + 2, **kw)), (1, 64),
              _profile("invariant", scale=Line("scale", "invariant", "approximate", rate="1/resolution",
                                               sweep=("resolution", (32, 64, 128, 256)),
                                               condition="content inside [1, 2^octaves) pixels after scaling")),
              "|DFT| of the signal resampled on a log grid (16 samples per octave)"),
        Entry("fourier_mellin", _resolution_factory(lambda n, **kw: FourierMellin(32, 24, **kw)), (1, 32, 32),
              _profile("invariant", rot90=exact("rot90", "invariant"), flip=exact("flip", "invariant"),
                       rotation=Line("rotation", "invariant", "approximate", rate="1/resolution",
                                     sweep=("resolution", (32, 64, 128))),
                       scale=Line("scale", "invariant", "approximate", rate="1/resolution",
                                  sweep=("resolution", (32, 64, 128)))),
              "log-polar resampling, |DFT| over angle then log-radius"),
        Entry("scattering_J2", _resolution_factory(lambda n, J=2, **kw: Scattering2d(n or 16, J, 4, **kw)), (1, 16, 16),
              _profile("invariant",
                       translation=(Line("translation", "invariant", "approximate", rate="2^-J", sweep=("J", (1, 2, 3))),
                                    Line("translation", "equivariant", "subgroup", stride=4,
                                         condition="H = W divisible by 2^J"))),
              "2-D scattering, orders 0–2, J = 2, 4 orientations"),
        Entry("p4_lifting", lambda: P4Lifting(1, 2), (1, 7, 7),
              _profile("equivariant", translation=exact("translation"),
                       rot90=exact("rot90", channels="regular")),
              "P4 lifting convolution, circular padding", exact_dtype=F64),
        Entry("p4_lifting_group_conv", lambda: torch.nn.Sequential(P4Lifting(1, 2), P4GroupConv(2, 2)), (1, 7, 7),
              _profile("equivariant", translation=exact("translation"),
                       rot90=exact("rot90", channels="regular")),
              "P4 lifting then P4 group convolution (its input in the regular representation)", exact_dtype=F64),
        Entry("p4_lifting_orientation_pool", lambda: torch.nn.Sequential(P4Lifting(1, 2), OrientationPool()),
              (1, 7, 7),
              _profile("equivariant", translation=exact("translation"), rot90=exact("rot90")),
              "P4 lifting then max over orientations: plain rot90-equivariant maps", exact_dtype=F64),
        Entry("p4_lifting_stride2", lambda: P4Lifting(1, 2, stride=2, padding_mode="zeros"), (1, 9, 9),
              _profile("equivariant", rot90=exact("rot90", channels="regular", condition="H = W odd")),
              "P4 lifting convolution with stride 2: rot90-equivariant only on odd sizes", exact_dtype=F64),
        Entry("circulant_linear", lambda: CirculantLinear(12), (1, 12),
              _profile("equivariant", translation=exact("translation")),
              "dense layer with a circulant weight: a circular convolution", exact_dtype=F64),
        Entry("dense_linear", lambda: DenseLinear(12), (1, 12), _profile("equivariant"),
              "dense layer with an unconstrained weight (negative control)", exact_dtype=F64),
        Entry("coord_conv", lambda: CoordConv(1, 2), (1, 8, 8), _profile("equivariant"),
              "circular conv that also sees absolute coordinates (negative control)", exact_dtype=F64),
    ]
    entries += [
        Entry("lenet5", lambda: LeNet5Like(), (1, 16, 16), _profile("invariant"),
              "LeNet-5-like: zero padding, max-pool stride 2, flatten, dense", kind="architecture",
              exact_dtype=F64, output="flat"),
        Entry("all_circular_gap", lambda: AllCircularGAP(), (1, 8, 8),
              _profile("invariant", translation=exact("translation", "invariant"),
                       translation_zero=zero_fill("invariant")),
              "circular convolutions + global average pooling", kind="architecture", exact_dtype=F64, output="flat"),
        Entry("resnet18", lambda: ResNet18Like(), (3, 16, 16), _profile("invariant"),
              "ResNet-18-like: strided convs, zero padding", kind="architecture", exact_dtype=F64, output="flat"),
        Entry("resnet18_blurpool", _resolution_factory(lambda n, **kw: ResNet18Like(downsample="blurpool", **kw)),
              (3, 16, 16),
              _profile("invariant", translation=Line("translation", "invariant", "approximate",
                                                     rate="1/resolution", sweep=("resolution", (16, 32, 64)),
                                                     note="on smooth inputs; lower than the strided baseline at "
                                                          "every resolution (tests/test_models_blurpool.py)")),
              "ResNet-18-like with BlurPool downsampling (zero padding)", kind="architecture", output="flat"),
        Entry("resnet18_aps", lambda: ResNet18Like(downsample="aps", padding_mode="circular"), (3, 16, 16),
              _profile("invariant", translation=exact("translation", "invariant",
                                                      condition="H, W divisible by 8; no ties between polyphase norms"),
                       translation_zero=zero_fill("invariant",
                                              note="content that stays inside: a zero-fill shift is a circular one")),
              "ResNet-18-like with APS downsampling and circular padding", kind="architecture", exact_dtype=F64,
              output="flat", tags=("aps",)),
        Entry("p4cnn", lambda: P4CNN(), (1, 9, 9),
              _profile("invariant", translation=exact("translation", "invariant"), rot90=exact("rot90", "invariant"),
                       translation_zero=zero_fill("invariant")),
              "P4-CNN: lifting, group conv, orientation pool, global average", kind="architecture",
              exact_dtype=F64, output="flat"),
        Entry("c4_strided_cnn", lambda: C4StridedCNN(), (1, 11, 11),
              _profile("invariant", rot90=exact("rot90", "invariant", condition="H = W ≡ 3 mod 4"),
                       flip=exact("flip", "invariant", condition="H, W ≡ 3 mod 4 (3×3 C4-symmetric kernels are "
                                                                 "also flip-symmetric)")),
              "two unpadded stride-2 convolutions with rot90-symmetric kernels, global average, linear",
              kind="architecture", exact_dtype=F64, output="flat"),
        Entry("scattering_linear", _resolution_factory(lambda n, J=2, **kw: ScatteringLinear(n or 16, J, **kw)),
              (1, 16, 16),
              _profile("invariant", translation=Line("translation", "invariant", "approximate", rate="2^-J",
                                                     sweep=("J", (1, 2, 3)))),
              "scattering (J = 2) + linear classifier", kind="architecture", output="flat"),
    ]
    return {entry.name: entry for entry in entries}


#: name -> :class:`Entry`, for the tests and the audit.
REGISTRY = _entries()
