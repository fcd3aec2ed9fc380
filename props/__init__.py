"""convnet-invariances: property testing and verification of the invariances of convolutional networks.

The library API: group actions on (N, C, L) and (N, C, H, W) tensors, the
finite groups whose orbits are checked exhaustively, output actions ρ,
Hypothesis strategies, measure/assert pairs for claims
``f(g·x) = ρ(g)·f(x)``, claims by name and the audit, and measures of
trained networks (the Lie derivative).  Reference layers live in
:mod:`convnet_invariances.models`, the sympy proofs in
:mod:`convnet_invariances.proofs`, the command line and reports in
:mod:`convnet_invariances.app`.

>>> import torch
>>> import convnet_invariances as ci
>>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="zeros", bias=False)
>>> _ = conv.weight.data.fill_(1.0)
>>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 4] = 1.0
>>> ci.equivariance_error(conv, x, ci.CircularShift((0, 1))).holds
False
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# The root imports nothing heavy: the public names below load (with torch) on first use, so that the
# pytest plugin and `convnet_invariances.proofs` (sympy only) never pay for torch.  Each name maps to
# the private module that defines it; the TYPE_CHECKING block gives type checkers the same names.
_EXPORTS = {
    # actions
    "Action": "_actions", "Identity": "_actions", "Composed": "_actions", "CircularShift": "_actions",
    "ZeroShift": "_actions", "Dihedral": "_actions", "rot90": "_actions", "flip": "_actions",
    "transpose": "_actions", "Upscale": "_actions", "Downscale": "_actions", "SubpixelShift": "_actions",
    "Rotation": "_actions", "ChannelCycle": "_actions",
    # groups and output actions
    "FiniteGroup": "_groups", "Translations": "_groups", "c4": "_groups", "d4": "_groups", "flips": "_groups",
    "OutputAction": "_output_actions", "same_action": "_output_actions", "trivial_action": "_output_actions",
    "strided_action": "_output_actions", "regular_c4_action": "_output_actions",
    # strategies
    "images": "_strategies", "kernels": "_strategies", "shifts": "_strategies", "group_elements": "_strategies",
    "conv_layers": "_strategies", "pooling_layers": "_strategies",
    # checks
    "equivariance_error": "_checks", "assert_equivariant": "_checks", "invariance_error": "_checks",
    "assert_invariant": "_checks", "orbit_error": "_checks", "assert_orbit": "_checks",
    "Measurement": "_measurement", "OrbitResult": "_measurement",
    # the claim vocabulary, claims by name and the audit
    "Claim": "_vocabulary", "CLAIM_NAMES": "_vocabulary", "SYMMETRIES": "_vocabulary", "STATUSES": "_vocabulary",
    "VERDICTS": "_vocabulary",
    "check_claim": "_claims", "audit": "_audit", "AuditReport": "_audit", "ClaimResult": "_audit",
    "consistency": "_audit", "assert_claims": "_pytest_helpers", "resolve_target": "_targets",
    # linear certificates, static certification from the graph, and the layer that breaks a claim
    "certify_translation_equivariance": "_certificate", "LinearCertificate": "_certificate",
    "certify_static": "_static", "StaticReport": "_static", "StaticVerdict": "_static",
    "find_culprit": "_attribution", "Culprit": "_attribution",
    # measures of trained networks
    "lie_derivative": "_lie", "layerwise_lie_derivative": "_lie_layers", "LayerwiseLieDerivative": "_lie_layers",
    "top1_change": "_metrics", "eq_psnr": "_metrics", "wilson_interval": "_intervals",
    "bootstrap_interval": "_intervals", "clopper_pearson_interval": "_intervals",
    "worst_case_accuracy": "_worst_case", "WorstCaseAccuracy": "_worst_case",
    "shrink_flipping_input": "_flip_shrink", "FlippingInput": "_flip_shrink",
    # tolerance model
    "unit_roundoff": "_tolerance", "gamma": "_tolerance", "float_tolerance": "_tolerance",
    # errors
    "InvarianceError": "_errors", "InvalidArgument": "_errors", "LayerError": "_errors",
    "EquivarianceViolation": "_errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from ._actions import (
        Action, ChannelCycle, CircularShift, Composed, Dihedral, Downscale, Identity, Rotation, SubpixelShift,
        Upscale, ZeroShift, flip, rot90, transpose,
    )
    from ._attribution import Culprit, find_culprit
    from ._audit import AuditReport, ClaimResult, audit, consistency
    from ._certificate import LinearCertificate, certify_translation_equivariance
    from ._checks import (
        assert_equivariant, assert_invariant, assert_orbit, equivariance_error, invariance_error, orbit_error,
    )
    from ._claims import check_claim
    from ._errors import EquivarianceViolation, InvalidArgument, InvarianceError, LayerError
    from ._groups import FiniteGroup, Translations, c4, d4, flips
    from ._lie import lie_derivative
    from ._intervals import bootstrap_interval, clopper_pearson_interval, wilson_interval
    from ._lie_layers import LayerwiseLieDerivative, layerwise_lie_derivative
    from ._metrics import eq_psnr, top1_change
    from ._flip_shrink import FlippingInput, shrink_flipping_input
    from ._worst_case import WorstCaseAccuracy, worst_case_accuracy
    from ._measurement import Measurement, OrbitResult
    from ._output_actions import OutputAction, regular_c4_action, same_action, strided_action, trivial_action
    from ._pytest_helpers import assert_claims
    from ._targets import resolve_target
    from ._static import StaticReport, StaticVerdict, certify_static
    from ._strategies import conv_layers, group_elements, images, kernels, pooling_layers, shifts
    from ._tolerance import float_tolerance, gamma, unit_roundoff
    from ._vocabulary import CLAIM_NAMES, STATUSES, SYMMETRIES, VERDICTS, Claim
