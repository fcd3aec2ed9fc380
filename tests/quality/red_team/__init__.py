"""The red-team suite: layers built to fool the audit, a brute-force oracle, and the cases that bind them.

- ``layers.py``: the adversarial layers and their controls (torch only);
- ``oracle.py``: the truth, by brute force over group elements, input domains, batch sizes and dtypes,
  independent of the engine;
- ``cases.py``: one case per (layer, claim), with the truth it declares and what the engine must answer;
- ``harness.py``: runs a case through the engine as a user would, and checks the module comes back unchanged;
- ``test_red_team.py``: one test per case; ``report.py``: the same as a Markdown table.
- round 2 (attacks on the rewritten engine's new mechanisms, ids ``r2-…``): ``layers_round2.py`` and
  ``cases_round2.py``; the oracle and the harness gained what they need, marked "round 2" where they did.
- round 3 (the twin's "ignores fine detail" test, the measured rounding floor, narrow output dtypes, outputs
  without a channel axis, anchor-sparing batch coupling, four input properties at once, ordinary users' bugs;
  ids ``r3-…``): ``layers_round3.py`` and ``cases_round3.py``; the oracle gained the "decibels" domain.

Run: ``.venv/bin/python -m pytest tests/quality/red_team -q`` or
``.venv/bin/python tests/quality/red_team/report.py [--secondary] [ID-SUBSTRING ...]``.

To add a case: write the layer in ``layers.py`` (docstring: what it fools, whether the claim holds), add a
``Case`` to ``cases.py`` with the truth; the test fails if the oracle disagrees with the declared truth.
"""
