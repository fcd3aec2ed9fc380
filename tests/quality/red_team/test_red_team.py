"""The red-team suite: adversarial layers, each built to fool one mechanism of the audit.

For every case (``cases.py``) the test

1. establishes the truth with the brute-force oracle (``oracle.py``, independent of the engine) and checks
   that it is the truth the case declares — a case whose defect is not what it claims fails here;
2. runs the engine as a user would (``ci.audit``, ``ci.assert_claims``, the linear certificate, the
   CLI, the registry's ``refute``) and checks its answer: false claims ``violated``, true claims ``holds`` or
   ``certified``, random layers ``error``, usage problems ``InvalidArgument`` / exit 2, never a traceback;
3. checks that the module came back unchanged (parameters, every buffer, training flags, requires_grad,
   attributes, RNG states) and still deep-copies.

``python tests/quality/red_team/report.py`` prints the same results as a table.
"""

import importlib.util

import pytest


from red_team.cases import CASES
from red_team.harness import run_case, truth_of


def _params():
    for case in CASES:
        marks = []
        if case.requires and importlib.util.find_spec(case.requires) is None:
            marks.append(pytest.mark.skip(reason=f"needs {case.requires} (pip install -c constraints.txt "
                                                 f"{'e2cnn==0.2.3' if case.requires == 'e2cnn' else case.requires})"))
        if case.known_limit:  # strict: the day the engine answers right, this fails and the mark must go
            marks.append(pytest.mark.xfail(strict=True, reason=f"known limit: {case.known_limit}"))
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_red_team(case):
    if case.truth != "usage":
        findings = truth_of(case)
        for claim, finding in zip(case.claims, findings):
            if finding.truth != case.truth:
                pytest.fail(f"the case is wrong: the oracle finds {claim!r} {finding}, the case declares "
                            f"{case.truth!r}", pytrace=False)
    outcome = run_case(case)
    if not outcome.right:
        pytest.fail(outcome.explain(), pytrace=False)


# ----------------------------------------------------------------------------- the suite's own checks can fail


def test_the_state_check_sees_every_kind_of_change():
    import copy
    import random

    import torch

    from red_team import layers as L
    from red_team.harness import changes, snapshot

    def changed(mutate, make=lambda: L.NonPersistentCounter()):
        layer = make()
        before = snapshot(layer)
        mutate(layer)
        return changes(before, snapshot(layer))

    assert changed(lambda m: m.calls.add_(1))  # a non-persistent buffer
    assert changed(lambda m: m.weight.data.add_(1e-7))  # a parameter, by a hair
    assert changed(lambda m: m.weight.requires_grad_(False))
    assert changed(lambda m: setattr(m, "training", False))
    assert changed(lambda m: setattr(m, "extra", 1))  # an attribute added
    assert changed(lambda m: m.register_buffer("cached", torch.ones(1)))
    assert changed(lambda m: torch.rand(1))  # the torch RNG
    assert changed(lambda m: random.random())  # Python's RNG
    assert not changed(lambda m: copy.deepcopy(m))


def test_the_oracle_and_the_layers_never_import_the_engine():
    from pathlib import Path

    here = Path(__file__).parent
    for name in ("oracle.py", "layers.py", "cases.py", "layers_round2.py", "cases_round2.py", "layers_round3.py",
                 "cases_round3.py", "layers_round4.py", "cases_round4.py", "layers_round5.py",
                 "cases_round5.py", "layers_round6.py", "cases_round6.py",
                 "layers_round7.py", "cases_round7.py"):
        text = (here / name).read_text(encoding="utf-8")
        assert "convnet_invariances" not in text and "import props" not in text, name
