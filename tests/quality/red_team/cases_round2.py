"""Round 2 of the red team: cases that attack the engine's NEW mechanisms (ids ``r2-…``).

Round 1 (``cases.py``) built the cases the rewrite now answers right.  These attack what the rewrite
added: the input portfolio and its batch-size cycle, sampled orbits, the anchor that validates batching,
the twin's validation by float16/bfloat16 probes, the input-magnitude floor and per-slice noise of the
tolerance, the pristine-copy check for state, the search inside a user's Hypothesis test, the claim
options (border, stride, margin, regular channels, layouts, ``assume=``), the graph analysis of the
linear certificate, the in-place restoration of modules that cannot be copied, the CLI and the printed
reproductions.

The truth still comes from the brute-force oracle (``oracle.py``, extended for round 2 with more domains,
batch sizes per case, zero-fill borders, scale factor 4, continuous rotations, preconditions and hidden
state); ``Case.domains`` / ``Case.batches`` say which extra inputs a case needs the oracle to try.
"""

from __future__ import annotations

import torch

from red_team import layers as L
from red_team import layers_round2 as R
from red_team.cases import TE, TI, ZI, Case

LAYERS2_FILE = "tests/quality/red_team/layers_round2.py"
REG = "rot90-equivariant[channels=regular]"


def _nonnegative(x):
    return bool((x >= 0).all())


def _large_nonnegative(x):
    """A precondition no input of the engine's portfolio meets: non-negative with a value above 100."""
    return bool((x >= 0).all() and x.max() > 100)


# ----------------------------------------------------------------------------- checks the snapshot cannot make


def _hook_is_the_users(layer):
    hooks = list(layer._forward_hooks.values())
    if not any(h is layer._user_hook for h in hooks):
        return [f"forward hook: the module now calls {[type(h).__name__ for h in hooks]} objects that are copies, "
                f"not the user's hook object (which it no longer calls)"]
    return []


def _helper_is_the_users(layer):
    if layer.helper is not layer._user_helper:
        return ["attribute helper: replaced by a deep copy of the user's shared module (sharing/tying broken)"]
    return []


def _generator_is_the_users(layer):
    problems = []
    if layer.generator is not layer._user_generator:
        problems.append("attribute generator: replaced by a copy of the user's torch.Generator")
    if not torch.equal(layer._user_generator.get_state(), layer._user_generator_state):
        problems.append("the user's torch.Generator was advanced by the audit (its state did not come back)")
    return problems


