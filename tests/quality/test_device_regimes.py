"""Sound in every precision regime: no false violation of an exact registry line, and every planted bug and
every registry refutation still caught — on the CPU in float32, and on CUDA (where present) in float32,
under TF32 and under autocast.

The registry's own test (``tests/models``) checks every line in each entry's exact dtype (float64) on the
CPU.  Here the same modules run in float32, the precision people train in, where the tolerance model rather
than bitwise equality decides; on a GPU also with TF32 (10-bit mantissa) and under autocast (bfloat16), which
the audit must read from torch's settings (``_precision``).  On the CPU, where the float64 run already
covers the refutations, only the exact lines run (the false-alarm side, new in float32); on CUDA every line.
"""

import contextlib

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances.app._registry_check import module_in
from convnet_invariances.models import APS, REGISTRY, polyphase_components

from test_planted_bugs import BrokenOnOddSizes, CircularConv, PerturbedAtOnePixel, WrongInTheTopLeftCorner

HAS_CUDA = torch.cuda.is_available()
EXAMPLES = 8  # input batches per claim: the search's portfolio covers integers, fractions and scales


@contextlib.contextmanager
def tf32(enabled):
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def autocast_bf16():
    return torch.autocast("cuda", dtype=torch.bfloat16)


#: (id, device, the context that sets the regime)
REGIMES = [
    pytest.param("cpu", lambda: tf32(False), id="cpu-float32"),
    pytest.param("cuda", lambda: tf32(False), id="cuda-float32", marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")),
    pytest.param("cuda", lambda: tf32(True), id="cuda-tf32", marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")),
    pytest.param("cuda", autocast_bf16, id="cuda-autocast-bf16",
                 marks=pytest.mark.skipif(not HAS_CUDA, reason="no CUDA")),
]


def _lines(statuses):
    for entry in REGISTRY.values():
        for line in entry.profile:
            if line.status in statuses:
                yield pytest.param(entry, line, id=f"{entry.name}-{line.claim}")


#: APS is exact up to ties between the polyphase norms it compares.  In float32 two norms closer than the
#: rounding of the activations they are computed from are a tie too: which one wins then depends on the
#: convolution algorithm (a batch of 1 and a batch of 32 may differ), so the layer is not a function of its
#: input there.  The activations feeding a deep APS carry relative rounding of (depth · γ_n) ≈ 2⁻¹⁴ in
#: float32; under TF32 or bfloat16 of 2⁻¹⁰ to 2⁻⁷.  A gap below 2⁻⁶ between the two largest norms (measured in
#: float64) is therefore set aside as a tie in every regime here — a stated precondition, like the float64
#: registry's exact ties, not a tolerance on the verdict.
NEAR_TIE = 2.0 ** -6


def near_polyphase_tie(module, x):
    """Whether some APS layer of ``module`` (float64) sees two polyphase norms within NEAR_TIE of each other."""
    gaps = []

    def record(layer, args):
        norms = polyphase_components(args[0], layer.stride).abs().pow(layer.p).flatten(2).sum(dim=2)
        top = norms.topk(2, dim=1).values
        gaps.append(((top[:, 0] - top[:, 1]) <= NEAR_TIE * top[:, 0]).any().item())

    with contextlib.ExitStack() as hooks, torch.no_grad():
        for m in module.modules():
            if isinstance(m, APS):
                hooks.enter_context(m.register_forward_pre_hook(record))
        module(x.to(torch.float64))
    return any(gaps)


def _audit(entry, claim, device, regime):
    module = module_in(entry, torch.float32).to(device)
    assume = None
    if "aps" in entry.tags:  # the entry's stated exception (ties between polyphase norms), judged in float64
        exact = module_in(entry, torch.float64).to(device)
        assume = lambda x: not near_polyphase_tie(exact, x)  # noqa: E731
    layout = "CL" if len(entry.input_shape) == 2 else None
    with regime():
        report = ci.audit(module, entry.input_shape, [claim], layout=layout, examples=EXAMPLES, device=device,
                          assume=assume, name=entry.name)
    return report.results[0]


@pytest.mark.slow
@pytest.mark.parametrize("device, regime", REGIMES)
@pytest.mark.parametrize("entry, line", list(_lines(("exact", "subgroup", "interior"))))
def test_an_exact_registry_line_is_never_a_false_violation(entry, line, device, regime):
    if device == "cpu" and "aps" in entry.tags:
        pytest.skip("APS networks in float32 on 2 CPU cores: the one-call-per-element re-search below takes minutes; "
                    "the CUDA regimes run them")
    result = _audit(entry, line.claim, device, regime)
    assert result.verdict != "violated", f"{entry.name}: {line.claim} → violated\n{result.message}"
    if "aps" in entry.tags and result.verdict == "error":
        # APS's argmax over polyphase norms: at a near tie, float32 rounding that depends on the batch size
        # (another convolution algorithm) picks another component, and the layer is truly not a function of its
        # input alone there.  The audit must say so (never "violated"), naming the batch dependence.
        assert "does not reproduce" in result.message, result.message
        return
    assert result.verdict in ("holds", "certified"), f"{entry.name}: {line.claim} → {result.verdict}\n{result.message}"


@pytest.mark.slow
@pytest.mark.parametrize("device, regime", [p for p in REGIMES if p.values[0] == "cuda"])
@pytest.mark.parametrize("entry, line", list(_lines(("none",))))
def test_a_broken_registry_line_is_still_refuted(entry, line, device, regime):
    result = _audit(entry, line.claim, device, regime)
    assert result.verdict == "violated", f"{entry.name}: {line.claim} → {result.verdict}\n{result.message}"


PLANTED = [PerturbedAtOnePixel, BrokenOnOddSizes, WrongInTheTopLeftCorner]


@pytest.mark.parametrize("device, regime", REGIMES)
@pytest.mark.parametrize("layer", PLANTED, ids=lambda c: c.__name__)
def test_every_planted_bug_is_caught(layer, device, regime):
    shape = (1, 7, 7) if layer is BrokenOnOddSizes else (1, 8, 8)
    with regime():
        result = ci.audit(layer().to(device), shape, ["translation-equivariant"], examples=EXAMPLES,
                          device=device).results[0]
    assert result.verdict == "violated", result.message


@pytest.mark.parametrize("device, regime", REGIMES)
def test_the_planted_bugs_reference_layer_holds(device, regime):  # the negative twin of the above
    with regime():
        result = ci.audit(CircularConv().to(device), (1, 7, 7), ["translation-equivariant"], examples=EXAMPLES,
                          device=device).results[0]
    assert result.verdict in ("holds", "certified"), result.message
