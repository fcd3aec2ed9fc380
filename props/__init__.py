"""props — the engine of convnet-invariances.

Group actions on (N, C, L) and (N, C, H, W) tensors, the finite groups whose
orbits are checked exhaustively, output actions ρ, Hypothesis strategies, and
measure/assert pairs for claims ``f(g·x) = ρ(g)·f(x)``.

>>> import torch, props
>>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="zeros", bias=False)
>>> _ = conv.weight.data.fill_(1.0)
>>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 4] = 1.0
>>> props.equivariance_error(conv, x, props.CircularShift((0, 1))).holds
False
"""

from ._actions import (
    Action,
    ChannelCycle,
    CircularShift,
    Composed,
    Dihedral,
    Downscale,
    Identity,
    Rotation,
    SubpixelShift,
    Upscale,
    ZeroShift,
    flip,
    rot90,
    transpose,
)
from ._audit import AuditReport, ClaimResult, audit, consistency
from ._certificate import LinearCertificate, certify_translation_equivariance
from ._claims import CLAIM_NAMES, Claim, check_claim
from ._checks import (
    assert_equivariant,
    assert_invariant,
    assert_orbit,
    equivariance_error,
    invariance_error,
    orbit_error,
)
from ._errors import EquivarianceViolation, InvalidArgument, InvarianceError, LayerError
from ._pytest_helpers import assert_claims
from ._groups import FiniteGroup, Translations, c4, d4, flips
from ._measurement import Measurement, OrbitResult
from ._output_actions import (
    OutputAction,
    regular_c4_action,
    same_action,
    strided_action,
    trivial_action,
)
from ._strategies import conv_layers, group_elements, images, kernels, pooling_layers, shifts
from ._tolerance import float_tolerance, gamma, unit_roundoff

__all__ = [
    # actions
    "Action", "Identity", "Composed", "CircularShift", "ZeroShift", "Dihedral", "rot90", "flip", "transpose",
    "Upscale", "Downscale", "SubpixelShift", "Rotation", "ChannelCycle",
    # groups and output actions
    "FiniteGroup", "Translations", "c4", "d4", "flips",
    "OutputAction", "same_action", "trivial_action", "strided_action", "regular_c4_action",
    # strategies
    "images", "kernels", "shifts", "group_elements", "conv_layers", "pooling_layers",
    # checks
    "equivariance_error", "assert_equivariant", "invariance_error", "assert_invariant",
    "orbit_error", "assert_orbit", "Measurement", "OrbitResult",
    # claims by name and the audit
    "Claim", "CLAIM_NAMES", "check_claim", "audit", "AuditReport", "ClaimResult", "consistency", "assert_claims",
    # linear certificates
    "certify_translation_equivariance", "LinearCertificate",
    # tolerance model
    "unit_roundoff", "gamma", "float_tolerance",
    # errors
    "InvarianceError", "InvalidArgument", "LayerError", "EquivarianceViolation",
]
