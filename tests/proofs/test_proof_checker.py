"""The checker: every theorem checks, each rule rejects what it is for, and `python -m convnet_invariances.proofs` reports failures.

The table of rules runs on a small theorem built here (the DFT-style sum
re-indexed by a circular shift), so that each row changes one thing.
"""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from convnet_invariances import proofs
from convnet_invariances.proofs import (
    Between,
    Bound,
    Chain,
    Claim,
    Fold,
    Instance,
    Instances,
    Merge,
    Param,
    Periodic,
    Reindex,
    Rule,
    Split,
    Step,
    Theorem,
    Twin,
    Unfold,
    Use,
    Witness,
    check,
    derive,
    notation,
    theorems,
)

ROOT = Path(__file__).resolve().parents[2]
IDS = [t.name for t in theorems()]

n, m, t = sp.symbols("n m t", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
a, b = sp.symbols("a b", real=True)
x = sp.Function("x")


def small_theorem() -> Theorem:
    """Σ x[n − t] over ℤ/N equals Σ x[n] (re-index, split, periodicity, merge), plus a bound and a '≠'."""
    Total = notation("Total", r"\mathrm{{sum}}({0})")
    shifted, plain = sp.Symbol("S_t x"), sp.Symbol("x")
    total_shifted = Rule("the sum of the shifted signal", Total(shifted), sp.Sum(x(n - t), (n, 0, N - 1)),
                         "definition")
    total = Rule("the sum", Total(plain), sp.Sum(x(n), (n, 0, N - 1)), "definition")
    periodic = Periodic("periodicity", x, N)
    claim = Claim("(a)", "The sum is shift invariant: {formula}.", Total(shifted), Total(plain),
                  hypotheses=(periodic,), conditions=(Between(t, 0, N - 1),))
    rest = sp.Sum(x(m), (m, 0, N - 1 - t))
    steps = derive(
        Total(shifted),
        (total_shifted.rhs, Unfold(total_shifted)),
        (sp.Sum(x(m), (m, -t, N - 1 - t)), Reindex(n, n - t, m)),
        (sp.Sum(x(m), (m, -t, -1)) + rest, Split(m, 0)),
        (sp.Sum(x(m - N), (m, N - t, N - 1)) + rest, Reindex(m, m + N, m, start=-t)),
        (sp.Sum(x(m), (m, N - t, N - 1)) + rest, Use(periodic)),
        (sp.Sum(x(m), (m, 0, N - 1)), Merge(m)),
        (Total(plain), Fold(total)),
    )
    absolute = Rule("a number is at most its absolute value", a, sp.Abs(a), "fact", (a,), relation="<=")
    bound = Claim("(b)", "A bound: {formula}.", a + b, sp.Abs(a) + sp.Abs(b), "<=")
    bound_steps = (Step(a + b, sp.Abs(a) + sp.Abs(b), Bound((Instance(absolute), Instance(absolute, ((a, b),))))),)
    differ = Claim("(c)", "A shift moves a ramp: {formula} for some signal.", x(sp.Mod(n - 1, N)), x(n), "!=")
    witness = (Step(differ.lhs, differ.rhs, Witness(((N, 2), (n, 0), (x, sp.Lambda(m, m))))),)
    size, shift = sp.symbols("N t", integer=True)

    def rolled(N, t):
        values = list(sp.symbols(f"x0:{N}"))
        return proofs.MaxOf(*[values[(i - t) % N] for i in range(N)]), proofs.MaxOf(*values)

    scope = (Param(size, 2, 4, trivial=(1,)), Param(shift, 1, size - 1))
    family = Claim("(d)", "The maximum is shift invariant, {scope}.", scope=scope)
    return Theorem(
        title="A small theorem.",
        doc="A small theorem.\n\n**Why it matters.** It exercises the checker.\n\n"
            "**Proof in words.** Re-index, split, use periodicity, merge.\n",
        statement=(claim, bound, differ, family),
        parts=(Chain(claim, steps), Chain(bound, bound_steps), Chain(differ, witness),
               Instances(family, rolled, scope, ((size, 3), (shift, 1)))),
        definitions=(total_shifted, total),
        hypotheses=(periodic,),
        facts=(absolute,),
        twin=Twin("tests/proofs/test_proof_checker.py::test_the_small_theorem_checks", "It checks itself."),
    )


def replace_part(theorem, index, **changes):
    parts = list(theorem.parts)
    parts[index] = dataclasses.replace(parts[index], **changes)
    return dataclasses.replace(theorem, parts=tuple(parts))


def replace_step(theorem, part, index, **changes):
    steps = list(theorem.parts[part].steps)
    steps[index] = dataclasses.replace(steps[index], **changes)
    return replace_part(theorem, part, steps=tuple(steps))


def test_the_small_theorem_checks():
    verdict = check(small_theorem())
    assert verdict.ok, verdict.errors
    assert verdict.steps == 7 + 1 + 1 + 1 and verdict.cases == 6


def _sum_rest():
    return sp.Sum(x(m), (m, 0, N - 1 - t))


BROKEN = {
    "identical sides": (lambda th: replace_step(th, 0, 1, rhs=th.parts[0].steps[1].lhs), "same text"),
    "chain broken": (lambda th: replace_part(th, 0, steps=th.parts[0].steps[:2] + th.parts[0].steps[3:]),
                     "does not start where"),
    "statement not the last step": (lambda th: replace_part(th, 0, steps=th.parts[0].steps[:-1]),
                                    "does not end at the claim"),
    "wrong index in a re-indexing": (
        lambda th: replace_step(th, 0, 1, rhs=sp.Sum(x(m), (m, 1 - t, N - t))), "re-indexing does not give"),
    "split outside the range": (
        lambda th: replace_step(th, 0, 2, move=Split(m, N + 1)), "cannot show"),
    "hypothesis not stated": (
        lambda th: replace_part(th, 0, claim=dataclasses.replace(th.parts[0].claim, hypotheses=())),
        "does not state"),
    "empty substitution": (lambda th: replace_step(th, 0, 4, move=Use(th.hypotheses[0]),
                                                   rhs=th.parts[0].steps[4].lhs * 1 + 0), "same text"),
    "false bound": (lambda th: replace_part(th, 1, steps=(Step(a + b, sp.Abs(a), th.parts[1].steps[0].move),)),
                    "not shown non-negative"),
    "bound that names nothing": (lambda th: replace_part(th, 1, steps=(dataclasses.replace(
        th.parts[1].steps[0], move=Bound(())),)), "states what it uses"),
    "false '≠'": (lambda th: replace_part(th, 2, steps=(dataclasses.replace(
        th.parts[2].steps[0], move=Witness(((N, 2), (n, 0), (x, sp.Lambda(m, 1)))),),)), "equal"),
    "witness against an assumption": (lambda th: replace_part(th, 2, steps=(dataclasses.replace(
        th.parts[2].steps[0], move=Witness(((N, -2), (n, 0), (x, sp.Lambda(m, m)))),),)), "that N is positive"),
    "witness that leaves a symbol free": (lambda th: replace_part(th, 2, steps=(dataclasses.replace(
        th.parts[2].steps[0], move=Witness(((N, 2), (x, sp.Lambda(m, m)))),),)), "no value"),
    "truncated family": (lambda th: replace_part(th, 3, params=(Param(sp.Symbol("N", integer=True), 2, 3),
                                                                th.parts[3].params[1])), "does not run"),
    "empty family": (lambda th: replace_part(th, 3, params=(Param(sp.Symbol("N", integer=True), 5, 4),
                                                            th.parts[3].params[1])), "empty"),
    "family ignoring a parameter": (lambda th: replace_part(th, 3, build=lambda N, t: th.parts[3].build(N, 1)),
                                    "does not use its parameters"),
    "degenerate example shown": (lambda th: replace_part(th, 3, shown=((sp.Symbol("N", integer=True), 1),
                                                                       (sp.Symbol("t", integer=True), 0))),
                                 "not one of the cases run"),
    "a statement in the prose": (lambda th: dataclasses.replace(
        th, doc=th.doc + "\n**Statement.** The sum is invariant for every N.\n"), "states the theorem itself"),
    "internal jargon": (lambda th: dataclasses.replace(th, doc=th.doc + "\nAs the seed discussion says.\n"),
                        "jargon"),
    "a relation of its own in a claim's text": (lambda th: dataclasses.replace(th, statement=(dataclasses.replace(
        th.statement[0], text="The sum is shift invariant, $S = S'$: {formula}."),) + th.statement[1:]),
        "relation of its own"),
    "sizes in an instance claim's text": (lambda th: _with_family_text(th, "For N up to 9 the maximum is "
                                                                           "invariant, {scope}."), "sizes"),
    "'every N' in an instance claim's text": (lambda th: _with_family_text(
        th, "For every N the maximum is invariant, {scope}."), "quantifies"),
    "a theorem without a statement": (lambda th: dataclasses.replace(th, statement=()), "statement is empty"),
}


def _with_family_text(theorem, text):
    family = dataclasses.replace(theorem.statement[3], text=text)
    return replace_part(dataclasses.replace(theorem, statement=theorem.statement[:3] + (family,)), 3, claim=family)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_checker_rejects(name):
    mutate, message = BROKEN[name]
    verdict = check(mutate(small_theorem()))
    assert not verdict.ok
    assert any(message in error for error in verdict.errors), verdict.errors


@pytest.mark.parametrize("theorem", theorems(), ids=IDS)
def test_every_theorem_checks(theorem):
    verdict = check(theorem)
    assert verdict.ok, verdict.errors
    assert verdict.steps > 0


def test_there_are_at_least_fifteen_theorems_and_their_statements_are_proved_parts():
    assert len(theorems()) >= 15
    for theorem in theorems():
        proved = {id(part.claim) for part in theorem.parts}
        assert all(id(claim) in proved for claim in theorem.statement), theorem.name


def test_no_step_and_no_shown_case_has_the_same_text_on_both_sides():
    for theorem in theorems():
        for part in theorem.parts:
            if isinstance(part, Chain):
                pairs = [(step.lhs, step.rhs) for step in part.steps]
            else:
                pairs = [part.build(**{str(k): v for k, v in part.shown})]
            for lhs, rhs in pairs:
                assert proofs.latex(lhs) != proofs.latex(rhs), (theorem.name, part.claim.label)


def test_general_claims_and_instance_claims_are_told_apart_in_the_statement():
    for theorem in theorems():
        for claim in theorem.statement:
            assert ("{scope}" in claim.text) == (not claim.general), (theorem.name, claim.label)


def test_python_m_proofs_fails_on_a_failed_theorem(monkeypatch, capsys):
    from convnet_invariances.proofs import __main__ as cli

    broken = dataclasses.replace(theorems()[2], statement=())
    monkeypatch.setattr(cli, "theorems", lambda: (broken,))
    assert cli.main(["--check"]) == 1
    assert "FAIL Theorem  3" in capsys.readouterr().out


def test_out_writes_the_documents_where_asked_and_check_reads_them(tmp_path):
    from convnet_invariances.proofs import __main__ as cli

    assert cli.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").exists() and (tmp_path / "notation.md").exists()
    assert cli.main(["--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "03-stride.md").write_text("stale", encoding="utf-8")
    assert cli.main(["--out", str(tmp_path), "--check"]) == 1


def test_an_installed_package_only_checks_unless_given_out(monkeypatch, tmp_path, capsys):
    from convnet_invariances.proofs import __main__ as cli

    monkeypatch.setattr(cli, "PACKAGE", tmp_path / "site-packages" / "proofs")
    assert cli.default_output() is None
    assert cli.main([]) == 0
    assert "checked only" in capsys.readouterr().out


def test_proofs_import_only_sympy():
    code = ("import sys, proofs; proofs.theorems(); "
            "print(sorted(m for m in ('torch', 'numpy', 'props', 'models') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
