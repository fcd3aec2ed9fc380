"""convnet_invariances.models — reference layers and small architectures that state their invariance profile as data.

Every layer is a small function plus a thin ``nn.Module``; weights are small
integers from a fixed seed so exact checks are possible.  ``REGISTRY`` maps a
name to an :class:`Entry` (factory, default input shape, profile).

>>> from convnet_invariances.models import REGISTRY
>>> REGISTRY["conv3x3_circular_stride2"].line("translation").claim
'translation-equivariant[stride=2]'
"""

from ._architectures import (AllCircularGAP, BasicBlock, Bottleneck, C4StridedCNN, LeNet5Like, P4CNN, ResNet18Like,
                             ResNet50Like, ScatteringLinear)
from ._common import InvalidHyperparameter, InvalidInput
from ._conv import CirculantLinear, Conv, CoordConv, DenseLinear, circulant_matrix, padded_conv2d
from ._p4 import OrientationPool, P4GroupConv, P4Lifting
from ._pooling import APS, BlurPool, GlobalPool, MaxBlurPool, Pool, aps_downsample, binomial_filter, blur_downsample, polyphase_components
from ._profile import ASPECTS, RELATIONS, STATUSES, SYMMETRIES, Entry, Line
from ._registry import REGISTRY
from ._scattering import Scattering2d
from ._spectral import FourierMagnitude, FourierMellin, MellinMagnitude1d

__all__ = [
    # layers
    "Conv", "padded_conv2d", "CirculantLinear", "circulant_matrix", "DenseLinear", "CoordConv",
    "Pool", "GlobalPool", "BlurPool", "MaxBlurPool", "binomial_filter", "blur_downsample", "APS", "aps_downsample",
    "polyphase_components", "FourierMagnitude", "MellinMagnitude1d", "FourierMellin", "Scattering2d",
    "P4Lifting", "P4GroupConv", "OrientationPool",
    # architectures
    "LeNet5Like", "AllCircularGAP", "BasicBlock", "C4StridedCNN", "ResNet18Like", "Bottleneck", "ResNet50Like", "P4CNN", "ScatteringLinear",
    # profiles and the registry
    "Line", "Entry", "ASPECTS", "SYMMETRIES", "STATUSES", "RELATIONS", "REGISTRY",
    # errors
    "InvalidHyperparameter", "InvalidInput",
]
