"""Round 6 of the red team: layers that notice how the audit calls them (inference mode, memory format,
contiguity), layers that branch on input structure the audit never draws (grey images stored as RGB, raw 8-bit
pixels), strided zero-fill claims, and ordinary user bugs in padding, resizing and kernels (ids ``r6-…``).

Every attack has a control beside it.  The truth comes from the brute-force oracle, extended this round in
general ways: the domains ``grayscale`` and ``raw-8bit`` (``oracle.EXTRA_DOMAINS``), a ``memory_format`` in which
every input is handed to the layer (``Case.memory_format``), and zero-fill claims with a stride moving the
output by t/s (they moved it by t before, which made every strided zero-fill equivariance claim false).
"""

from __future__ import annotations

import torch

from red_team import layers_round6 as R6
from red_team.cases import TE, Case

BATCH = ("error",)  # a layer whose output depends on the rest of its batch: "error" is a right answer too
LAYOUT = ("error",)  # a layer whose output depends on the memory layout of equal values: not a function of x
ZE2 = "translation-equivariant[boundary=zero,stride=2]"
ZE2B = "translation-equivariant[boundary=zero,stride=2,border=2]"

ROUND6 = [
    # ================================================================== 1. how the layer is called
    Case("r6-inference-mode-branch", "1 detection: grad mode", R6.InferenceModeBranch, (1, 8, 8), TE, "violated",
         "circular padding only under torch.inference_mode(), zero padding under no_grad and with autograd: the "
         "audit calls every layer under inference_mode and sees the circular path only"),
    Case("r6-control-inference-mode-no-branch", "control", lambda: R6.InferenceModeBranch(branch=False),
         (1, 8, 8), TE, "holds", "circular padding in every grad mode"),
    Case("r6-channels-last-zero-pad", "1 detection: memory format", R6.ChannelsLastBranch, (2, 8, 8), TE,
         "violated", "an NHWC path padded with zeros: a model in channels_last gets it on every call; the audit "
         "hands contiguous NCHW batches only", memory_format=torch.channels_last, also_ok=LAYOUT),
    Case("r6-control-channels-last-circular", "control", lambda: R6.ChannelsLastBranch(bug=False), (2, 8, 8), TE,
         "holds", "both paths circular, judged on channels_last inputs", memory_format=torch.channels_last),
    Case("r6-assumes-contiguous-rot90", "1 detection: contiguity", R6.AssumesContiguous, (1, 8, 8),
         "rot90-equivariant", "violated", "as_strided with contiguous strides: torch.rot90's transposed view is "
         "read as its transpose; the audit hands contiguous batches only", also_ok=LAYOUT),
    Case("r6-control-contiguous-first-rot90", "control", lambda: R6.AssumesContiguous(fixed=True), (1, 8, 8),
         "rot90-equivariant", "holds", "x.contiguous() before the raw read"),
    # ================================================================== 2. input structure
    Case("r6-greyscale-fast-path", "2 inputs: grey as RGB", R6.GreyscaleFastPath, (3, 8, 8), TE, "violated",
         "a zero-padded luminance path taken, sample by sample, when R == G == B", domains=("grayscale",)),
    Case("r6-greyscale-fast-path-whole-batch", "2 inputs: homogeneous batches",
         lambda: R6.GreyscaleFastPath(per_sample=False), (3, 8, 8), TE, "violated",
         "the same path when the WHOLE batch is grey (one test per batch, as users write it): the audit's batches "
         "mix kinds of input and none is grey throughout", domains=("grayscale",), also_ok=BATCH),
    Case("r6-control-greyscale-fast-path-circular", "control", lambda: R6.GreyscaleFastPath(bug=False), (3, 8, 8),
         TE, "holds", "the luminance path padded circularly", domains=("grayscale",)),
    Case("r6-control-greyscale-whole-batch-circular", "control",
         lambda: R6.GreyscaleFastPath(bug=False, per_sample=False), (3, 8, 8), TE, "holds",
         "the batch-level test, the path padded circularly", domains=("grayscale",)),
    Case("r6-raw-8bit-branch", "2 inputs: raw pixels", R6.Raw8BitBranch, (1, 8, 8), TE, "violated",
         "a zero-padded path for raw 8-bit pixels (non-negative integers above 4), sample by sample",
         domains=("raw-8bit",)),
    Case("r6-raw-8bit-branch-whole-batch", "2 inputs: homogeneous batches",
         lambda: R6.Raw8BitBranch(per_sample=False), (1, 8, 8), TE, "violated",
         "the same path when the whole batch is raw pixels (one test per batch)", domains=("raw-8bit",),
         also_ok=BATCH),
    Case("r6-control-raw-8bit-branch-circular", "control", lambda: R6.Raw8BitBranch(bug=False), (1, 8, 8), TE,
         "holds", "the raw-pixel branch normalises and pads circularly", domains=("raw-8bit",)),
    Case("r6-control-raw-8bit-whole-batch-circular", "control",
         lambda: R6.Raw8BitBranch(bug=False, per_sample=False), (1, 8, 8), TE, "holds",
         "the batch-level test, the branch padded circularly", domains=("raw-8bit",)),
    # ================================================================== 3. strided zero-fill claims
    Case("r6-zero-fill-stride-2-avg-pool", "3 zero-fill with a stride", R6.AvgPool2, (1, 8, 8), ZE2, "holds",
         "avg_pool2d(2): a zero-fill shift by t moves the output by t/2"),
    Case("r6-zero-fill-stride-2-zero-pad-conv", "3 zero-fill with a stride", R6.StridedZeroPadConv, (1, 8, 8), ZE2,
         "violated", "a stride-2 zero-padded conv: content on the border meets the padding"),
    Case("r6-control-zero-fill-stride-2-zero-pad-conv-border-2", "control", R6.StridedZeroPadConv, (1, 8, 8),
         ZE2B, "holds", "the same conv with content kept 2 pixels from the border"),
    # ================================================================== 4. ordinary user bugs
    Case("r6-same-padding-even-kernel-rot90", "4 user bugs: padding", R6.SamePadding, (1, 8, 8),
         "rot90-equivariant", "violated", "padding='same' with a 4×4 kernel pads 1 top/left, 2 bottom/right"),
    Case("r6-control-same-padding-dilated-odd-kernel", "control", lambda: R6.SamePadding(3, 2), (1, 8, 8),
         "rot90-equivariant", "holds", "padding='same', 3×3 kernel, dilation 2: padding 2 on every side"),
    Case("r6-one-sided-pad-rot90", "4 user bugs: padding", R6.PaddedConv, (1, 8, 8), "rot90-equivariant",
         "violated", "F.pad(x, (0, 1, 0, 1)) before a 2×2 conv"),
    Case("r6-control-symmetric-pad-rot90", "control", lambda: R6.PaddedConv((1, 1, 1, 1), 3), (1, 8, 8),
         "rot90-equivariant", "holds", "F.pad(x, (1, 1, 1, 1)) before a 3×3 conv"),
    Case("r6-conv-transpose-output-padding-rot90", "4 user bugs: upsampling", R6.TransposedConvUpsample, (1, 8, 8),
         "rot90-equivariant", "violated", "ConvTranspose2d(stride=2, padding=1, output_padding=1): the extra row "
         "and column on one side"),
    Case("r6-control-conv-transpose-no-output-padding", "control", lambda: R6.TransposedConvUpsample(0),
         (1, 8, 8), "rot90-equivariant", "holds", "output_padding=0: 15×15, centred"),
    Case("r6-nearest-resize-8-to-12-rot90", "4 user bugs: resizing", R6.Resize, (1, 8, 8), "rot90-equivariant",
         "violated", "nearest resize by 3/2 picks floor(i·2/3): off-centre"),
    Case("r6-control-bilinear-resize-8-to-5-rot90", "control", lambda: R6.Resize(5, "bilinear"), (1, 8, 8),
         "rot90-equivariant", "holds", "bilinear resize with half-pixel centres"),
    Case("r6-chiral-kernel-flip", "4 user bugs: kernel symmetry", R6.ChiralKernelConv, (1, 8, 8),
         "flip-equivariant", "violated", "a kernel symmetrised over C4 only, claimed flip-equivariant"),
    Case("r6-control-chiral-kernel-rot90", "control", R6.ChiralKernelConv, (1, 8, 8), "rot90-equivariant",
         "holds", "the same kernel under rot90"),
]