ROUND2 = [
    # ================================================================== 1. search coverage: domains
    Case("r2-negative-images-branch", "1 search coverage", lambda: R.NegativeImageBranch(1, 2, seed=1), (1, 8, 8),
         TE, "violated", "zero padding on all-negative images with contrast: the portfolio's only all-negative "
         "inputs are (near-)constant", domains=("negative",)),
    Case("r2-checkerboard-branch", "1 search coverage", lambda: R.CheckerboardBranch(1, 2, seed=2), (1, 8, 8), TE,
         "violated", "zero padding when the energy sits at Nyquist: no high-frequency domain",
         domains=("checkerboard",)),
    Case("r2-narrow-band-branch", "1 search coverage", lambda: R.NarrowBandBranch(1, 2, seed=3), (1, 8, 8), TE,
         "violated", "zero padding when every |x| is in (0.4, 0.6): no domain draws a narrow band",
         domains=("band",)),
    Case("r2-half-integer-dither", "1 search coverage", lambda: R.DitheredQuantiser(1, 2, seed=4), (1, 8, 8), TE,
         "violated", "round(x + 1e-6·dither): ties broken by position, only on exact half-integers",
         domains=("half-integers",)),
    Case("r2-single-hot-pixel", "1 search coverage", lambda: R.SingleHotPixel(1, 2, seed=5), (1, 8, 8), TE,
         "violated", "a defect on delta images: the sparse domain always draws three values", domains=("hot-pixel",)),
    Case("r2-tiny-inputs-1e-8", "1 search coverage", lambda: R.TinyInputBranch(1, 2, seed=6), (1, 8, 8), TE,
         "violated", "zero padding below max|x| = 1e-6: the smallest portfolio scale is 1e-3", domains=("tiny",)),
    Case("r2-mixed-channel-scales", "1 search coverage", lambda: R.MixedChannelScales(2, 2, seed=7), (2, 8, 8), TE,
         "violated", "zero padding when the channels differ in scale by 1e3: every domain draws one scale",
         domains=("mixed-scale",)),
    Case("r2-two-conditions-large-nonnegative", "1 search coverage", lambda: R.LargeNonNegativeBranch(1, 2, seed=8),
         (1, 8, 8), TE, "violated", "non-negative AND > 100: the portfolio's large inputs have mixed signs",
         domains=("large-nonneg",)),
    Case("r2-two-conditions-sparse-fractional", "1 search coverage",
         lambda: R.SparseFractionalBranch(1, 2, seed=9), (1, 8, 8), TE, "violated",
         "sparse AND non-integer: the portfolio's sparse inputs are integer multiples"),
    Case("r2-far-shift-argmax-32x32", "1 search coverage / sampled orbits", R.FarCornerArgmaxPool, (1, 32, 32), TI,
         "violated", "one far shift per sample, on non-negative inputs above 5: after the first two inputs only "
         "64 of 1 024 shifts are sampled", domains=("nonneg-wide",)),
    Case("r2-far-zero-fill-corner-32x32", "1 search coverage / sampled orbits", R.FarZeroFillCorner, (1, 32, 32), ZI,
         "violated", "2 of 3 969 zero-fill shifts (±31, ±31), on values above 5: sampled orbits miss them",
         domains=("nonneg-wide",)),
    Case("r2-control-circconv-every-new-domain", "control", lambda: L.CircConv(2, 2, seed=10), (2, 8, 8), TE,
         "holds", "a circular conv keeps its claim on every round-2 domain",
         domains=("negative", "checkerboard", "band", "half-integers", "hot-pixel", "tiny", "mixed-scale",
                  "nonneg-wide", "large-nonneg")),
    # ------------------------------------------------------------------ 1/5. batch sizes outside the cycle
    Case("r2-batch-4-zero-pad", "1/5 batch sizes", lambda: R.ZeroPadAtBatchFour(1, 2, seed=11), (1, 8, 8), TE,
         "violated", "zero padding at batch 4: not in the cycle (1, 2, 3, 5, 8, 17), and the anchor sends "
         "coupled chunks back to the input's own batch size", batches=(1, 3, 4, 8)),
    Case("r2-batch-6-or-7-zero-pad", "1/5 batch sizes", lambda: R.ZeroPadAtBatchSixOrSeven(1, 2, seed=12),
         (1, 8, 8), TE, "violated", "zero padding at batches 6 and 7", batches=(1, 3, 6, 7, 8)),
    Case("r2-batch-above-17-zero-pad", "1/5 batch sizes", lambda: R.ZeroPadAboveSeventeen(1, 2, seed=13), (1, 8, 8),
         TE, "violated", "zero padding above 17 samples: chunks that large fail the anchor and are redone at the "
         "input's batch size", batches=(1, 3, 8, 20)),
    # ================================================================== 5. determinism and batches
    Case("r2-noise-above-17", "5 determinism", lambda: R.NoisyAboveSeventeen(1, 2, seed=14), (1, 8, 8), TE, "random",
         "1e-2 noise on batches above 17: read as batch coupling, never as randomness", batches=(1, 3, 8, 20)),
    Case("r2-noise-on-negative-inputs", "5 determinism", lambda: R.NoisyOnNegativeInputs(1, 2, seed=15), (1, 8, 8),
         TE, "random", "noise on all-negative images only", domains=("negative",)),
    Case("r2-looks-ahead-coupling", "5 determinism / anchor", lambda: R.LooksAhead(1, 2, seed=16), (1, 8, 8), TE,
         "holds", "y_i += 0.5·conv(x_{i+1}): equivariant for whole batches; the anchor, last in its chunk, couples "
         "with nothing and passes, the other rows look violated (even at the identity)"),
    Case("r2-centres-first-half", "5 determinism / anchor", R.CentresOnFirstHalf, (1, 8, 8), TE, "holds",
         "the first half of the batch is centred on its own mean: equivariant for whole batches; the anchor sits in "
         "the second half"),
    Case("r2-control-centred-above-40", "control", R.BatchCentredAboveForty, (1, 8, 8), TE, "holds",
         "batch centring above 40 samples touches the anchor too: the engine must fall back, not fail",
         batches=(1, 3, 8, 48)),
    # ================================================================== 2. the twin and its probes
    Case("r2-dtype-float32-branch-half-underflow", "2 twin/probes", lambda: R.UnderflowsInHalf(1e-2, "float32"),
         (1, 8, 8), TE, "violated", "a float32-only δ-path; (x·2^-40)·2^40 makes the float16 probe lose everything, "
         "so the float64 twin (no δ) is accepted as the same function and arbitrates", judge="own"),
    Case("r2-dtype-not-float64-branch-half-underflow", "2 twin/probes",
         lambda: R.UnderflowsInHalf(1e-2, "not-float64"), (1, 8, 8), TE, "violated",
         "the same with `dtype != float64` (the probes take the δ-path too)", judge="own"),
    Case("r2-dtype-weight-branch-half-underflow", "2 twin/probes", lambda: R.UnderflowsInHalf(1e-2, "weight"),
         (1, 8, 8), TE, "violated", "the same, branching on the parameter's dtype", judge="own"),
    Case("r2-control-half-underflow-no-branch", "control", lambda: R.UnderflowsInHalf(0.0), (1, 8, 8), TE, "holds",
         "the underflow round trip alone: holds"),
    Case("r2-dtype-branch-plain", "2 twin/probes", lambda: R.DtypeBranchPlain(1e-3), (1, 8, 8), TE, "violated",
         "a float32-only δ-path without the trick: the probes must reject the twin", judge="own"),
    Case("r2-float64-only-defect", "2 twin/probes", R.Float64OnlyDefect, (1, 8, 8), TE, "holds",
         "the defect lives in the float64 path only: the layer's own zero error must not be overruled",
         judge="own"),
    Case("r2-complex-filter-bank", "2 twin/probes", R.ComplexFilterBank, (1, 8, 8), TE, "holds",
         "an FFT filter bank with a complex parameter"),
    Case("r2-complex-ramp-bug", "2 twin/probes", R.ComplexPhaseBug, (1, 8, 8), TE, "violated",
         "the same with a 2e-3 position-dependent gain through a complex buffer"),
    Case("r2-twin-computes-in-float32-mean", "2 twin/probes", R.Float32MeanPool, (3, 16, 16), "rot90-invariant",
         "holds", "x.float().mean().type_as(x): the float64 twin rounds exactly as the layer (it computes in float32 "
         "too), so float32 rounding 'does not shrink with precision' and is called a violation", judge="own"),
    Case("r2-twin-computes-in-float32-rmsnorm", "2 twin/probes", R.Float32RMSNorm, (1, 16, 16), TE, "holds",
         "an RMS norm computed in float32 whatever the input dtype (mixed-precision-safe code): the same",
         judge="own"),
    Case("r2-control-float32-only-kernel", "control", R.Float32OnlyCircular, (1, 16, 16), TE, "holds",
         "a float32-only kernel (the float64 twin raises) that keeps its claim", judge="own"),
    # ================================================================== 3. per-element rules
    Case("r2-float32-only-gain-under-input-floor", "3 tolerance floor", R.Float32OnlyTinyGain, (1, 16, 16), TE,
         "violated", "no twin (float32-only kernel), 1e-4·conv with a 0.3% position-dependent gain: the bound is "
         "floored at the input's magnitude, 1e4 times the output's", judge="own"),
    Case("r2-flat-loud-feature-hides-quiet", "3 per-element noise", R.LoudFeatureQuietDefect, (1, 8, 8), TI,
         "violated", "flat output: the arbiter's noise is the max over ALL features, so a loud feature's float32 "
         "noise sets the threshold of a quiet feature with a 1e-3 defect"),
    Case("r2-control-loud-channel-quiet-channel", "control", R.LoudChannelQuietDefect, (1, 8, 8), TE, "violated",
         "the same two maps as channels of a spatial output: per-channel noise, caught"),
    Case("r2-float64-layer-amplifier", "3 per-element noise", R.Float64Amplified, (1, 8, 8), TE, "violated",
         "a float64 layer through a 1e9 offset with a 3e-5 defect: the float32 amplifier loses everything",
         judge="own"),
    # ================================================================== 4. state
    Case("r2-cache-keyed-by-sum", "4 state", R.CacheBySum, (1, 8, 8), TE, "stateful",
         "memoised by (shape, sum): a shifted input at the same batch size gets the stale output"),
    Case("r2-memo-by-exact-input-batch-centred", "4 state", R.MemoisedBatchCentred, (1, 8, 8), TE, "stateful",
         "a per-sample memo keyed by exact input equality over a batch-coupled layer: the anchor is always "
         "memoised, so batching looks valid"),
    Case("r2-class-attribute-warm-up", "4 state", R.warms_up_in_class_attribute, (1, 8, 8), TE, "stateful",
         "auto-tuner state in a class attribute, shared by the pristine copy"),
    Case("r2-module-global-call-window", "4 state", R.global_call_window, (1, 8, 8), TE, "stateful",
         "calls 30-89 (module-global count) take a wrong path, then it recovers by itself"),
    Case("r2-class-attribute-first-call-ever", "4 state", R.first_call_ever_wrong, (1, 8, 8), TE, "random",
         "the first call of any instance is wrong (a class-level 'compiled' flag): the audit's first call is its "
         "shape probe, whose output it throws away, and the pristine copy shares the flag"),
    Case("r2-rng-seeded-by-call-count", "4 state", R.SeededByCallCount, (1, 8, 8), TE, "random",
         "noise from a generator seeded by the call count: a fresh copy replays the same sequence"),
    Case("r2-remembers-large-inputs", "4 state", R.RemembersLargeInputs, (1, 8, 8), TE, "random",
         "state that only matters for |x| > 100, never for the pristine check's Gaussian probe"),
    Case("r2-autotunes-after-two-calls", "4 state", R.AutotunesAfterTwoCalls, (1, 8, 8), TE, "stateful",
         "a wrong kernel from the third call in a row at one batch size; another batch size resets it"),
    # ================================================================== 6. Hypothesis nesting
    Case("r2-given-audit-holds", "6 hypothesis nesting", lambda: L.CircConv(1, 2, seed=17), (1, 8, 8), TE, "holds",
         "audit inside a user's @given", kind="given-audit"),
    Case("r2-given-audit-violated", "6 hypothesis nesting", L.OffByOneMaxPool, (1, 8, 8), TI, "violated",
         "audit inside a user's @given must still find the violation", kind="given-audit"),
    Case("r2-given-audit-certified", "6 hypothesis nesting", R.integer_circular_conv, (1, 8, 8), TE, "holds",
         "the certificate path inside @given", kind="given-audit"),
    Case("r2-given-assert-holds", "6 hypothesis nesting", L.GlobalMax, (2, 8, 8), (TI, "rot90-invariant"), "holds",
         "assert_claims inside @given returns", kind="given-assert"),
    Case("r2-given-assert-needs-search", "6 hypothesis nesting", lambda: L.ClampAbove(3.5), (1, 8, 8), (TE,),
         "violated", "a violation only non-integer/large inputs show, inside @given (seeded search)",
         kind="given-assert"),
    # ================================================================== 7. claims
    Case("r2-zero-fill-border-2-holds", "7 claims", R.ZeroPadConvSum5, (1, 10, 10),
         "translation-invariant[boundary=zero,border=2]", "holds", "5x5 zero-padded conv + sum, content ≥ 2 inside"),
    Case("r2-zero-fill-border-1-violated", "7 claims", R.ZeroPadConvSum5, (1, 10, 10),
         "translation-invariant[boundary=zero,border=1]", "violated", "the same with border 1: taps fall outside"),
    Case("r2-zero-fill-equivariant-border-1", "7 claims", R.ZeroPadConv3, (1, 10, 10),
         "translation-equivariant[boundary=zero,border=1]", "holds", "3x3 zero-padded conv, content ≥ 1 inside"),
    Case("r2-zero-fill-equivariant-no-border", "7 claims", R.ZeroPadConv3, (1, 10, 10),
         "translation-equivariant[boundary=zero]", "violated", "the same without a border: outputs pushed off"),
    Case("r2-scale-factor-4", "7 claims", R.QuadBlockDetector, (1, 8, 8), "scale-invariant", "violated",
         "invariant to upscaling by 2 and 3, not 4"),
    Case("r2-rotation-first-violation-decides", "7 claims", R.OffsetCornerPixel, (1, 16, 16), "rotation-invariant",
         "violated", "100 + x[1, 1]: the first input (small integers) errs by a few percent, so the verdict is "
         "'approximate'; Gaussian 1e3 inputs err by far more than 10%"),
    Case("r2-rotation-top-rows", "7 claims", R.TopRowEnergy, (1, 16, 16), "rotation-invariant", "violated",
         "energy of the top rows: far from rotation-invariant"),
    Case("r2-regular-lifting-field-major", "7 claims", R.LiftingConv, (1, 8, 8), REG, "holds",
         "a C4 lifting conv, fields laid out field by field"),
    Case("r2-regular-lifting-orientation-major", "7 claims", lambda: R.LiftingConv(order="orientation"), (1, 8, 8),
         REG, "violated", "orientation-major channels are not the regular representation"),
    Case("r2-regular-lifting-reversed", "7 claims", lambda: R.LiftingConv(reverse=True), (1, 8, 8), REG, "violated",
         "orientations in the other sense"),
    Case("r2-layout-hw-rows-zero", "7 claims / layout", R.RowsCircularColumnsZero, (8, 8), TE, "violated",
         "(N, H, W) layer, layout HW: zero padding along H", layout="NHW", engine_layout="HW"),
    Case("r2-layout-hw-circular", "7 claims / layout", R.HWCircular, (8, 8), TE, "holds",
         "(N, H, W) circular conv, layout HW", layout="NHW", engine_layout="HW"),
    Case("r2-layout-hw-to-channels", "7 claims / layout", R.HWToChannels, (8, 8), TE, "holds",
         "(N, H, W) -> (N, 3, H, W), layout HW", layout="NHW", engine_layout="HW"),
    Case("r2-layout-cl-zero-fill-border-1", "7 claims / layout", R.Conv1dZeroPad, (2, 16),
         "translation-equivariant[boundary=zero,border=1]", "holds", "1-D zero-padded conv, layout CL, border 1",
         layout="NCL", engine_layout="CL"),
    Case("r2-layout-cl-last-sample-bug", "7 claims / layout", R.Conv1dLastTapBug, (2, 16), TE, "violated",
         "1-D circular conv plus the last sample, layout CL", layout="NCL", engine_layout="CL"),
    Case("r2-stride-2-circular-odd-offset", "7 claims", R.StridedCircular, (1, 8, 8),
         "translation-equivariant[stride=2]", "holds", "stride-2 circular conv sampling odd positions"),
    Case("r2-stride-2-zero-pad", "7 claims", R.StridedZeroPad, (1, 8, 8), "translation-equivariant[stride=2]",
         "violated", "stride-2 zero-padded conv"),
    Case("r2-stride-2-zero-pad-margin-1", "7 claims", R.StridedZeroPad, (1, 8, 8),
         "translation-equivariant[stride=2,margin=1]", "holds", "the same on the interior of the strided output"),
    Case("r2-assume-nonnegative-exact", "7 claims / assume", R.ClampedForNonNegative, (1, 8, 8), TE, "holds",
         "exact for x ≥ 0 only, with assume=x ≥ 0", assume=_nonnegative),
    Case("r2-assume-absent", "7 claims / assume", R.ClampedForNonNegative, (1, 8, 8), TE, "violated",
         "the same layer without the assumption"),
    Case("r2-assume-nonnegative-still-violated", "7 claims / assume", lambda: R.NonNegativeAboveThreshold(1, 2, seed=18),
         (1, 8, 8), TE, "violated", "violated under the stated assumption too", assume=_nonnegative),
    Case("r2-assume-excludes-the-portfolio", "7 claims / assume", lambda: R.LargeNonNegativeBranch(1, 2, seed=19),
         (1, 8, 8), TE, "violated", "assume x ≥ 0 and max > 100: no portfolio input meets it; violated under it",
         assume=_large_nonnegative, domains=("large-nonneg",)),
    # ================================================================== 8. the linear certificate
    Case("r2-cert-floor-division", "8 certificate", R.FloorDivisionResidual, (1, 8, 8), TE, "violated",
         "torch.div(x, 1, rounding_mode='floor') passes as affine (constant divisor)", kind="certificate"),
    Case("r2-cert-integer-sum-dtype", "8 certificate", R.IntegerSumResidual, (1, 8, 8), TE, "violated",
         "x.sum(dtype=torch.int64) passes as affine (sum)", kind="certificate"),
    Case("r2-cert-forward-hook-root", "8 certificate", R.hooked_circular_conv, (1, 8, 8), TE, "violated",
         "torch.fx traces forward, not hooks", kind="certificate"),
    Case("r2-cert-forward-hook-in-sequential", "8 certificate", R.hooked_inside_sequential, (1, 8, 8), TE,
         "violated", "a hooked leaf Conv2d inside Sequential", kind="certificate"),
    Case("r2-cert-call-override", "8 certificate", R.CallOverride, (1, 8, 8), TE, "violated",
         "the root's __call__ differs from the forward that fx traces", kind="certificate"),
    Case("r2-cert-patched-instance-forward", "8 certificate", R.patched_forward_conv, (1, 8, 8), TE, "violated",
         "an nn.Conv2d whose forward is replaced on the instance: the leaf's type is trusted", kind="certificate"),
    Case("r2-cert-buffer-updated-in-forward", "8 certificate", R.CountsCallsInBuffer, (1, 8, 8), TE, "random",
         "self.calls.add_(1) on a buffer: not input-dependent, so the graph check lets it through; the layer "
         "changes after its 20th call, the certificate makes 9", kind="certificate"),
    Case("r2-cert-batch-statistics-norm", "8 certificate", R.batch_statistics_norm, (1, 8, 8), TE, "holds",
         "BatchNorm2d without running stats is not affine, but the claim holds", kind="certificate"),
    Case("r2-cert-integer-weights-fractional-buffer", "8 certificate", R.IntegerWeightsFractionalBuffer, (1, 8, 8),
         TE, "violated", "integer weights, a 0.3 buffer, zero padding", kind="certificate"),
    Case("r2-cert-affine-position-bias", "8 certificate", R.AffinePositionBias, (1, 8, 8), TE, "violated",
         "an integer bias map: affine, f(0) not shift-invariant", kind="certificate"),
    # ================================================================== 9. state restoration (audited in place)
    Case("r2-inplace-weight-cast-to-half", "9 restoration", R.CastsWeightToHalfOnce, (1, 8, 8), TE, "holds",
         "weight.data = weight.data.half() on the first call, audited in place", judge="own"),
    Case("r2-inplace-weight-normalised-through-data", "9 restoration", R.NormalisesWeightOnce, (1, 8, 8), TE, "holds",
         "weight.data = weight.data / norm on the first call, audited in place", judge="own"),
    Case("r2-inplace-hook-object-identity", "9 restoration", R.hooked_uncopyable, (1, 8, 8), TE, "holds",
         "a user's forward-hook object must still be the one called", check=_hook_is_the_users,
         judge="own"),
    Case("r2-inplace-shared-helper-identity", "9 restoration", R.shared_helper_uncopyable, (1, 8, 8), TE, "holds",
         "an unregistered shared module must still be the same object", check=_helper_is_the_users,
         judge="own"),
    Case("r2-inplace-own-generator", "9 restoration", R.own_generator_uncopyable, (1, 8, 8), TE, "holds",
         "the module's own torch.Generator must come back (same object, same state)",
         check=_generator_is_the_users, judge="own"),
    Case("r2-inplace-no-twin-gain-under-floor", "9 restoration / 3 floor", R.UncopyableTinyGain, (1, 16, 16), TE,
         "violated", "not copyable: no twin, no pristine copy; 1e-4·conv with a 0.3% gain error under the "
         "input-floored bound", judge="own"),
    # ================================================================== 10. CLI and reproductions
    Case("r2-cli-json-is-a-directory", "10 CLI", R.circular_factory, (1, 8, 8), TE, "holds",
         "--json naming a directory: exit 2 with a message, no traceback", kind="cli",
         cli=(f"{LAYERS2_FILE}:circular_factory", "--input-shape", "1,8,8", "--claim", TE, "--json", "{dir}"),
         exit_ok=(2,)),
    Case("r2-cli-markdown-is-a-directory", "10 CLI", R.circular_factory, (1, 8, 8), TE, "holds",
         "--markdown naming a directory", kind="cli",
         cli=(f"{LAYERS2_FILE}:circular_factory", "--input-shape", "1,8,8", "--claim", TE, "--markdown", "{dir}"),
         exit_ok=(2,)),
    Case("r2-cli-unknown-device", "10 CLI", R.circular_factory, (1, 8, 8), TE, "holds",
         "--device foo: a usage error", kind="cli",
         cli=(f"{LAYERS2_FILE}:circular_factory", "--input-shape", "1,8,8", "--claim", TE, "--device", "foo"),
         exit_ok=(2,)),
    Case("r2-cli-meta-device", "10 CLI", R.circular_factory, (1, 8, 8), TE, "holds",
         "--device meta: a message (usage error or error verdict), no traceback", kind="cli",
         cli=(f"{LAYERS2_FILE}:circular_factory", "--input-shape", "1,8,8", "--claim", TE, "--device", "meta"),
         exit_ok=(1, 2)),
    Case("r2-cli-layout-hw-violated", "10 CLI", R.hw_rows_zero_factory, (8, 8), TE, "violated",
         "--layout HW from the CLI: exit 1", kind="cli", layout="NHW",
         cli=(f"{LAYERS2_FILE}:hw_rows_zero_factory", "--input-shape", "8,8", "--layout", "HW", "--claim", TE),
         exit_ok=(1,)),
    Case("r2-reproduce-layout-hw", "10 reproduction", R.RowsCircularColumnsZero, (8, 8), TE, "violated",
         "the printed reproduction gives an (N, H, W) layer an (N, 1, H, W) input", kind="reproduce",
         layout="NHW", engine_layout="HW"),
    Case("r2-reproduce-scale-factor-4", "10 reproduction", R.QuadBlockDetector, (1, 8, 8), "scale-invariant",
         "violated", "check_claim runs a claim's first check only (upscale by 2): the printed reproduction of a "
         "factor-4 violation shows none", kind="reproduce"),
    Case("r2-reproduce-scale-factor-3", "10 reproduction", L.DoublingCanonicalPool, (1, 8, 8), "scale-invariant",
         "violated", "the same for round 1's factor-3 layer", kind="reproduce"),
    Case("r2-reproduce-dense-counterexample-8x8", "10 reproduction", lambda: L.SmoothInputBranch(1, 2, seed=10),
         (1, 8, 8), TE, "violated", "a violation that needs a dense (smooth) input cannot shrink below 12 values: "
         "the reproduction prints a placeholder '<the 36-value input from the JSON report>'", kind="reproduce"),
    Case("r2-reproduce-dense-counterexample-16x16", "10 reproduction", lambda: L.SmoothInputBranch(1, 2, seed=10),
         (1, 16, 16), TE, "violated", "the same at 16x16: 68 values, and the JSON report carries no input at all "
         "(over 64 values), so nothing can reproduce it", kind="reproduce"),
    Case("r2-reproduce-zero-fill-border", "10 reproduction", R.ZeroPadConvSum5, (1, 10, 10),
         "translation-invariant[boundary=zero,border=1]", "violated", "a zero-fill reproduction runs and fails",
         kind="reproduce"),
    Case("r2-reproduce-stride-2", "10 reproduction", R.StridedZeroPad, (1, 8, 8), "translation-equivariant[stride=2]",
         "violated", "a strided reproduction runs and fails", kind="reproduce"),
]
