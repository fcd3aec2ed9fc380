"""Red team of the static certifier: a static ``certified`` must be true.

For every case the exhaustive orbit check (``ci.check_claim``: every group element) on four inputs — Gaussian,
small integers, non-negative, non-negative integers — gives the truth; the test asserts the recorded truth and
that the static verdict is not ``certified`` where the claim is false.  The false certificates found are marked
``xfail(strict=True)``: a fix of the certifier flips them (and strict makes the suite say so).  The controls
are near twins where the claim holds: the oracle must confirm them (a fix must not be "unknown for all").
"""

import pytest
import torch

import convnet_invariances as ci
from cases import CONTROLS, FALSE_CERTIFICATES

_REASONS = {
    "masked_conv": "F.conv2d with weights computed in forward (weight * mask): a constant without a tensor is "
                   "read as no kernel, i.e. symmetric",
    "cast_weight_conv": "F.conv2d with weights cast in forward (w.double()): a constant without a tensor is read "
                        "as no kernel, i.e. symmetric",
    "double_circular": "F.pad circular then a circular Conv2d: the two circular paddings are folded into one, but "
                       "the second wraps the padded tensor",
    "nearest_034": "F.interpolate nearest with a scale_factor that is not the ratio of the sizes: torch reads "
                   "floor(i/s), not a stride-n/o grid",
    "nearest_301": "F.interpolate nearest upsampling with a scale_factor that is not the ratio of the sizes: "
                   "output i reads floor(i/s), not floor(i/(o/n))",
    "position_weighted": "flattened positions times an invariant value that varies over positions: only constant "
                         "operands are checked",
}


def _inputs(shape):
    generator = torch.Generator().manual_seed(1)
    return [torch.randn((2,) + shape, generator=generator, dtype=torch.float64),
            torch.randint(-3, 4, (2,) + shape, generator=generator).double(),
            torch.rand((2,) + shape, generator=generator, dtype=torch.float64),
            torch.randint(0, 5, (2,) + shape, generator=generator).double()]


def _truth(model, shape, claim) -> bool:
    model = model.double().eval()
    return all(ci.check_claim(model, x, claim).holds for x in _inputs(shape))


def _id(case):
    return f"{case[0]}-{case[3]}"


#: the false certificates the certifier still gives (strict xfail); the others are fixed and must stay fixed
OPEN: set = set()


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c), marks=[pytest.mark.xfail(
    strict=True, reason="false certificate: " + _REASONS[c[0]])] if c[0] in OPEN else [])
    for c in FALSE_CERTIFICATES])
def test_false_certificate(case):
    name, factory, shape, claim, holds = case
    model = factory()
    assert _truth(model, shape, claim) is holds is False  # the oracle refutes the claim
    verdict = ci.certify_static(factory(), shape, [claim]).verdicts[0]
    assert verdict.verdict != "certified", f"{name}: static certificate for a false claim {claim}:\n{verdict}"


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c)) for c in CONTROLS])
def test_control(case):
    name, factory, shape, claim, holds = case
    assert _truth(factory(), shape, claim) is holds is True
    verdict = ci.certify_static(factory(), shape, [claim]).verdicts[0]
    assert verdict.verdict in ("certified", "unknown"), str(verdict)  # never a "not certified" for a true claim


@pytest.mark.parametrize("case", [pytest.param(c, id=_id(c)) for c in FALSE_CERTIFICATES])
def test_oracle_refutes(case):
    """The truth of every recorded false certificate, on its own (passes today; keeps the cases honest)."""
    name, factory, shape, claim, holds = case
    assert _truth(factory(), shape, claim) is False