ROUND6 += [
    # ================================================================== 5. continuous rotations: one sense only
    Case("r6-rotation-clockwise-only", "5 rotation angles", R6.ClockwiseCornerDetector, (1, 16, 16),
         "rotation-invariant", "violated", "33% off for images turned clockwise (the empty corners' handedness); "
         "approximate for counter-clockwise turns by 30° and 45°"),
    Case("r6-control-rotation-no-detector", "control", lambda: R6.ClockwiseCornerDetector(0.0), (1, 16, 16),
         "rotation-invariant", "approximate", "the disc-mean term alone: below 2% at every angle"),
]

ROUND6 += [
    # ================================================================== 6. more ways to notice the audit
    Case("r6-compiled-at-construction", "1 detection: the deep copy", R6.CompiledAtConstruction, (1, 8, 8), TE,
         "violated", "the instance finds its zero-padded 'compiled kernel' in a module-level WeakSet filled at "
         "construction; the audit's deep copy is not in it and runs the circular reference path", judge="own"),
    Case("r6-control-compiled-at-construction-circular", "control",
         lambda: R6.CompiledAtConstruction(bug=False), (1, 8, 8), TE, "holds",
         "the compiled kernel pads circularly too", judge="own"),
    Case("r6-grad-mode-branch", "1 detection: grad mode", R6.GradModeBranch, (1, 8, 8), TE, "violated",
         "a zero-padded path whenever autograd records (eval mode under autograd: saliency, attacks); the audit "
         "and its certificate run under inference_mode/no_grad only", grad_enabled=True),
    Case("r6-control-grad-mode-branch-circular", "control", lambda: R6.GradModeBranch(bug=False), (1, 8, 8), TE,
         "holds", "both paths circular, judged with autograd on", grad_enabled=True),
]

