"""The static certifier faces the whole red team too: never a traceback, never a false ``certified``.

The red team's layers were built to fool the dynamic audit, and many of them
hide their defect where a graph reader could be fooled as well (hooks, replaced
forwards, dtype branches, computed weights, state).  Each case's declared truth
is confirmed by the brute-force oracle in ``test_red_team.py``; here the static
verdict on each of its claims must be ``unknown`` or ``not certified`` unless
that truth is ``holds``, and reading the layer must never raise (an
``InvalidArgument`` for a claim that cannot act on the shape is a right answer).
"""

import importlib.util
import warnings

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances import certify_static

from red_team.cases import CASES


def _params():
    for case in CASES:
        marks = []
        if case.requires and importlib.util.find_spec(case.requires) is None:
            marks.append(pytest.mark.skip(reason=f"needs {case.requires}"))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_static_certifier_on_red_team_layer(case):
    layer = case.make()
    if not isinstance(layer, torch.nn.Module):
        pytest.skip("not a module: the static certifier reads modules")
    for claim in case.claims:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                verdict = certify_static(layer, case.input_shape, [claim]).verdicts[0]
            except ci.InvalidArgument:
                continue
        if verdict.certified:
            assert case.truth == "holds", (
                f"false static certificate: {claim!r} is {case.truth} by the oracle, the certifier says "
                f"certified because {list(verdict.reasons)}")
