"""Markdown with LaTeX for a checked theorem: statement, prose, the checked derivation, the numeric twin."""

from __future__ import annotations

import re

import sympy as sp

from ._core import (
    Claim,
    Instances,
    Theorem,
    Verdict,
    Witness,
    cases,
    instantiate,
    latex,
)

_RELATION = {"=": "=", "<=": r"\le", "!=": r"\neq"}


def scope_text(claim: Claim) -> str:
    """'verified for 1 ≤ N ≤ 6, … (instances only, 21 cases)', from the parameters of the claim's scope."""
    count = len(cases(claim.scope))
    ranges = ", ".join(f"${p.latex()}$" for p in claim.scope)
    return f"verified for {ranges} (instances only, {count} cases; not a general proof)"


def claim_sentence(claim: Claim) -> str:
    """The claim's text with its formula and scope filled in, then its conditions and hypotheses."""
    text = claim.text.replace("{formula}", f"${claim.formula()}$" if claim.lhs is not None else "")
    text = text.replace("{scope}", scope_text(claim) if claim.scope else "")
    extra = []
    if claim.conditions:
        extra.append("for " + ", ".join(f"${c.latex()}$" for c in claim.conditions))
    if claim.hypotheses:
        extra.append("assuming " + "; ".join(f"{h.name} (${h.latex()}$)" for h in claim.hypotheses))
    if extra:
        text = text.rstrip(".") + " — " + "; ".join(extra) + "."
    return text


def _sections(doc: str) -> dict[str, str]:
    """The prose's paragraphs keyed by their bold heading ("Why it matters", "Proof in words", …), in order."""
    parts = re.split(r"\*\*([^*]+?)\.\*\*", doc)
    return {heading.strip(): body.strip() for heading, body in zip(parts[1::2], parts[2::2])}


