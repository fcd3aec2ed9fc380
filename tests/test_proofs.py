"""The proofs: every step checks, the rendering is fresh, a corrupted step is rejected, twins exist."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from convnet_invariances import proofs
from convnet_invariances.proofs import THEOREMS, check_theorem, rendered_documents
from convnet_invariances.proofs.__main__ import OUTPUT

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("module", THEOREMS, ids=[m.__name__.rsplit(".", 1)[1] for m in THEOREMS])
def test_every_step_of_the_theorem_checks(module):
    results = check_theorem(module)
    assert results, "a theorem without steps proves nothing"
    failed = [(n, step.text) for n, step, ok in results if not ok]
    assert not failed, failed


def test_the_committed_rendering_is_fresh():
    documents = rendered_documents()
    stale = [name for name, text in documents.items()
             if not (OUTPUT / name).exists() or (OUTPUT / name).read_text(encoding="utf-8") != text]
    assert not stale, f"stale: {stale}; run `python -m proofs` and commit proofs/rendered/"
    assert all("$$" in text for name, text in documents.items() if name != "README.md")


def corrupted(module, number, **changes):
    steps = copy.deepcopy(module.derivation())
    for key, value in changes.items():
        setattr(steps[number - 1], key, value(steps[number - 1]) if callable(value) else value)
    return steps[number - 1]


def test_the_checker_rejects_a_wrong_sign():
    from convnet_invariances.proofs import conv_shift

    n, k, t = sp.symbols("n k t", integer=True)
    x, K = sp.Function("x"), sp.Function("K")
    step = corrupted(conv_shift, 1, rhs=sp.Sum(K(k) * x(n + k + t), (k, -sp.oo, sp.oo)))  # S_t read as S_-t
    assert not step.verify()


def test_the_checker_rejects_a_wrong_index_in_an_exhaustive_family():
    from convnet_invariances.proofs import stride

    step = corrupted(stride, 3, family=lambda s: s.family[:-1] + [(s.family[-1][0], list(reversed(s.family[-1][1])))])
    assert not step.verify()


def test_the_checker_rejects_a_wrong_phase_in_the_shift_theorem():
    from convnet_invariances.proofs import dft_shift

    step = corrupted(dft_shift, 1, rhs=lambda s: s.rhs * dft_shift.w)  # ω^(k(t+1)) instead of ω^(kt)
    assert not step.verify()


def test_the_checker_rejects_a_false_inequality_and_a_false_counterexample():
    from convnet_invariances.proofs import max_pooling

    step = corrupted(max_pooling, 5, rhs=lambda s: s.rhs - max_pooling.q[0] - 1)  # a bound that is too tight
    assert not step.verify()
    step = corrupted(max_pooling, 3, lhs=lambda s: s.rhs)  # "≠" between equal expressions
    assert not step.verify()


def test_python_m_proofs_fails_on_a_failed_step(monkeypatch, capsys):
    from convnet_invariances.proofs import __main__ as cli
    from convnet_invariances.proofs import stride

    original = stride.derivation
    monkeypatch.setattr(stride, "derivation", lambda: original()[:3] + [proofs.Step("wrong", sp.Integer(1), sp.Integer(2))])
    assert cli.main(["--check"]) == 1
    assert "FAIL Theorem 3" in capsys.readouterr().out


def _twin_exists(twin):
    path, _, name = twin.partition("::")
    source = (ROOT / path).read_text(encoding="utf-8")
    function, _, param = name.partition("[")
    if f"def {function}(" not in source:
        return False
    if not param:
        return True
    from convnet_invariances.models import REGISTRY  # registry line ids: entry:claim:status

    entry, claim, status = param.rstrip("]").split(":")
    return any(line.claim == claim and line.status == status for line in REGISTRY[entry].profile)


@pytest.mark.parametrize("module", THEOREMS, ids=[m.__name__.rsplit(".", 1)[1] for m in THEOREMS])
def test_every_theorem_names_a_numeric_twin_that_exists(module):
    assert _twin_exists(module.NUMERIC_TWIN), module.NUMERIC_TWIN


def test_proofs_depend_on_sympy_only():
    code = ("import sys, convnet_invariances.proofs; print(sorted(m for m in ('torch', 'numpy', "
            "'convnet_invariances.models', 'convnet_invariances._audit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
