"""Round 7 of the red team: the execution contexts, the copy check and the whole-batch domains that round 6's
answer added (ids ``r7-…``).

Every attack has a control beside it.  The truth comes from the brute-force oracle, extended this round in
general ways, all off by default: the domains ``signed-unit`` (images in [-1, 1]), ``imagenet`` (images
normalised by the ImageNet mean and std) and ``repeated`` (one sample repeated through the batch)
(``oracle.EXTRA_DOMAINS``); inputs that require grad (``Case.input_requires_grad``) and deterministic
algorithms switched on (``Case.deterministic``) while the layer is called.
"""

from __future__ import annotations

import torch

from red_team import layers_round7 as R7
from red_team.cases import TE, Case

BATCH = ("error",)  # a layer whose output depends on the rest of its batch: "error" is a right answer too
CL = torch.channels_last

ROUND7 = [
    # ================================================================== 1. execution contexts
    Case("r7-no-grad-branch-large-values", "1 contexts: probes agree", R7.NoGradLargeValues, (1, 8, 8), TE,
         "violated", "a zero-padded path under no_grad for samples with |x| > 8: the context probes (small "
         "integers, Gaussians) never wake it, so no_grad is never searched"),
    Case("r7-control-no-grad-branch-large-values", "control", lambda: R7.NoGradLargeValues(bug=False), (1, 8, 8),
         TE, "holds", "both paths circular"),
    Case("r7-grad-branch-batch-4", "1 contexts: probes agree", R7.GradLargeBatch, (1, 8, 8), TE, "violated",
         "a zero-padded path with autograd on for batches ≥ 4: the context probes have batches of 1 and 3",
         grad_enabled=True, also_ok=BATCH),
    Case("r7-control-grad-branch-batch-4", "control", lambda: R7.GradLargeBatch(bug=False), (1, 8, 8), TE,
         "holds", "both paths circular, judged with autograd on", grad_enabled=True),
    Case("r7-grad-and-channels-last", "1 contexts: combined", R7.GradAndChannelsLast, (2, 8, 8), TE, "violated",
         "zero padding only with autograd on AND channels_last inputs (training a channels_last model): each "
         "context is probed alone", grad_enabled=True, memory_format=CL),
    Case("r7-control-grad-and-channels-last", "control", lambda: R7.GradAndChannelsLast(bug=False), (2, 8, 8), TE,
         "holds", "both paths circular, judged with autograd on and channels_last inputs", grad_enabled=True,
         memory_format=CL),
    Case("r7-input-requires-grad", "1 contexts: not covered", R7.InputRequiresGrad, (1, 8, 8), TE, "violated",
         "zero padding when the input requires grad (saliency maps, attacks): the 'grad' context's inputs do not",
         input_requires_grad=True),
    Case("r7-control-input-requires-grad", "control", lambda: R7.InputRequiresGrad(bug=False), (1, 8, 8), TE,
         "holds", "both paths circular, judged on inputs that require grad", input_requires_grad=True),
    Case("r7-no-grad-drift-below-agreement", "1 contexts: below 1e-3", R7.NoGradDrift, (1, 8, 8), TE, "violated",
         "under no_grad a position term of 9e-4·max|x|: inside the contexts' 1e-3 agreement, far above rounding"),
    Case("r7-control-no-grad-drift", "control", lambda: R7.NoGradDrift(bug=False), (1, 8, 8), TE, "holds",
         "no position term"),
    Case("r7-deterministic-algorithms-branch", "1 contexts: not covered", R7.DeterministicBranch, (1, 8, 8), TE,
         "violated", "zero padding when torch.use_deterministic_algorithms(True) is on", deterministic=True),
    Case("r7-control-deterministic-algorithms-branch", "control", lambda: R7.DeterministicBranch(bug=False),
         (1, 8, 8), TE, "holds", "both paths circular, judged with deterministic algorithms on", deterministic=True),
    Case("r7-no-grad-quiet-channel", "1 contexts: one global maximum", R7.NoGradQuietChannel, (1, 8, 8), TE,
         "violated", "a quiet channel zero-padded under no_grad beside a loud (1e5·Σ|x|) invariant channel: the "
         "contexts' agreement is measured against the whole output's maximum"),
    Case("r7-control-no-grad-quiet-channel", "control", lambda: R7.NoGradQuietChannel(bug=False), (1, 8, 8), TE,
         "holds", "the quiet channel circular in every grad mode"),
    # ================================================================== 2. the copy check
    Case("r7-instance-kernel-for-batches", "2 copy check: batch of one", R7.FusedForBatches, (1, 8, 8), TE,
         "violated", "an instance-keyed zero-padded kernel for batches ≥ 2: the copy check compares one sample",
         judge="own", also_ok=BATCH),
    Case("r7-control-instance-kernel-for-batches", "control", lambda: R7.FusedForBatches(bug=False), (1, 8, 8), TE,
         "holds", "the instance's kernel pads circularly too", judge="own"),
    Case("r7-instance-kernel-for-large-values", "2 copy check: probe values", R7.FusedForLargeValues, (1, 8, 8),
         TE, "violated", "an instance-keyed zero-padded kernel for samples with |x| > 8: the copy check's probes "
         "stay below", judge="own"),
    Case("r7-control-instance-kernel-for-large-values", "control", lambda: R7.FusedForLargeValues(bug=False),
         (1, 8, 8), TE, "holds", "the instance's kernel pads circularly too", judge="own"),
    Case("r7-instance-kernel-under-autograd", "2 copy check × contexts", R7.FusedUnderAutograd, (1, 8, 8), TE,
         "violated", "an instance-keyed zero-padded kernel with autograd on: the copy check runs under no_grad, the "
         "grad context runs the copy", judge="own", grad_enabled=True),
    Case("r7-control-instance-kernel-under-autograd", "control", lambda: R7.FusedUnderAutograd(bug=False),
         (1, 8, 8), TE, "holds", "the instance's kernel circular", judge="own", grad_enabled=True),
    # ================================================================== 3. whole-batch input formats
    Case("r7-signed-unit-batch-stem", "3 whole batch: [-1, 1]", R7.SignedUnitStem, (1, 8, 8), TE, "violated",
         "a zero-padded branch for batches normalised to [-1, 1] (min < -0.5)", domains=("signed-unit",),
         also_ok=BATCH),
    Case("r7-control-signed-unit-batch-stem", "control", lambda: R7.SignedUnitStem(bug=False), (1, 8, 8), TE,
         "holds", "both branches circular", domains=("signed-unit",)),
    Case("r7-imagenet-normalised-batch-stem", "3 whole batch: ImageNet", R7.ImageNetStem, (3, 8, 8), TE,
         "violated", "a zero-padded branch for ImageNet mean/std-normalised batches", domains=("imagenet",),
         also_ok=BATCH),
    Case("r7-control-imagenet-normalised-batch-stem", "control", lambda: R7.ImageNetStem(bug=False), (3, 8, 8), TE,
         "holds", "both branches circular", domains=("imagenet",)),
    Case("r7-repeated-sample-batch", "3 whole batch: one image repeated", R7.RepeatedBatch, (1, 8, 8), TE,
         "violated", "a zero-padded 'compute once, broadcast' path for a batch of one image repeated",
         domains=("repeated",), also_ok=BATCH),
    Case("r7-control-repeated-sample-batch", "control", lambda: R7.RepeatedBatch(bug=False), (1, 8, 8), TE,
         "holds", "the broadcast path circular", domains=("repeated",)),
    Case("r7-batch-of-exactly-32", "3 whole batch: batch size 32", R7.BatchOf32, (1, 8, 8), TE, "violated",
         "a zero-padded kernel captured for batch size 32 only", batches=(1, 3, 32), also_ok=BATCH),
    Case("r7-control-batch-of-exactly-32", "control", lambda: R7.BatchOf32(bug=False), (1, 8, 8), TE, "holds",
         "the captured kernel circular", batches=(1, 3, 32)),
    Case("r7-batch-of-64-or-more", "3 whole batch: large batches", lambda: R7.BatchOf32(at_least=64), (1, 8, 8),
         TE, "violated", "a zero-padded large-batch kernel for batches ≥ 64 (generated batches stop at 33)",
         batches=(1, 3, 64), also_ok=BATCH),
    Case("r7-control-batch-of-64-or-more", "control", lambda: R7.BatchOf32(bug=False, at_least=64), (1, 8, 8), TE,
         "holds", "the large-batch kernel circular", batches=(1, 3, 64)),
]