def render(theorem: Theorem, verdict: Verdict) -> str:
    """The Markdown document of one theorem: statement, proof in words, checked derivation, numeric twin.

    >>> render(theorems()[2], check(theorems()[2])).splitlines()[0]
    '# Theorem 3 — Stride keeps translation equivariance only on the subgroup $s\\\\mathbb{Z}$.'
    """
    lines = [f"# Theorem {theorem.number} — {theorem.title}", ""]
    if not verdict.ok:
        lines += ["> **This proof does not check.**", ""] + [f"> - {e}" for e in verdict.errors] + [""]
    general = [c for c in theorem.statement if c.general]
    verified = [c for c in theorem.statement if not c.general]
    if not verified:
        lines += ["*Proved in general: every part of the statement is derived with symbolic sizes.*", ""]
    elif not general:
        lines += ["*Verified on instances only: the statement is checked case by case, not proved in general.*", ""]
    else:
        labels = ", ".join(c.label for c in verified)
        lines += [f"*Proved in general, except {labels}: verified on instances only.*", ""]
    lines += ["**Statement.**", ""]
    for claim in theorem.statement:
        lines += [f"- **{claim.label}** {claim_sentence(claim)}"]
    lines += [""]
    # the statement, then the proof in words, then why it matters and the references
    sections = _sections(theorem.doc.strip()[len(theorem.title):])
    order = ["Proof in words"] + [heading for heading in sections if heading != "Proof in words"]
    for heading in order:
        lines += [f"**{heading}.** {sections[heading]}", ""]
    lines += ["## Checked derivation", "",
              "Symbols and conventions are on the [notation page](notation.md). Each step names its move; the "
              "checker carries the move out itself and compares the result with the step's right side.", ""]
    lines += _declarations(theorem)
    for part in theorem.parts:
        lines += _part(part)
    if theorem.twin is not None:
        lines += ["## Numeric twin", "", theorem.twin.text.strip(), "", f"Test: `{theorem.twin.test}`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def _declarations(theorem):
    lines = []
    groups = (("Definitions", theorem.definitions), ("Hypotheses", theorem.hypotheses),
              ("Facts taken as known (standard results, not derived here)", theorem.facts))
    for heading, rules in groups:
        if not rules:
            continue
        lines += [f"**{heading}.**", ""]
        for rule in rules:
            note = f" {rule.text}" if getattr(rule, "text", "") else ""
            lines.append(f"- {rule.name}: ${rule.latex()}$.{note}")
        lines.append("")
    return lines


def _part(part):
    claim = part.claim
    title = f"### {claim.label}"
    lines = [title, ""]
    if part.text:
        lines += [part.text.strip(), ""]
    if isinstance(part, Instances):
        return lines + _instances(part)
    steps = part.steps
    if len(steps) == 1 and isinstance(steps[0].move, Witness):
        return lines + _witness(steps[0])
    rows = []
    for number, step in enumerate(steps, start=1):
        head = latex(step.lhs) if number == 1 else ""
        rows.append(f"{head} &{_RELATION[step.relation]} {latex(step.rhs)} && \\text{{({number})}}")
    lines += ["$$", r"\begin{aligned}", " \\\\\n".join(rows), r"\end{aligned}", "$$", ""]
    for number, step in enumerate(steps, start=1):
        reason = step.move.describe()
        lines.append(f"{number}. {reason}" + (f" — {step.text}" if step.text else "") + " ✔")
    return lines + [""]


def _witness(step):
    values = dict(step.move.values)
    left, right = instantiate(step.lhs, values), instantiate(step.rhs, values)

    def value(v):
        if isinstance(v, (list, tuple)):
            return [sp.sympify(e).doit() for e in v]
        if isinstance(v, sp.MatrixBase):
            return v.doit()
        return sp.sympify(v).doit()

    return ["$$", f"{latex(step.lhs)} \\neq {latex(step.rhs)}", "$$", "",
            f"1. {step.move.describe()}: the left side is ${latex(value(left))}$, the right side "
            f"${latex(value(right))}$" + (f" — {step.text}" if step.text else "") + " ✔", ""]


def _instances(part):
    claim = part.claim
    shown = dict(part.shown)
    lhs, rhs = part.build(**{str(k): v for k, v in shown.items()})
    at = ", ".join(f"{sp.latex(k)} = {v}" for k, v in shown.items())
    lines = [f"The case ${at}$, one of the {len(cases(part.params))} checked:", "", "$$",
             f"{latex(lhs)} {_RELATION[claim.relation]} {latex(rhs)}", "$$", ""]
    if part.witness is not None:
        values = part.witness(**{str(k): v for k, v in shown.items()})
        lines += ["with the witness $" + ", ".join(f"{sp.latex(k)} = {sp.latex(v)}" for k, v in values) + "$.", ""]
    ranges = ", ".join(f"${p.latex()}$" for p in part.params)
    witnessed = " (each with a witness)" if claim.relation == "!=" else ""
    return lines + [f"✔ every case of {ranges} checked by sympy{witnessed}.", ""]


def index(theorems, verdicts) -> str:
    """The README of the rendered folder: every theorem, whether it is general, and its steps."""
    lines = ["# Proofs", "",
             "Each theorem opens with its statement and a short proof in words, then the derivation that "
             "`python -m convnet_invariances.proofs` checks move by move. Symbols are on the [notation page](notation.md). "
             "Start with Theorem 11 (equivariance versus invariance), then Theorems 1 and 3.", "",
             "| # | theorem | proved | checked |", "|---|---|---|---|"]
    for theorem, verdict in zip(theorems, verdicts):
        name = f"{theorem.number:02d}-{theorem.name}.md"
        on_instances = [c.label for c in theorem.statement if not c.general]
        if not on_instances:
            kind = "in general"
        elif len(on_instances) < len(theorem.statement):
            kind = f"in general, except {', '.join(on_instances)}: verified on instances"
        else:
            kind = "verified on instances only"
        status = (f"{verdict.steps} steps" + (f", {verdict.cases} cases" if verdict.cases else "")
                  if verdict.ok else "**FAILED**")
        lines.append(f"| {theorem.number} | [{theorem.title}]({name}) | {kind} | {status} |")
    return "\n".join(lines) + "\n"
