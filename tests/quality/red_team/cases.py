"""The red-team cases: one adversarial layer, one claim, the declared truth, and what the audit must answer.

``truth`` is what the brute-force oracle must find (the tests check that it
does, so a wrong case is caught):

- ``holds`` / ``violated``: the claim, judged as ``oracle.py`` says;
- ``random``: two calls on the same input differ;
- ``stateful``: the layer's output depends on earlier calls (counters, stale caches);
- ``shape``: the output has no batch axis (0-d, or its first size is not N);
- ``usage``: the claim cannot act on the input shape (the oracle is not consulted).

What the audit must answer follows from the truth (:data:`EXPECTED`); ``also_ok``
widens it where the brief allows two readings (a layer whose behaviour depends
on the batch size may be reported as ``error`` as well as ``violated``), and
``usage_ok`` lists words of which an ``InvalidArgument`` message must name one
for the rejection to be a right answer (a 2-number input shape, a margin on a
flat output, a group that cannot act on the shape).

``kind`` says how the case is run: ``audit`` (the library's ``audit``), ``certificate``
(the audit, plus the linear certificate must not certify a false claim),
``assert_claims``, ``cli`` (``invariances audit`` in-process), ``cli-subprocess``,
``refute`` (the registry's ``refute``), ``registry-cli`` (the registry audit on a
fake registry).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from red_team import layers as L

EXPECTED = {
    "holds": ("holds", "certified"),
    "violated": ("violated",),
    "random": ("error",),
    "stateful": ("error", "violated"),
    "shape": ("error",),
    "usage": (),
    "approximate": ("approximate",),  # round 2: continuous rotations below the 10% convention
}


@dataclass(frozen=True)
class Case:
    id: str
    mechanism: str
    make: object
    input_shape: tuple
    claim: object  # a claim name, or a tuple of names for assert_claims
    truth: str
    fools: str
    kind: str = "audit"
    judge: str = "float64"  # which oracle judge is authoritative: "float64" (the float64 copy) or "own" dtype
    layout: str = "NCHW"
    also_ok: tuple = ()
    usage_ok: tuple = ()  # InvalidArgument whose message names one of these is (also) a right answer
    cli: tuple = ()  # CLI arguments after "audit", for cli kinds
    exit_ok: tuple = ()  # accepted exit codes, for cli kinds
    requires: str = ""  # an optional third-party package the case needs
    notes: str = ""
    # ---- round 2 (defaults keep round 1 unchanged)
    domains: tuple = ()  # oracle domains added to oracle.DOMAINS (oracle.EXTRA_DOMAINS)
    batches: tuple = ()  # oracle batch sizes instead of oracle.BATCH_SIZES
    assume: object = None  # a precondition assume(x) -> bool, given to the oracle and to the engine
    engine_layout: str = ""  # layout= given to the engine ("HW", "CL"); `layout` is the oracle's reading
    check: object = None  # check(layer) -> [problems]: state the snapshot cannot see (identities, generators)
    # ---- round 3
    known_limit: str = ""  # a wrong answer the engine is known to give, and why: the test expects it to fail
    # ---- round 4
    measure: object = None  # kind "measure": measure(ci, layer) -> (answer, message), answer "holds"/"violated"
    # ---- round 6
    memory_format: object = None  # the oracle hands every input in this memory format (torch.channels_last)
    grad_enabled: bool = False  # the oracle calls the layer with autograd recording instead of under no_grad
    angles: tuple = ()  # rotation angles the oracle judges besides oracle.ROTATION_ANGLES
    # ---- round 7
    input_requires_grad: bool = False  # the oracle hands inputs that require grad (autograd recording)
    deterministic: bool = False  # the oracle calls the layer with torch.use_deterministic_algorithms(True)

    @property
    def expected(self):
        return tuple(EXPECTED[self.truth]) + tuple(self.also_ok)

    @property
    def claims(self):
        return self.claim if isinstance(self.claim, tuple) else (self.claim,)


def half(make, dtype):
    return lambda: make().to(dtype)


LAYERS_FILE = "tests/quality/red_team/layers.py"
TE = "translation-equivariant"
TI = "translation-invariant"
ZI = "translation-invariant[boundary=zero]"
BATCH = ("error",)  # batch-size-dependent layers: "the output depends on the batch" is a right answer too

CASES = [
    # ------------------------------------------------------------------ 1. inputs
    Case("m1-clamp-above-3.5", "1 inputs", lambda: L.ClampAbove(3.5), (1, 8, 8), TE, "violated",
         "position term woken only by |x| > 3.5: integer probes in [-3, 3] never wake it"),
    Case("m1-clamp-above-4-three-channels", "1 inputs", lambda: L.ClampAbove(4.0, 3, 2, seed=2), (3, 8, 8), TE,
         "violated", "same, threshold 4, three input channels"),
    Case("m1-branch-on-absmax-10", "1 inputs", lambda: L.BranchOnLargeMax(2, 2, seed=3), (2, 8, 8), TE, "violated",
         "zero padding when max|x| > 10: never reached by small integers"),
    Case("m1-saturation-at-4-top-row", "1 inputs", L.SaturatedMeanRowZero, (2, 8, 8), "rot90-invariant", "violated",
         "what a clamp at ±4 cuts off in row 0 is added back: invisible for |x| ≤ 4"),
    Case("m1-fraction-position-map", "1 inputs", lambda: L.FractionalPosition(1, 2, seed=5), (1, 8, 8), TE,
         "violated", "position term in (x - round x)²: zero on integer inputs"),
    Case("m1-fraction-first-column-8x10", "1 inputs", L.FractionalFirstColumn, (2, 8, 10), "flip-invariant",
         "violated", "|fraction| of column 0 added to a max: zero on integer inputs (non-square input)"),
    Case("m1-nonnegative-branch", "1 inputs", L.NonNegativeBranch, (1, 8, 8), TI, "violated",
         "off-by-one mean only when every value is ≥ 0: mixed-sign probes never see it"),
    Case("m1-positive-minimum-ramp", "1 inputs", lambda: L.PositiveMinimumRamp(2, 2, seed=6), (2, 8, 8), TE,
         "violated", "position map scaled by relu(min x): only positive images"),
    Case("m1-constant-input-ramp", "1 inputs", lambda: L.ConstantInputRamp(1, 2, seed=7), (1, 8, 8), TE,
         "violated", "position map added on exactly constant channels"),
    Case("m1-near-constant-ramp", "1 inputs", lambda: L.NearConstantRamp(2, 2, seed=8), (2, 8, 8), TE, "violated",
         "position map grows as the spread falls below 0.05: flat images with faint noise"),
    Case("m1-saturated-off-by-one-max", "1 inputs", L.SaturatedOffByOneMax, (1, 8, 8), TI, "violated",
         "max of clamp(x, max=0.5) skipping row 0: saturated by every integer probe"),
    Case("m1-sparse-input-branch", "1 inputs", lambda: L.SparseInputBranch(1, 2, seed=9), (1, 8, 8), TE, "violated",
         "zero padding when > 80% of the input is 0"),
    Case("m1-smooth-input-branch", "1 inputs", lambda: L.SmoothInputBranch(1, 2, seed=10), (1, 8, 8), TE,
         "violated", "zero padding when total variation is small (smooth images)"),
    Case("m1-positional-clamp-500", "1 inputs", lambda: L.PositionalClamp(1, 2, seed=11), (1, 8, 8), TE, "violated",
         "clamp at ±500·(1 + 0.2·map): large magnitudes only"),
    Case("m1-huge-input-branch-1e5", "1 inputs", L.HugeInputBranch, (1, 8, 8), "rot90-invariant", "violated",
         "off-by-one mean above 1e5: inputs of 1e5 to 1e6 only"),
    Case("m1-zero-fill-border-vignette", "1 inputs", L.BorderVignetteSum, (1, 12, 12), ZI, "violated",
         "weight 0.5 on the outer ring: zero-fill probes keep content in the centre"),
    Case("m1-zero-fill-last-column-gain", "1 inputs", L.LastColumnGain, (2, 10, 10), ZI, "violated",
         "gain 1.25 on the last column of channel 1 only"),
    Case("m1-linear-certificate-quantiser", "1 inputs", L.QuantiserPlusPosition, (1, 8, 8), TE, "violated",
         "round(x) is linear on integer probes: the linearity test of the certificate passes", kind="certificate"),
    Case("m1-linear-certificate-dead-zone", "1 inputs", L.DeadZonePlusPosition, (2, 8, 8), TE, "violated",
         "x·(|x| > 0.5) is the identity on integers", kind="certificate"),
    Case("m1-linear-certificate-quarter-quantiser", "1 inputs", L.QuarterQuantiser, (1, 12, 12), TE, "violated",
         "round(4x)/4 with a residual ≤ 1/8 times a map", kind="certificate"),
    Case("control-circular-conv", "control", lambda: L.CircConv(1, 2), (1, 8, 8), TE, "holds",
         "the clean layer behind most m1/m2 cases"),
    Case("control-integer-circular-conv-certificate", "control", lambda: L.CircConv(1, 2, integer=True),
         (1, 8, 8), TE, "holds", "a linear layer the certificate may certify", kind="certificate"),
    Case("control-relu-sum-zero-fill", "control", L.ReluSum, (1, 12, 12), ZI, "holds",
         "pointwise f(0) = 0 then a global sum: zero-fill invariant for content anywhere"),
    Case("control-fourier-magnitude-zero-fill", "control", L.FourierMagnitude, (1, 8, 8), ZI, "holds",
         "|DFT|: a zero-fill shift of content that stays inside is a circular shift"),
    Case("control-relu-map-zero-fill-equivariant", "control", L.ReluMap, (2, 8, 8),
         "translation-equivariant[boundary=zero]", "holds", "pointwise f(0) = 0"),
    # ------------------------------------------------------------------ 2. batches
    Case("m2-zero-pad-at-batch-1", "2 batches", lambda: L.ZeroPadAtBatchOne(1, 2, seed=12), (1, 8, 8), TE,
         "violated", "the reference is computed at batch 1, the orbit batched", also_ok=BATCH),
    Case("m2-zero-pad-from-batch-8", "2 batches", lambda: L.ZeroPadFromBatchEight(1, 2, seed=13), (1, 8, 8), TE,
         "violated", "zero padding for batches ≥ 8", also_ok=BATCH),
    Case("m2-zero-pad-at-odd-batch", "2 batches", lambda: L.ZeroPadAtOddBatch(1, 2, seed=14), (1, 8, 8), TE,
         "violated", "zero padding at odd batch sizes > 1: the audit uses 1, 4, 8 and 32", also_ok=BATCH),
    Case("m2-off-by-one-for-batches-2-to-16", "2 batches", L.OffByOneMeanForSmallBatches, (2, 8, 8), TI, "violated",
         "off-by-one mean for 2 ≤ N ≤ 16: the reference is at 1, the chunks at 32", also_ok=BATCH),
    Case("m2-position-in-batch", "2 batches", lambda: L.PositionInBatch(1, 2, seed=15), (1, 8, 8), TE, "violated",
         "samples at index ≥ 2 get a position map", also_ok=BATCH),
    Case("m2-call-counter-30", "2 batches", lambda: L.CallCounter(1, 2, seed=16), (1, 8, 8), TE, "stateful",
         "broken from the 31st call on: an audit of a dozen calls never sees it"),
    Case("m2-every-seventh-call", "2 batches", lambda: L.EverySeventhCall(1, 2, seed=17), (1, 8, 8), TE, "random",
         "every 7th call adds a map: two calls on the same input can differ", also_ok=("violated",)),
    Case("m2-stale-cache-by-spatial-shape", "2 batches", L.StaleCacheBySpatialShape, (1, 8, 8), TI, "stateful",
         "a cache keyed by (C, H, W) returns the first output forever: everything looks invariant"),
    Case("m2-stale-cache-by-shape", "2 batches", L.StaleCacheByShape, (2, 8, 8), "rot90-invariant", "stateful",
         "a cache keyed by the full shape"),
    # ------------------------------------------------------------------ 3. tolerance
    Case("m3-loud-1e5-quiet-zero-pad", "3 tolerance", lambda: L.LoudAndQuietChannels(2, 2, 0, 1e5, seed=18),
         (2, 16, 16), TE, "violated", "2·γ_n·max|y| with the 1e5 channel hides O(1) border errors next to it"),
    Case("m3-loud-3e5-last-of-three", "3 tolerance", lambda: L.LoudAndQuietChannels(3, 3, 2, 3e5, seed=19),
         (3, 16, 16), TE, "violated", "loud channel last, bias 3e5, three channels"),
    Case("m3-loud-1e4-quiet-zero-pad-8x8", "3 tolerance",
         lambda: L.LoudAndQuietChannels(1, 3, 1, 1e4, seed=43, scale=0.05), (1, 8, 8), TE, "violated",
         "loud middle channel, bias 1e4, 8x8"),
    Case("m3-loud-channel-quiet-pixel-1e-2", "3 tolerance", L.LoudChannelQuietPixel, (3, 16, 16), TE, "violated",
         "a 1e-2 pixel error in channel 0 beside a 3e4 channel"),
    Case("m3-loud-logit-quiet-feature", "3 tolerance", L.LoudLogitQuietFeature, (2, 16, 16), TI, "violated",
         "flat output: a 1e5 logit hides an off-by-one mean"),
    Case("m3-pixel-3e-5", "3 tolerance", lambda: L.PixelPerturbation(3e-5, (0, 3, 5), 1, 2), (1, 16, 16), TE,
         "violated", "3e-5 at one pixel is below 2·γ_256·max|y|"),
    Case("m3-pixel-3e-5-corner-three-channels", "3 tolerance",
         lambda: L.PixelPerturbation(3e-5, (2, 0, 0), 3, 3, seed=20), (3, 16, 16), TE, "violated",
         "3e-5 at pixel (0, 0) of channel 2, three channels"),
    Case("m3-pixel-3e-5-rot90", "3 tolerance", L.SymmetricConvPixel, (2, 12, 12), "rot90-equivariant", "violated",
         "D4-symmetric conv plus 3e-5 at a corner"),
    Case("m3-kernel-asymmetric-1e-5-rot90", "3 tolerance", lambda: L.AsymmetricKernel(1e-5, (0, 0, 0, 1), 1, 2),
         (1, 16, 16), "rot90-equivariant", "violated", "one tap off by 1e-5"),
    Case("m3-kernel-asymmetric-2e-5-flip", "3 tolerance",
         lambda: L.AsymmetricKernel(2e-5, (2, 1, 1, 0), 2, 3, seed=42), (2, 12, 12), "flip-equivariant", "violated",
         "one tap of channel 2 off by 2e-5"),
    Case("m3-fp16-gain-map-10pc", "3 tolerance", half(lambda: L.GainMap(0.1), torch.float16), (1, 8, 8), TE,
         "violated", "±10% gain map in float16: γ_n in half precision swallows it"),
    Case("m3-bf16-gain-map-10pc", "3 tolerance", half(lambda: L.GainMap(0.1), torch.bfloat16), (1, 8, 8), TE,
         "violated", "±10% gain map in bfloat16"),
    Case("m3-bf16-gain-map-10pc-3x16x16", "3 tolerance", half(lambda: L.GainMap(0.1, 3, 2, seed=21), torch.bfloat16),
         (3, 16, 16), TE, "violated", "bfloat16 with n·u ≥ 1: no γ_n bound at all"),
    Case("m3-float32-bump-1e-5-relative", "3 tolerance", L.RelativeBump, (1, 16, 16), TE, "violated",
         "1e-5·max|y| at one pixel: below float32's tolerance, plain in float64"),
    Case("control-fp16-circular-conv", "control", half(lambda: L.CircConv(1, 2), torch.float16), (1, 8, 8), TE,
         "holds", "the clean float16 layer"),
    Case("control-bf16-circular-conv-3x16x16", "control", half(lambda: L.CircConv(3, 2, seed=21), torch.bfloat16),
         (3, 16, 16), TE, "holds", "the clean bfloat16 layer at a size where n·u ≥ 1"),
    Case("control-symmetric-conv-rot90", "control", lambda: L.SymmetricConv(2, 2, seed=14), (2, 12, 12),
         "rot90-equivariant", "holds", "D4-symmetric kernel, zero padding"),
    Case("control-symmetric-conv-flip", "control", lambda: L.SymmetricConv(2, 3, seed=42), (2, 12, 12),
         "flip-equivariant", "holds", "D4-symmetric kernel, zero padding"),
    # ------------------------------------------------------------------ 4. the float64 twin
    Case("m4-clean-only-in-float64", "4 float64 twin", lambda: L.CleanOnlyInFloat64(1, 2, seed=22), (1, 8, 8), TE,
         "violated", "an `if x.dtype == torch.float64` branch: the twin is clean, its 0 error read as rounding",
         judge="own"),
    Case("m4-zero-pad-unless-float64-weights", "4 float64 twin",
         lambda: L.ZeroPadUnlessFloat64Weights(1, 2, seed=23), (1, 8, 8), TE, "violated",
         "branch on the weight dtype: O(1) border errors 'shrink' to 0 in the twin", judge="own"),
    Case("m4-zero-pad-unless-float64-buffer", "4 float64 twin", L.ZeroPadUnlessFloat64Buffer, (2, 8, 8), TE,
         "violated", "branch on a buffer's dtype", judge="own"),
    Case("m4-complex-modulation", "4 float64 twin", L.ComplexModulation, (1, 8, 8), TE, "violated",
         "complex parameter cast to real by .to(float64): the twin drops the position map", judge="own"),
    Case("m4-complex-modulated-pool", "4 float64 twin", L.ComplexModulatedPool, (1, 8, 8), "rot90-invariant",
         "violated", "same, in a pooling layer", judge="own"),
    Case("control-complex-fourier-filter", "control", L.ComplexFourierFilter, (1, 8, 8), TE, "holds",
         "a circular conv through a complex Fourier filter", judge="own"),
    # ------------------------------------------------------------------ 5. evidence
    Case("m5-inplace-relu-first", "5 evidence", L.InplaceReluFirst, (1, 8, 8), TE, "holds",
         "ReLU(inplace=True) as first layer mutates the audit's example"),
    Case("m5-inplace-subtract", "5 evidence", lambda: L.InplaceSubtract(1, 2, seed=24), (1, 8, 8), TE, "holds",
         "x.sub_(1): every call shifts the example by -1"),
    Case("m5-inplace-scale-then-pool", "5 evidence", L.InplaceScaleThenPool, (2, 8, 8), "rot90-invariant", "holds",
         "x.mul_(2) then global mean"),
    Case("m5-inplace-position-gain", "5 evidence", L.InplacePositionGain, (1, 8, 8), TE, "violated",
         "x.mul_(1 + map): mutates the input and breaks the claim"),
    Case("m5-reused-output-buffer", "5 evidence", lambda: L.ReusedOutputBuffer(1, 2), (1, 8, 8), TE, "holds",
         "returns a view of one preallocated buffer: the next chunk overwrites the reference"),
    Case("m5-reused-output-buffer-16x16", "5 evidence", lambda: L.ReusedOutputBuffer(2, 2, seed=25), (2, 16, 16), TE,
         "holds", "same, 256 shifts in 8 chunks"),
    Case("m5-returns-mutated-input", "5 evidence", L.SubtractAndReturnInput, (1, 8, 8), TE, "holds",
         "x.sub_(1); return x: the output is the input, changed again by every call"),
    Case("m5-returns-view-of-input", "5 evidence", L.ViewOfInput, (2, 8, 8), "rot90-equivariant", "holds",
         "returns x[:, :, :, :]"),
    # ------------------------------------------------------------------ 6. determinism
    Case("m6-noise-7e-4", "6 determinism", lambda: L.Noisy(7e-4, 3, 2), (3, 16, 16), TE, "random",
         "7e-4 noise under 2·γ_768·max|y|"),
    Case("m6-noise-7e-4-large-outputs", "6 determinism", lambda: L.Noisy(7e-4, 1, 2, seed=45, gain=300.0), (1, 8, 8),
         TE, "random", "7e-4 noise on outputs of ~1000: under 2·γ_64·max|y|"),
    Case("m6-noise-1e-6", "6 determinism", lambda: L.Noisy(1e-6, 1, 2, seed=26), (1, 8, 8), TE, "random",
         "1e-6 noise: a few ulps"),
    Case("m6-noise-1e-2", "6 determinism", lambda: L.Noisy(1e-2, 1, 2, seed=27), (1, 8, 8), TE, "random",
         "1e-2 noise"),
    Case("m6-noise-7e-4-pool-rot90", "6 determinism", L.NoisyPool, (3, 16, 16), "rot90-invariant", "random",
         "7e-4 noise on a global mean"),
    Case("m6-dropout-stuck-in-train", "6 determinism", L.DropoutStuckInTrain, (1, 8, 8), TE, "random",
         "train() overridden without recursion: eval() leaves Dropout(0.1) on"),
    Case("m6-monte-carlo-dropout", "6 determinism", L.MonteCarloDropout, (2, 8, 8), "rot90-invariant", "random",
         "train() forces Dropout(0.05) back into training mode"),
    Case("m6-cancelling-matmul", "6 determinism", L.CancellingMatmul, (1, 8, 8), TE, "holds",
         "deterministic float32 cancellation that rounds differently per batch size: not randomness"),
    Case("m6-cancelling-conv", "6 determinism", L.CancellingConv, (2, 16, 16), TE, "holds",
         "circconv(x + 1e4) - 1e4·Σw: deterministic, batch-size-dependent rounding"),
    # ------------------------------------------------------------------ 7. claims narrower than their names
    Case("m7-scale-3-doubling-canonical-pool", "7 claim scope", L.DoublingCanonicalPool, (1, 8, 8), "scale-invariant",
         "violated", "invariant to upscaling by 2 and 4, not by 3: the audit tries factor 2 only"),
    Case("m7-scale-3-doubling-canonical-energy", "7 claim scope", L.DoublingCanonicalEnergy, (2, 6, 6),
         "scale-invariant", "violated", "same idea, energy of the top-left corner, 6x6"),
    Case("m7-zero-fill-zero-pad-conv-sum", "7 claim scope", L.ZeroPadConvSum, (1, 10, 10), ZI, "violated",
         "zero-padded conv + sum: content on the border loses kernel taps; centre-only probes never put it there"),
    Case("m7-scale-3-equivariant-offset", "7 claim scope", L.DoublingCanonicalOffset, (1, 8, 8),
         "scale-equivariant", "violated", "scale-equivariant for factors 2 and 4, not 3"),
    Case("control-global-avg-scale", "control", L.GlobalAvg, (2, 8, 8), "scale-invariant", "holds",
         "global mean: invariant to every upscaling"),
    # ------------------------------------------------------------------ 8. outputs and modules
    Case("m8-int64-argmax-invariant", "8 outputs/modules", L.ArgmaxClassifier, (1, 8, 8), TI, "holds",
         "int64 output of an invariant classifier"),
    Case("m8-int64-argmax-off-by-one", "8 outputs/modules", L.OffByOneArgmaxClassifier, (1, 8, 8), TI, "violated",
         "int64 output of a broken classifier"),
    Case("m8-bool-mask-circular", "8 outputs/modules", lambda: L.CircularMask(1, 2, seed=28), (1, 8, 8), TE, "holds",
         "bool output"),
    Case("m8-bool-mask-zero-pad", "8 outputs/modules", lambda: L.ZeroPadMask(1, 2, seed=29), (1, 8, 8), TE,
         "violated", "bool output, border broken"),
    Case("m8-0d-output", "8 outputs/modules", L.ScalarOutput, (1, 8, 8), TI, "shape",
         "a 0-d output: must be an error naming the shape", usage_ok=("shape",)),
    Case("m8-no-batch-axis-output", "8 outputs/modules", L.NoBatchAxisOutput, (2, 8, 8), TE, "shape",
         "the batch axis summed away", usage_ok=("shape",)),
    Case("m8-batch-pooled-output", "8 outputs/modules", L.BatchPooledOutput, (2, 8, 8), TI, "shape",
         "pooled over the batch: output (C,) whatever N is", usage_ok=("shape",)),
    Case("m8-flat-output-with-margin", "8 outputs/modules", L.GlobalAvg, (1, 8, 8), "translation-invariant[margin=1]",
         "holds", "a margin on a flat output: a usage error or a note", usage_ok=("margin", "claim")),
    Case("m8-lazy-conv-translation", "8 outputs/modules", L.lazy_circular_pool, (1, 8, 8), TI, "holds",
         "LazyConv2d: uninitialized parameters", judge="own"),
    Case("m8-lazy-conv-rot90", "8 outputs/modules", L.lazy_circular_pool, (1, 8, 8), "rot90-invariant", "violated",
         "LazyConv2d, a false claim", judge="own"),
    Case("m8-batch-one-only-holds", "8 outputs/modules", lambda: L.BatchOneOnly(1, 2, seed=30), (1, 8, 8), TE,
         "holds", "raises on batches > 1"),
    Case("m8-batch-one-only-violated", "8 outputs/modules", lambda: L.BatchOneOnlyZeroPad(1, 2, seed=31), (1, 8, 8),
         TE, "violated", "raises on batches > 1, zero padding"),
    Case("m8-usage-rot90-on-8x12", "8 outputs/modules", lambda: L.CircConv(1, 2), (1, 8, 12), "rot90-equivariant",
         "usage", "rot90 cannot act on a non-square input: a usage error", usage_ok=("input_shape", "claim")),
    Case("m8-usage-stride-3-on-16", "8 outputs/modules", lambda: L.CircConv(1, 2), (1, 16, 16),
         "translation-equivariant[stride=3]", "usage", "stride 3 does not divide 16: a usage error",
         usage_ok=("input_shape", "claim", "stride")),
    Case("m8-cli-factory-raises", "8 outputs/modules", L.circular_conv_factory, (1, 8, 8), TE, "holds",
         "a factory that raises: exit 2 with a message, no traceback", kind="cli",
         cli=(f"{LAYERS_FILE}:raising_factory", "--input-shape", "1,8,8", "--claim", TE), exit_ok=(2,)),
    Case("m8-cli-huge-seed", "8 outputs/modules", L.circular_conv_factory, (1, 8, 8), TE, "holds",
         "--seed 2**70: a verdict (exit 0) or a usage error naming --seed (exit 2), no traceback", kind="cli",
         cli=(f"{LAYERS_FILE}:circular_conv_factory", "--input-shape", "1,8,8", "--claim", TE, "--seed",
              str(2**70)), exit_ok=(0, 2)),
    Case("m8-cli-huge-seed-subprocess", "8 outputs/modules", L.zero_pad_conv_factory, (1, 8, 8), TE, "violated",
         "--seed 2**70 through `python -m`: exit 1 or 2, no traceback", kind="cli-subprocess",
         cli=(f"{LAYERS_FILE}:zero_pad_conv_factory", "--input-shape", "1,8,8", "--claim", TE, "--seed",
              str(2**70)), exit_ok=(1, 2)),
    Case("m8-cli-rot90-non-square", "8 outputs/modules", L.circular_conv_factory, (1, 8, 12), "rot90-equivariant",
         "usage", "rot90 on 8x12 from the CLI: exit 2", kind="cli",
         cli=(f"{LAYERS_FILE}:circular_conv_factory", "--input-shape", "1,8,12", "--claim", "rot90-equivariant"),
         exit_ok=(2,)),
    Case("m8-cli-0d-output", "8 outputs/modules", L.scalar_output_factory, (1, 8, 8), TI, "shape",
         "a 0-d output from the CLI: exit 1 (error verdict) or 2, no traceback", kind="cli",
         cli=(f"{LAYERS_FILE}:scalar_output_factory", "--input-shape", "1,8,8", "--claim", TI), exit_ok=(1, 2)),
    # ------------------------------------------------------------------ 9. state
    Case("m9-non-persistent-counter-buffer", "9 state", L.NonPersistentCounter, (1, 8, 8), TE, "holds",
         "a non-persistent buffer changed by forward is not in state_dict, so not restored"),
    Case("m9-non-persistent-running-mean", "9 state", L.NonPersistentRunningMean, (2, 8, 8), "rot90-invariant",
         "holds", "a non-persistent running mean updated in eval mode"),
    Case("m9-caches-filter-on-eval", "9 state", L.CachesFilterOnEval, (1, 8, 8), "rot90-equivariant", "holds",
         "train() overridden to cache a filter: flag restored by assignment leaves the buffer, no deepcopy"),
    Case("m9-e2cnn-r2conv-regular", "9 state", L.E2cnnRegular, (1, 9, 9), "rot90-equivariant[channels=regular]",
         "holds", "e2cnn R2Conv (C4, regular fields): caches its filter on eval()", requires="e2cnn"),
    Case("m9-e2cnn-r2conv-group-pool", "9 state", L.E2cnnGroupPool, (1, 9, 9), "rot90-equivariant", "holds",
         "e2cnn R2Conv + GroupPooling", requires="e2cnn"),
    Case("m9-e2cnn-invariant-8x8", "9 state", L.E2cnnInvariant, (1, 8, 8), "rot90-invariant", "holds",
         "e2cnn R2Conv + GroupPooling + global max", requires="e2cnn"),
    Case("m9-draws-from-global-rng", "9 state", L.DrawsFromGlobalRNG, (1, 8, 8), TE, "holds",
         "forward draws from torch's and Python's RNGs (discarded): both states must come back"),
    Case("m9-mixed-requires-grad-and-modes", "9 state", L.MixedRequiresGrad, (1, 8, 8), TE, "holds",
         "a frozen parameter and a child in eval mode under a training parent"),
    Case("m9-records-last-shape-attribute", "9 state", L.RecordsLastShape, (1, 8, 8), TE, "holds",
         "forward writes an attribute"),
    # ------------------------------------------------------------------ 10. shapes
    Case("m10-nhw-rows-zero-columns-circular", "10 shapes", L.RowsZeroColumnsCircular, (8, 8), TE, "violated",
         "an (N, H, W) layer given (8, 8): read as (C, L), only horizontal shifts are tried", layout="NHW",
         usage_ok=("input_shape",)),
    Case("m10-nhw-circular", "10 shapes", L.CircularNHW, (8, 8), TE, "holds",
         "an (N, H, W) layer that is translation-equivariant", layout="NHW", usage_ok=("input_shape",)),
    Case("m10-ncl-circular-conv1d", "10 shapes", L.CircularConv1d, (2, 16), TE, "holds",
         "a genuine (C, L) layer", layout="NCL", usage_ok=("input_shape",)),
    # ------------------------------------------------------------------ 11. registry
    Case("m11-refute-layer-raises-on-large-batches", "11 registry", lambda: L.RaisesOnLargeBatches(1, 2, seed=32),
         (1, 8, 8), TE, "holds", "refute() counts the layer's error as a counterexample", kind="refute"),
    Case("m11-refute-layer-raises-unless-batch-two", "11 registry", L.RaisesUnlessBatchTwo, (1, 8, 8),
         "rot90-equivariant", "holds", "same, rot90 (the C4 orbit batch is 8)", kind="refute"),
    Case("m11-refute-random-layer", "11 registry", lambda: L.Noisy(1e-2, 1, 2, seed=44), (1, 8, 8), TE, "random",
         "refute() counts 'non-deterministic' as a counterexample", kind="refute"),
    Case("control-refute-zero-pad-conv", "control", L.zero_pad_conv_factory, (1, 8, 8), TE, "violated",
         "refute finds a real counterexample", kind="refute"),
    Case("m11-registry-error-counts-as-agreement", "11 registry", lambda: L.RaisesOnLargeBatches(1, 2, seed=32),
         (1, 8, 8), TE, "holds",
         "a registry entry stating 'none' for a claim that holds: the layer's errors count as agreement",
         kind="registry-cli", exit_ok=(1,)),
    # ------------------------------------------------------------------ plain users' bugs, third-party layers
    Case("x-off-by-one-max-pool-assert-claims", "plain user", L.OffByOneMaxPool, (1, 8, 8),
         (TI, "rot90-invariant"), "violated", "x[..., 1:, :].amax(): the max almost never sits in row 0",
         kind="assert_claims"),
    Case("control-global-max-assert-claims", "control", L.GlobalMax, (2, 8, 8), (TI, "rot90-invariant"), "holds",
         "assert_claims passes a layer that keeps its claims", kind="assert_claims"),
    Case("x-off-by-one-max-pool-3x16x16", "plain user", L.OffByOneMaxPool, (3, 16, 16), TI, "violated",
         "same, 3x16x16"),
    Case("x-off-by-one-avg-pool", "plain user", L.OffByOneAvgPool, (1, 8, 8), TI, "violated",
         "x[..., 1:, :].mean()"),
    Case("x-corner-dropping-avg-pool-rot90", "plain user", L.CornerDroppingAvgPool, (2, 8, 8), "rot90-invariant",
         "violated", "x[..., :-1, :-1].mean()"),
    Case("x-even-only-max-pool-9x9", "plain user", L.EvenOnlyMaxPool, (1, 9, 9), TI, "violated",
         "max_pool2d(2) then max drops the last row/column on odd sizes; integer maxima hide it"),
    Case("x-even-only-avg-pool-9x9", "plain user", L.EvenOnlyAvgPool, (2, 9, 9), TI, "violated",
         "avg_pool2d(2) then mean on odd sizes"),
    Case("control-even-only-max-pool-8x8", "control", L.EvenOnlyMaxPool, (1, 8, 8), TI, "holds",
         "the same pooling on an even size"),
    Case("x-blurpool-rot90-9x9", "third party", lambda: L.blurpool(2, 3), (2, 9, 9), "rot90-equivariant", "holds",
         "antialiased_cnns.BlurPool (3-tap, reflect, stride 2) on an odd size", requires="antialiased_cnns"),
    Case("x-blurpool-rot90-8x8", "third party", lambda: L.blurpool(2, 3), (2, 8, 8), "rot90-equivariant",
         "violated", "same on an even size: stride-2 sampling is not centred", requires="antialiased_cnns"),
    Case("x-blurpool-stride2-reflect-8x8", "third party", lambda: L.blurpool(2, 3), (2, 8, 8),
         "translation-equivariant[stride=2]", "violated", "reflect padding breaks circular shifts",
         requires="antialiased_cnns"),
    Case("x-blurpool-flip-9x9", "third party", lambda: L.blurpool(1, 3), (1, 9, 9), "flip-equivariant", "holds",
         "3-tap BlurPool on an odd size", requires="antialiased_cnns"),
    Case("x-blurpool-4-tap-rot90-9x9", "third party", lambda: L.blurpool(2, 4), (2, 9, 9), "rot90-equivariant",
         "violated", "the default 4-tap filter: off-centre sampling on odd sizes", requires="antialiased_cnns"),
    Case("x-blurpool-4-tap-rot90-8x8", "third party", lambda: L.blurpool(2, 4), (2, 8, 8), "rot90-equivariant",
         "holds", "the 4-tap filter with its [1, 2] padding samples symmetrically on even sizes",
         requires="antialiased_cnns"),
]

BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"

# ----------------------------------------------------------------------------- round 2 (cases_round2.py)
from red_team.cases_round2 import ROUND2  # noqa: E402  (needs Case and the names above)

CASES.extend(ROUND2)
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"


# ----------------------------------------------------------------------------- round 3 (cases_round3.py)
from red_team.cases_round3 import ROUND3  # noqa: E402

CASES.extend(ROUND3)
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"


# ----------------------------------------------------------------------------- round 4 (cases_round4.py)
from red_team.cases_round4 import ROUND4  # noqa: E402

CASES.extend(ROUND4)
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"


# ----------------------------------------------------------------------------- round 5 (cases_round5.py)
from red_team.cases_round5 import ROUND5  # noqa: E402

CASES.extend(ROUND5)

from red_team.cases_round6 import ROUND6  # noqa: E402

CASES.extend(ROUND6)
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"

# ----------------------------------------------------------------------------- round 7 (cases_round7.py)
from red_team.cases_round7 import ROUND7  # noqa: E402

CASES.extend(ROUND7)
BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case ids"
