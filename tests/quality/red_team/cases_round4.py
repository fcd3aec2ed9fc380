"""Round 4 of the red team: cases that attack the engine's round-4 mechanisms (ids ``r4-…``).

Targets: the computation's precision read from the output's dtype (an output WIDER than the computation), the
measured rounding floor on outputs stored narrow (bfloat16/float16 after a unit conversion), the twin's
validation by narrow probes ("lost half the output" accepted as full growth), the linear certificate's float64
copy (a module that picks its path when cast), and the new measures (``layerwise_lie_derivative``'s attribution,
``top1_change``'s one diagonal shift).  Every attack has a control beside it.  The truth comes from the
brute-force oracle; the measures' answers ("violated": the measure reports the defect; "holds": everything at
the rounding floor) are judged against the oracle's truth about the model's claim.
"""

from __future__ import annotations

import torch

from red_team import layers_round4 as R4
from red_team.cases import TE, Case

TI = "translation-invariant"
ZF = "translation-equivariant[boundary=zero]"


# ----------------------------------------------------------------------------- the measures, as a user calls them


def _input(shape, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def lie_attribution(ci, net):
    """``layerwise_lie_derivative`` along x: "violated" when ``largest()`` names a module whose contribution is
    above the rounding floor (the measure attributes a defect), "holds" when the module it names is at the floor."""
    result = ci.layerwise_lie_derivative(net, _input((2, 1, 8, 8), 404), "translation-x", output_action="equivariant")
    top = result.largest()
    value = float(result.relative[top].max())
    total = float(result.total.flatten(1).norm(dim=1).div(result.output_norm).max())
    return ("violated" if value > 1e-6 else "holds"), (
        f"largest() = {top!r} with ‖C‖/‖f‖ = {value:.3g}; end to end {total:.3g}\n{result.table()}")


def top1_at_the_floor(ci, model):
    """``top1_change`` with its defaults (one pixel diagonally), circular: "violated" when it reports any change of
    the top-1 class (at the protocol's shift or, since round 4's fix, at its worst one-pixel move) or a MAC above
    the floor."""
    result = ci.top1_change(model, _input((64, 1, 8, 8), 405, torch.float32), boundary="circular")
    changed = result["p_top1_change"] > 0 or result["mac"] > 1e-6 or result["p_top1_change_worst_neighbour"] > 0
    return ("violated" if changed else "holds"), f"{result}"


ROUND4 = [
    # ================================================================== 1. the computation's dtype, narrow outputs
    Case("r4-float64-output-of-float32-conv", "1 computation dtype", R4.CentredUpcast, (1, 8, 8), TE, "holds",
         "a float32 conv, centred, returned as .double(): the bound is float64's (1e-14) because the output is "
         "float64, the float32 amplifier twin computes bitwise the same; float32 rounding of the mean is called "
         "a violation"),
    Case("r4-complex128-output-of-float32-conv", "1 computation dtype",
         lambda: R4.CentredUpcast(torch.complex128), (1, 8, 8), TE, "holds",
         "the same returned as complex128 (a spectral pipeline): complex128's bound for float32 arithmetic"),
    Case("r4-control-float32-output", "control", lambda: R4.CentredUpcast(torch.float32), (1, 8, 8), TE, "holds",
         "the same conv returned in float32: judged with float32's bound"),
    Case("r4-bfloat16-output-pixel-unit-gain", "1 floor on narrow outputs", R4.PixelUnitNarrowOutput, (1, 8, 8),
         TE, "violated",
         "x/255 → conv → bfloat16 with a 20% gain error: the floor divides the bfloat16 cast's rounding by "
         "float32's n·u and saturates at the input's magnitude (200× the output), so 2·u_bf16·floor exceeds the "
         "output"),
    Case("r4-control-bfloat16-output-pixel-unit", "control", lambda: R4.PixelUnitNarrowOutput(0.0), (1, 8, 8), TE,
         "holds", "the same stem without the gain error"),
    Case("r4-half-output-pixel-unit-gain", "1 floor on narrow outputs",
         lambda: R4.PixelUnitNarrowOutput(0.03, torch.float16), (1, 8, 8), TE, "violated",
         "the same stem stored in float16 with a 3% gain error (5% relative)"),
    Case("r4-control-half-output-pixel-unit", "control", lambda: R4.PixelUnitNarrowOutput(0.0, torch.float16),
         (1, 8, 8), TE, "holds", "the float16 stem without the gain error"),
    Case("r4-zero-fill-unit-conversion-gain", "1 floor of zero-fill checks", R4.Float32OnlyCalibration, (1, 8, 8),
         ZF, "violated", "×1e-3 per-pixel calibration, float32 only, 0.3% gain error: zero-fill checks never measure "
         "the floor, it is the input's magnitude (10³ × the output's), so 2·γ_n·floor ≈ 0.8% of the output hides "
         "it", judge="own"),
    Case("r4-zero-fill-unit-conversion-gain-circular", "control", R4.Float32OnlyCalibration, (1, 8, 8), TE,
         "violated", "the same layer under the circular claim: the measured floor stays at the output's size",
         judge="own"),
    Case("r4-control-zero-fill-unit-conversion", "control", lambda: R4.Float32OnlyCalibration(0.0), (1, 8, 8), ZF,
         "holds", "the calibration without the gain error", judge="own"),
    # ================================================================== 2. the twin's validation
    Case("r4-fused-fast-path", "2 twin validation: lost half", R4.FusedFastPath, (1, 8, 8), TE, "violated",
         "float32 and half run a zero-padded 3× 'fused' path, float64 the circular reference: the probes lose "
         "'half the output' (they are on the fused path too), which counts as full growth, so the float64 twin "
         "arbitrates and calls every error rounding", judge="own"),
    Case("r4-control-fused-fast-path", "control", lambda: R4.FusedFastPath(bad=False), (1, 8, 8), TE, "holds",
         "the reference path in every dtype", judge="own"),
    Case("r4-quantised-dtype-branch", "2 twin validation: per chunk", R4.QuantisedDtypeBranch, (1, 8, 8), TE,
         "violated", "fake-quant then a zero-padded float32 path: the twin is accepted or not depending on the "
         "elements evaluated together, so the confirmation does not reproduce the orbit's violation and a "
         "deterministic layer is called 'not a function of its input'", judge="own"),
    Case("r4-control-quantised-dtype-branch", "control", lambda: R4.QuantisedDtypeBranch(bad=False), (1, 8, 8), TE,
         "holds", "fake-quant then the circular conv in every dtype", judge="own"),
    # ================================================================== 3. the linear certificate
    Case("r4-path-chosen-when-cast", "3 certificate: float64 copy", R4.PathChosenWhenCast, (1, 8, 8), TE,
         "violated", "the module picks its path in _apply: the certificate traces and probes the float64 copy "
         "(the circular reference) and certifies the float32 module, which zero-pads", judge="own",
         kind="certificate"),
    Case("r4-control-path-chosen-when-cast", "control", lambda: R4.PathChosenWhenCast(bad=False), (1, 8, 8), TE,
         "holds", "both paths circular: certified is right", judge="own", kind="certificate"),
    # ================================================================== 4. the measures
    Case("r4-lie-layers-shared-module", "4 measure: attribution", R4.SharedZeroPadBlock, (1, 8, 8), TE,
         "violated", "the zero-padded conv is called twice (weight sharing): dropped from the per-module terms, "
         "the defect lands in the remainder and largest() names an equivariant module at 1e-16",
         kind="measure", measure=lie_attribution),
    Case("r4-lie-layers-functional-op", "4 measure: attribution", R4.FunctionalZeroPad, (1, 8, 8), TE,
         "violated", "the zero-padded conv is F.conv2d inside forward: not a leaf, largest() names an equivariant "
         "module at the floor", kind="measure", measure=lie_attribution),
    Case("r4-control-lie-layers-called-once", "control", lambda: R4.SharedZeroPadBlock("once"), (1, 8, 8), TE,
         "violated", "the zero-padded conv called once: largest() must name it", kind="measure",
         measure=lie_attribution),
    Case("r4-control-lie-layers-leaf", "control", lambda: R4.FunctionalZeroPad(functional=False), (1, 8, 8), TE,
         "violated", "the zero-padded conv as an nn.Conv2d leaf: largest() must name it", kind="measure",
         measure=lie_attribution),
    Case("r4-control-lie-layers-equivariant", "control", lambda: R4.SharedZeroPadBlock("none"), (1, 8, 8), TE,
         "holds", "every conv circular (the shared one called twice): nothing above the floor", kind="measure",
         measure=lie_attribution),
    Case("r4-top1-change-quincunx", "4 measure: sampled shift", R4.QuincunxClassifier, (1, 8, 8), TI, "violated",
         "a classifier invariant to the diagonal shift (1, 1) only: top1_change's protocol moves one pixel "
         "diagonally and reports 0% change while every axis shift flips the top-1 class",
         kind="measure", measure=top1_at_the_floor),
    Case("r4-control-top1-change", "control", lambda: R4.QuincunxClassifier(quincunx=False), (1, 8, 8), TI,
         "holds", "logits from global statistics: invariant to every shift", kind="measure",
         measure=top1_at_the_floor),
]
