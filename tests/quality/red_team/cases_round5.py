"""Round 5 of the red team: cases that attack the linear certificate's proof on a batch of one, the precision
regime read from torch's flags, and ordinary user bugs (ids ``r5-…``).

Every attack has a control beside it.  The truth comes from the brute-force oracle.  The precision-regime cases
simulate CUDA on a CPU the way ``tests/cover/test_precision_regime.py`` does: the flags are torch's own (TF32
for cuDNN is on by default), and the orbit engine is asked for the regime of a CUDA device.
"""

from __future__ import annotations

import contextlib

import torch

from red_team import layers_round5 as R5
from red_team.cases import TE, TI, Case

BATCH = ("error",)  # a layer whose output depends on the rest of its batch: "error" is a right answer too


@contextlib.contextmanager
def _simulated_cuda_regime(ci):
    """The orbit engine sees the precision regime of a CUDA device with torch's current flags (cuDNN TF32 on,
    its default), while the layer runs where it is.  Only the device the regime is read for changes."""
    import importlib

    orbit = importlib.import_module(ci.__name__ + "._orbit")
    tolerance = importlib.import_module(ci.__name__ + "._tolerance")
    real = tolerance.precision_regime
    saved = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = True  # torch's default
    orbit.precision_regime = lambda dtype, device: real(dtype, torch.device("cuda"))
    try:
        yield
    finally:
        orbit.precision_regime = real
        torch.backends.cudnn.allow_tf32 = saved


def audit_on_simulated_cuda(ci, layer):
    """``ci.audit(layer, (1, 8, 8), [TE])`` with the regime the engine reads on CUDA (default flags)."""
    with _simulated_cuda_regime(ci):
        result = ci.audit(layer, (1, 8, 8), [TE]).results[0]
    return result.verdict, f"{result.verdict}: max error {result.max_error:.3g}, tolerance {result.tolerance:.3g}; " \
                           f"{result.message[:300]}"


ROUND5 = [
    # ================================================================== 1. the linear certificate's batch of one
    Case("r5-cert-batch-centred-zero-pad", "1 certificate: batch of one", R5.BatchCentredConv, (1, 8, 8), TE,
         "violated", "x − x.mean(0) is affine and 0 on a batch of one: the certificate proves commutation on one "
         "sample (the output is constant there) and certifies without any search; on a batch of several the "
         "zero padding breaks equivariance", kind="certificate", also_ok=BATCH),
    Case("r5-control-cert-batch-centred-circular", "control", lambda: R5.BatchCentredConv("circular"), (1, 8, 8),
         TE, "holds", "the batch centring before a circular conv: equivariant when the whole batch is shifted",
         kind="certificate"),
    Case("r5-cert-batch-mix-position", "1 certificate: batch of one", R5.BatchMixPosition, (1, 8, 8), TE,
         "violated", "a position-weighted sum of the other samples of the batch, P·(Σ_j x_j − x_i): zero on a "
         "batch of one, so the certificate certifies", kind="certificate", also_ok=BATCH),
    Case("r5-control-cert-batch-mix-uniform", "control", lambda: R5.BatchMixPosition(coupled=False), (1, 8, 8), TE,
         "holds", "the same context term with a uniform weight: equivariant", kind="certificate"),
    # ================================================================== 2. the precision regime (simulated CUDA)
    Case("r5-tf32-regime-float32-only-gain", "2 precision regime: TF32 without a conv",
         R5.Float32FastPathGain, (1, 8, 8), TE, "violated",
         "no conv, no matmul, yet on CUDA with cuDNN's default TF32 flag the bound uses u = 2⁻¹¹: a 1% float32-only "
         "gain lies inside it, the float64 twin (reference path) is accepted and calls it rounding",
         judge="own", kind="measure", measure=audit_on_simulated_cuda),
    Case("r5-control-tf32-regime-real-gain", "control", lambda: R5.Float32FastPathGain(everywhere=True), (1, 8, 8),
         TE, "violated", "the 1% gain in every dtype under the same simulated regime: the twin must catch it",
         judge="own", kind="measure", measure=audit_on_simulated_cuda),
    Case("r5-control-tf32-regime-no-gain", "control", lambda: R5.Float32FastPathGain(0.0), (1, 8, 8), TE, "holds",
         "the smoothing without the gain under the simulated regime", judge="own", kind="measure",
         measure=audit_on_simulated_cuda),
    Case("r5-control-cpu-float32-only-gain", "control", R5.Float32FastPathGain, (1, 8, 8), TE, "violated",
         "the float32-only gain on CPU: the probes reject the twin and the layer's own bound catches it",
         judge="own"),
    # ================================================================== 3. ordinary user bugs
    Case("r5-mean-over-one-axis", "3 user bugs / output rank", R5.MeanOverOneAxis, (2, 8, 8), TI, "violated",
         "a global pool written as x.mean(-1): the rows survive; the (N, C, H) output is refused as a usage error "
         "for an INVARIANT claim, which compares outputs element by element whatever their rank"),
    Case("r5-sorted-values-invariant", "3 output rank", R5.SortedValues, (2, 8, 8), TI, "holds",
         "a sorting pool (N, C, H·W): exactly invariant; refused as a usage error"),
    Case("r5-sorted-values-rot90-invariant", "3 output rank", R5.SortedValues, (2, 8, 8), "rot90-invariant",
         "holds", "the sorting pool under rot90-invariant"),
    Case("r5-control-mean-over-both-axes", "control", lambda: R5.MeanOverOneAxis(fixed=True), (2, 8, 8), TI,
         "holds", "the global mean over both axes"),
    Case("r5-transposed-output", "3 user bugs", R5.TransposedOutput, (1, 8, 8), TE, "violated",
         "the output's H and W exchanged on a square input"),
    Case("r5-control-not-transposed", "control", lambda: R5.TransposedOutput(fixed=True), (1, 8, 8), TE, "holds",
         "the circular conv as it should be returned"),
    Case("r5-symmetrised-wrong-flip-axis", "3 user bugs", R5.SymmetrisedWrongAxis, (1, 8, 8), "flip-invariant",
         "violated", "symmetrised over the vertical flip only, claimed flip-invariant"),
    Case("r5-control-symmetrised-every-flip", "control", lambda: R5.SymmetrisedWrongAxis(both=True), (1, 8, 8),
         "flip-invariant", "holds", "symmetrised over the whole flip group"),
    Case("r5-even-kernel-half-padding", "3 user bugs", R5.EvenKernelHalfPadding, (1, 8, 8), TE, "violated",
         "a 4×4 kernel padded by k//2: a 9×9 output for an 8×8 input"),
    Case("r5-control-odd-kernel-half-padding", "control", lambda: R5.EvenKernelHalfPadding(3), (1, 8, 8), TE,
         "holds", "a 3×3 kernel padded by k//2"),
    Case("r5-ceil-mode-pool-rot90-9x9", "3 user bugs", R5.CeilModePool, (1, 9, 9), "rot90-equivariant", "violated",
         "max_pool2d(2, ceil_mode=True) on 9×9: the partial windows sit on one side"),
    Case("r5-control-ceil-mode-pool-rot90-8x8", "control", R5.CeilModePool, (1, 8, 8), "rot90-equivariant", "holds",
         "the same pool on 8×8: no partial windows"),
    Case("r5-size-guard-scale-invariant", "3 user bugs / claim scope", R5.SizeGuardGlobalMax, (1, 8, 8),
         "scale-invariant", "holds", "a global max with a minimum-size guard: the engine's upscaling from smaller "
         "inputs hits the guard, which must not turn a true claim into 'error'"),
]