LAYERS6 = "tests/quality/red_team/layers_round6.py"

ROUND6 += [
    # ================================================================== 7. the same detections through the CI paths
    Case("r6-inference-mode-branch-assert-claims", "1 detection: grad mode (CI)", R6.InferenceModeBranch, (1, 8, 8),
         (TE,), "violated", "ci.assert_claims, as a CI job calls it, passes the zero-padded layer",
         kind="assert_claims"),
    Case("r6-inference-mode-branch-cli", "1 detection: grad mode (CLI)", R6.InferenceModeBranch, (1, 8, 8), TE,
         "violated", "`invariances audit layers_round6.py:InferenceModeBranch`: exit 1 expected", kind="cli",
         cli=(f"{LAYERS6}:InferenceModeBranch", "--input-shape", "1,8,8", "--claim", TE), exit_ok=(1,)),
    Case("r6-control-inference-mode-no-branch-cli", "control", lambda: R6.InferenceModeBranch(branch=False),
         (1, 8, 8), TE, "holds", "the circular layer from the CLI: exit 0", kind="cli",
         cli=(f"{LAYERS6}:circular_inference_factory", "--input-shape", "1,8,8", "--claim", TE), exit_ok=(0,)),
]

ROUND6 += [
    # ================================================================== 8. homogeneous batches: the commonest test
    Case("r6-unit-interval-batch-stem", "2 inputs: homogeneous batches", R6.UnitIntervalStem, (1, 8, 8), TE,
         "violated", "`if x.min() >= 0 and x.max() <= 1:` (float images) selects a zero-padded branch; every batch "
         "of the audit mixes kinds of input, none lies in [0, 1] throughout", domains=("unit",), also_ok=BATCH),
    Case("r6-control-unit-interval-batch-stem", "control", lambda: R6.UnitIntervalStem(bug=False), (1, 8, 8), TE,
         "holds", "the same stem, both branches circular", domains=("unit",)),
]

ROUND6 += [
    Case("r6-rotation-shallow-turns-only", "5 rotation angles", lambda: R6.ClockwiseCornerDetector(shallow=True),
         (1, 16, 16), "rotation-invariant", "violated", "33% off for turns of 10°–20° in either sense; approximate "
         "at ±30°, ±45° and ±60°: adding the other sense alone does not reach it", angles=(15.0, -15.0)),
    Case("r6-control-rotation-shallow-no-detector", "control", lambda: R6.ClockwiseCornerDetector(0.0, shallow=True),
         (1, 16, 16), "rotation-invariant", "approximate", "the disc-mean term alone, judged at ±15° too",
         angles=(15.0, -15.0)),
]
