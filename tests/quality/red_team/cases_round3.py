"""Round 3 of the red team: cases that attack the engine's round-3 mechanisms (ids ``r3-…``).

Targets: the twin's "ignores fine detail" test (it cannot tell a float32-inside twin from a quantiser or a
narrow output cast), the measured rounding floor f(17/16·x) + f(15/16·x) − 2·f(x) on layers that are not
homogeneous of degree 1, outputs of unusual dtypes and shapes (a float16 output of a float32 layer, an
(N, H, W) output of an (N, C, H, W) input), and ordinary users' bugs (even kernels with asymmetric padding, a
wrongly oriented branch of a group conv, an off-by-one crop, symmetrisation rotated back the wrong way), with
controls that the engine must keep answering right.  The truth comes from the brute-force oracle.
"""

from __future__ import annotations

import torch

from red_team import layers_round3 as R3
from red_team.cases import TE, Case

REG = "rot90-equivariant[channels=regular]"

ROUND3 = [
    # ================================================================== 1. the twin's "ignores fine detail" test, the floor
    Case("r3-quantised-naive-norm", "1 twin: ignores fine detail", R3.QuantisedNaiveNorm, (1, 8, 8), TE, "holds",
         "a quantiser in front makes the float64 twin ignore a 2⁻³⁰ change, so it is dropped as 'computes in "
         "float32'; the one-pass variance's float32 cancellation (which shrinks to 1e-10 in float64) is then "
         "called a violation",
         known_limit="the float64 twin is kept (a quantiser is told from a float32-inside twin) and arbitrates "
                     "inputs of moderate size, but on inputs near 10³ the quantiser's bins flip between float32 and "
                     "float64 and the float32 one-pass variance loses 60%: float16 overflows, bfloat16 grows the "
                     "disagreement 14× (not the 2⁸ rounding needs), so the twin cannot be shown to compute the same "
                     "function; the verdict falls back to the layer's own bound and calls float32's 60% error a "
                     "violation (sound, a false alarm)"),
    Case("r3-quantised-tiny-gain", "1 twin + floor", R3.QuantisedTinyGain, (1, 8, 8), TE, "violated",
         "no arbiter (quantiser) and a non-homogeneous layer: the measured floor climbs to the input's magnitude "
         "(10⁴ × the output's) and could hide a 0.3% gain error", judge="own"),
    Case("r3-control-quantised-conv", "control", lambda: R3.QuantisedTinyGain(0.0), (1, 8, 8), TE, "holds",
         "the same quantised conv without the gain error", judge="own"),
    Case("r3-square-tiny-gain-float32-only", "1 floor", R3.SquareTinyGain, (1, 8, 8), TE, "violated",
         "1e-6·conv(x²), float32-only (no twin): x² is homogeneous of degree 2, the floor's residual is f/128, "
         "so the floor is the input's magnitude; a 0.08% gain error", judge="own"),
    Case("r3-siren-branch-tiny-gain", "1 floor", lambda: R3.SirenBranchTinyGain(3e-3, branch=1e-3), (1, 8, 8), TE,
         "violated", "float32-only (no twin) with a bounded sine branch: the floor's residual stays at the branch's "
         "size at every magnitude, so the floor is the input's; a 0.3% gain error on the linear path",
         judge="own"),
    Case("r3-control-siren-branch", "control", lambda: R3.SirenBranchTinyGain(0.0, branch=1e-3), (1, 8, 8), TE,
         "holds", "the same without the gain error", judge="own"),
    # ================================================================== 2. unusual outputs
    Case("r3-half-output-gain", "2 output dtype", R3.HalfOutputGain, (1, 8, 8), TE, "violated",
         "a float32 layer that casts its output to float16: the bound uses float16's u for all n accumulated "
         "terms (≈ 6% of the channel), and the twin (float16 output too) is dropped as ignoring fine detail; "
         "a 1% gain error (2.8% relative) hides"),
    Case("r3-control-half-output", "control", lambda: R3.HalfOutputGain(0.0), (1, 8, 8), TE, "holds",
         "the same float16-output conv without the gain error"),
    Case("r3-bfloat16-output-gain", "2 output dtype", lambda: R3.HalfOutputGain(5e-2, out_dtype=torch.bfloat16),
         (1, 8, 8), TE, "violated", "the same with a bfloat16 output: the bound is ≈ 50% of the channel, a 5% gain "
         "error (up to 20% relative) hides"),
    Case("r3-control-bfloat16-output", "control", lambda: R3.HalfOutputGain(0.0, out_dtype=torch.bfloat16),
         (1, 8, 8), TE, "holds", "the bfloat16-output conv without the gain error"),
    Case("r3-no-channel-axis", "2 output shape", R3.NoChannelAxis, (1, 8, 8), TE, "holds",
         "an (N, H, W) output of an (N, C, H, W) input is read as (N, C, L): the verdict is 'violated' (ρ cannot "
         "act) for a claim the layer keeps; a usage error would be right too",
         also_ok=("error",), usage_ok=("output", "shape", "spatial")),
    # ================================================================== 4. the anchors and the batch-size re-check
    Case("r3-couples-away-from-anchors", "4 anchors / re-check", R3.CouplesAwayFromAnchors, (1, 8, 8), TE, "holds",
         "y_i += 0.5·conv(x_{i-1}) for 2 ≤ i ≤ N-2: both anchors (second and last) are spared, so chunks are "
         "taken as valid; the non-reproducing chunk violation becomes 'error' for a claim the layer keeps"),
    # ================================================================== 5. four input properties at once
    Case("r3-decibel-branch", "5 search coverage", R3.DecibelBranch, (1, 8, 8), TE, "violated",
         "zero padding only on inputs negative, large, low-contrast and non-integer at once (a dB spectrogram)",
         domains=("decibels",)),
    Case("r3-control-half-precision-gate", "control", R3.HalfPrecisionGate, (1, 16, 16), TE, "holds",
         "an SE gate computed in float16 (autocast) on a float32 map: float16 rounding flips of the gate must not "
         "be called violations",
         known_limit="on the 64-sample ImageNet-normalised batch (a whole-batch domain added in round 7) the "
                     "float16 gate's flips put the float64 twin 5.6× the rounding bound away, so the twin is not "
                     "accepted as arbiter and float32's own bound calls the rounding a violation (a false alarm)"),
    # ================================================================== 3. ordinary users' bugs (and controls)
    Case("r3-even-kernel-rot90", "3 user bugs", R3.EvenKernelRot90, (1, 8, 8), "rot90-equivariant", "violated",
         "a 4x4 rotation-symmetrised kernel with (2, 1) 'same' padding: the output centre is half a pixel off"),
    Case("r3-control-even-kernel-circular", "control", R3.EvenKernelCircular, (1, 8, 8), TE, "holds",
         "asymmetric circular padding is still a circular conv"),
    Case("r3-group-conv-one-branch-wrong", "3 user bugs", R3.GroupConvWrongDirectionOneOrbit, (1, 8, 8), REG,
         "violated", "a lifting conv whose 4th orientation uses rot90 instead of rot270"),
    Case("r3-control-group-conv-right", "control", lambda: R3.GroupConvWrongDirectionOneOrbit(wrong=False),
         (1, 8, 8), REG, "holds", "the same lifting conv with the right orientations"),
    Case("r3-centre-crop-off-by-one", "3 user bugs", R3.CentreCropOffByOne, (1, 8, 8), "rot90-invariant",
         "violated", "x[..., 1:h-2, 1:w-2].mean(): the crop is not centred"),
    Case("r3-centre-crop-off-by-one-flip", "3 user bugs", R3.CentreCropOffByOne, (1, 8, 8), "flip-invariant",
         "violated", "the same crop, flip claim"),
    Case("r3-control-centre-crop", "control", R3.CentreCropCorrect, (1, 8, 8), "rot90-invariant", "holds",
         "x[..., 1:h-1, 1:w-1].mean(): centred"),
    Case("r3-symmetrised-wrong-direction", "3 user bugs", R3.SymmetrisedWrongDirection, (1, 8, 8),
         "rot90-equivariant", "violated", "Σ rot^k conv(rot^k x): equivariant to rot^-1, not rot"),
    Case("r3-control-symmetrised-right", "control", lambda: R3.SymmetrisedWrongDirection(right=True), (1, 8, 8),
         "rot90-equivariant", "holds", "Σ rot^-k conv(rot^k x): rot90-equivariant"),
]
