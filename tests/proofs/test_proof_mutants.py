"""Mutation testing of the checker: deliberately wrong variants of every theorem, each of which must be rejected.

Two kinds of mutants:

- **generic** ones, made by operators applied to every theorem — a wrong sign
  in the statement or carried into the last step, a wrong index in a middle
  step, a dropped step, an empty substitution, a hypothesis removed from a
  claim or replaced by algebra, a family cut short or ignoring a parameter,
  a degenerate example, a false statement or a relation written into the prose,
  a false bound, a witness that breaks an assumption or shows nothing;
- **specific** ones, written by hand per theorem: the false statements the
  documents used to make (Theorems 4, 5, 8, 11), wrong phases and rotations,
  missing hypotheses, bounds that are too tight.

Each mutant names the error it must provoke (a fragment of the checker's
message), so a mutant rejected for an unrelated reason does not count.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
import sympy as sp

from convnet_invariances.proofs import (
    Algebra,
    Between,
    Chain,
    Claim,
    Instances,
    Param,
    Step,
    Witness,
    check,
    latex,
    theorems,
)

REJECTED = "rejected"  # any error will do (for mutants whose exact reason depends on the theorem)


# ---------------------------------------------------------------- helpers to rebuild a theorem

def with_claim(theorem, old, new):
    """``theorem`` with the claim ``old`` replaced by ``new`` in the statement and in the part that proves it."""
    statement = tuple(new if claim is old else claim for claim in theorem.statement)
    parts = tuple(dataclasses.replace(part, claim=new) if part.claim is old else part for part in theorem.parts)
    return dataclasses.replace(theorem, statement=statement, parts=parts)


def with_part(theorem, index, **changes):
    parts = list(theorem.parts)
    parts[index] = dataclasses.replace(parts[index], **changes)
    return dataclasses.replace(theorem, parts=tuple(parts))


def with_steps(theorem, index, steps):
    return with_part(theorem, index, steps=tuple(steps))


def chains(theorem):
    return [(i, part) for i, part in enumerate(theorem.parts) if isinstance(part, Chain)]


def families(theorem):
    return [(i, part) for i, part in enumerate(theorem.parts) if isinstance(part, Instances)]


def negate(value):
    """A wrong sign: −value, or value + 1 where that is the same thing (0)."""
    if isinstance(value, (list, tuple)):
        return [negate(value[0]), *value[1:]]
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: -e)
    changed = -sp.sympify(value)
    return changed if changed != value else sp.sympify(value) + 1


def shift_an_index(value):
    """A wrong index: one free integer symbol moved by one (bound indices are left alone)."""
    symbols = sorted((s for s in _free(value) if s.is_integer), key=str)
    for symbol in symbols:
        moved = _subs(value, symbol, symbol + 1)
        if latex(moved) != latex(value):
            return moved
    return _subs(value, None, None) if not symbols else negate(value)


def _free(value):
    if isinstance(value, (list, tuple)):
        return set().union(*(_free(v) for v in value))
    return sp.sympify(value).free_symbols


def _subs(value, old, new):
    if old is None:
        return negate(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_subs(v, old, new) for v in value)
    return sp.sympify(value).subs(old, new)


# ---------------------------------------------------------------- generic operators

def generic_mutants(theorem):
    """(name, expected message fragment, mutant) for every operator that applies to ``theorem``."""
    out = []
    general = [c for c in theorem.statement if c.general and c.relation in ("=", "<=")]
    if general:
        claim = general[0]
        out.append(("false statement: wrong sign in the statement", "does not end at the claim",
                    with_claim(theorem, claim, dataclasses.replace(claim, rhs=negate(claim.rhs)))))
        index, part = next((i, p) for i, p in enumerate(theorem.parts) if p.claim is claim)
        new_claim = dataclasses.replace(claim, rhs=negate(claim.rhs))
        steps = list(part.steps)
        steps[-1] = dataclasses.replace(steps[-1], rhs=new_claim.rhs)
        mutated = with_claim(theorem, claim, new_claim)
        out.append(("wrong sign carried into the last step", f"{claim.label}, step {len(steps)}",
                    with_steps(mutated, index, steps)))
    long_chains = [(i, p) for i, p in chains(theorem) if len(p.steps) >= 3]
    if long_chains:
        index, part = long_chains[0]
        k = len(part.steps) // 2
        steps = list(part.steps)
        wrong = shift_an_index(steps[k].rhs)
        steps[k] = dataclasses.replace(steps[k], rhs=wrong)
        steps[k + 1] = dataclasses.replace(steps[k + 1], lhs=wrong)
        out.append(("wrong index in a middle step", part.claim.label, with_steps(theorem, index, steps)))
        out.append(("a step dropped", "does not start where",
                    with_steps(theorem, index, part.steps[:k] + part.steps[k + 1:])))
    rewrites = [(i, p, k) for i, p in chains(theorem) for k, s in enumerate(p.steps[:-1])
                if type(s.move).__name__ in ("Use", "Unfold", "Fold", "Reindex", "Split", "Merge", "Substitute")]
    if rewrites:
        index, part, k = rewrites[0]
        steps = list(part.steps)
        steps[k] = dataclasses.replace(steps[k], rhs=steps[k].lhs)
        steps[k + 1] = dataclasses.replace(steps[k + 1], lhs=steps[k].lhs)
        out.append(("empty substitution: a step that changes nothing", "same text", with_steps(theorem, index, steps)))
    uses = [(i, p, k, s.move.rule) for i, p in chains(theorem) for k, s in enumerate(p.steps)
            if type(s.move).__name__ == "Use" and getattr(s.move.rule, "kind", "") == "hypothesis"]
    if uses:
        index, part, k, rule = uses[0]
        steps = list(part.steps)
        steps[k] = dataclasses.replace(steps[k], move=Algebra())
        out.append(("the hypothesis replaced by algebra", "sympy does not show", with_steps(theorem, index, steps)))
        claim = part.claim
        weaker = dataclasses.replace(claim, hypotheses=tuple(h for h in claim.hypotheses if h is not rule))
        out.append(("a hypothesis the proof uses, removed from the statement", REJECTED,
                    with_claim(theorem, claim, weaker)))
    bounds = [(i, p, k) for i, p in chains(theorem) for k, s in enumerate(p.steps) if type(s.move).__name__ == "Bound"]
    if bounds:
        index, part, k = bounds[0]
        steps = list(part.steps)
        tighter = sp.sympify(steps[k].rhs) - 1
        steps[k] = dataclasses.replace(steps[k], rhs=tighter)
        mutated = theorem
        if k + 1 < len(steps):
            steps[k + 1] = dataclasses.replace(steps[k + 1], lhs=tighter)
        else:
            new_claim = dataclasses.replace(part.claim, rhs=tighter)
            mutated = with_claim(theorem, part.claim, new_claim)
        out.append(("a false bound", "non-negative", with_steps(mutated, index, steps)))
    witnesses = [(i, p) for i, p in chains(theorem) if p.claim.relation == "!="]
    if witnesses:
        index, part = witnesses[0]
        values = dict(part.steps[0].move.values)
        constrained = [k for k in values if isinstance(k, sp.Symbol) and (k.is_positive or k.is_nonnegative)]
        if constrained:
            broken = {**values, constrained[0]: -1}
            out.append(("a '≠' whose witness breaks an assumption", "breaks the assumption",
                        with_steps(theorem, index, [dataclasses.replace(
                            part.steps[0], move=Witness(tuple(broken.items())))])))
        missing = dict(list(values.items())[1:])
        out.append(("a '≠' with an incomplete witness", "no value",
                    with_steps(theorem, index, [dataclasses.replace(part.steps[0],
                                                                    move=Witness(tuple(missing.items())))])))
    for index, part in families(theorem)[:1]:
        first = part.params[0]
        if first.values:
            cut = dataclasses.replace(first, values=first.values[:-1])
        else:
            cut = dataclasses.replace(first, high=sp.sympify(first.high) - 1)
        out.append(("a family quietly cut short", "does not run",
                    with_part(theorem, index, params=(cut, *part.params[1:]))))
        names = [str(p.symbol) for p in part.params]
        fixed = {names[0]: dict(part.shown)[part.params[0].symbol]}
        build = part.build
        out.append(("a family that ignores a parameter", "does not use its parameters",
                    with_part(theorem, index, build=lambda _b=build, _f=fixed, **case: _b(**{**case, **_f}))))
        trivial = [(p.symbol, p.trivial[-1]) for p in part.params if p.trivial]
        if trivial:
            shown = dict(part.shown)
            shown[trivial[0][0]] = trivial[0][1]
            out.append(("a degenerate example shown", "degenerate",
                        with_part(theorem, index, shown=tuple(shown.items()))))
        claim = part.claim
        overreach = dataclasses.replace(claim, text=f"For every {part.params[0].symbol}: " + claim.text)
        out.append(("an instance claim that says 'for every'", "quantifies", with_claim(theorem, claim, overreach)))
        if claim.relation == "!=" and part.witness is not None:
            witness = part.witness
            out.append(("a '≠' family whose witness shows nothing", "equal",
                        with_part(theorem, index, witness=lambda _w=witness, **case: tuple(
                            (k, 0) for k, _ in _w(**case)))))
    out.append(("a false statement in the prose", "states the theorem itself",
                dataclasses.replace(theorem, doc=theorem.doc + "\n**Statement.** It holds for every size.\n")))
    if general:
        claim = general[0]
        out.append(("a claim whose text asserts its own relation", "relation of its own",
                    with_claim(theorem, claim, dataclasses.replace(
                        claim, text=claim.text + " In particular $a = b$."))))
    return out


# ---------------------------------------------------------------- specific mutants, by theorem

def _part(theorem, label):
    return next((i, p) for i, p in enumerate(theorem.parts) if p.claim.label == label)


def _replace_definition(theorem, name, rhs):
    old = next(rule for rule in theorem.definitions if rule.name == name)
    new = dataclasses.replace(old, rhs=rhs)

    def swap(value):
        if value is old:
            return new
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: swap(getattr(value, f.name)) for f in dataclasses.fields(value)}
            if any(changes[k] is not getattr(value, k) for k in changes):
                return dataclasses.replace(value, **changes)
            return value
        if isinstance(value, tuple):
            items = tuple(swap(v) for v in value)
            return items if any(a is not b for a, b in zip(items, value)) else value
        return value

    return swap(theorem)


def _last_step_and_claim(theorem, label, rhs):
    index, part = _part(theorem, label)
    new_claim = dataclasses.replace(part.claim, rhs=rhs)
    steps = list(part.steps)
    steps[-1] = dataclasses.replace(steps[-1], rhs=rhs)
    return with_steps(with_claim(theorem, part.claim, new_claim), index, steps)


def _without_condition(theorem, label, position):
    index, part = _part(theorem, label)
    conditions = tuple(c for i, c in enumerate(part.claim.conditions) if i != position)
    return with_claim(theorem, part.claim, dataclasses.replace(part.claim, conditions=conditions))


def _without_hypothesis(theorem, label, name):
    index, part = _part(theorem, label)
    hypotheses = tuple(h for h in part.claim.hypotheses if h.name != name)
    return with_claim(theorem, part.claim, dataclasses.replace(part.claim, hypotheses=hypotheses))


def _false_differ(theorem, label, lhs):
    index, part = _part(theorem, label)
    claim = dataclasses.replace(part.claim, lhs=lhs)
    step = dataclasses.replace(part.steps[0], lhs=lhs)
    return with_steps(with_claim(theorem, part.claim, claim), index, [step])


SPECIFIC = {}


def specific(name):
    def register(function):
        SPECIFIC[name] = function
        return function
    return register


@specific("dft_shift")
def _(theorem):
    from convnet_invariances.proofs.dft_shift import N, k, n, omega, t, x
    index, part = _part(theorem, "(a)")
    yield "the wrong phase: ω^{k(t+1)}", "(a), step 10", _last_step_and_claim(theorem, "(a)", omega * part.claim.rhs)
    circular = sp.Abs(sp.Sum(x(sp.Mod(n - t, N)) * sp.exp(-2 * sp.pi * sp.I * k * n / N), (n, 0, N - 1)))
    yield "a false '≠': a circular shift 'changes' the magnitude", "equal", _false_differ(theorem, "(e)", circular)
    yield "periodicity dropped", "does not state", _without_hypothesis(theorem, "(a)", "periodicity")


@specific("circulant")
def _(theorem):
    index, part = _part(theorem, "(d)")
    entries = sorted(part.claim.lhs.free_symbols, key=str)  # a_0_0, a_0_1, a_1_0, a_1_1
    identity = {s: (1 if i in (0, 3) else 0) for i, s in enumerate(entries)}
    yield ("a false '≠': the identity matrix as the 'generic' one", "equal",
           with_steps(theorem, index, [dataclasses.replace(part.steps[0], move=Witness(tuple(identity.items())))]))
    index, part = _part(theorem, "(a)")
    from convnet_invariances.proofs.circulant import N, c, i, j
    yield ("a wrong index: c((i − j + 1) mod N)", "(a), step",
           with_steps(theorem, index, [part.steps[0], dataclasses.replace(part.steps[1], rhs=c(sp.Mod(i - j + 1, N))),
                                       dataclasses.replace(part.steps[2], lhs=c(sp.Mod(i - j + 1, N))), part.steps[3]]))


@specific("stride")
def _(theorem):
    index, part = _part(theorem, "(c)")
    s, t, u = (p.symbol for p in part.params)
    yield ("shifts the stride divides, claimed to break equivariance", REJECTED,
           with_part(theorem, index, params=(part.params[0], Param(t, 0, s - 1), part.params[2])))
    from convnet_invariances.proofs.stride import n, s as stride, t as shift, x
    index, part = _part(theorem, "(a)")
    steps = list(part.steps)
    steps[2] = dataclasses.replace(steps[2], rhs=x(stride * (n + shift)))
    steps[3] = dataclasses.replace(steps[3], lhs=x(stride * (n + shift)))
    yield "a wrong sign: s(n + t)", "(a), step 3", with_steps(theorem, index, steps)


@specific("zero_padding")
def _(theorem):
    yield ("the old statement: only the output n in the interior", "(a), step 4",
           _without_condition(theorem, "(a)", 2))
    from convnet_invariances.proofs.zero_padding import N, d, n, r
    index, part = _part(theorem, "(a)")
    narrow = (part.claim.conditions[0], Between(n, d * r - 1, N - 1 - d * r), part.claim.conditions[2])
    yield ("an interior one sample short of its margin", "(a), step 2", with_claim(
        theorem, part.claim, dataclasses.replace(part.claim, conditions=narrow)))


@specific("pointwise_and_composition")
def _(theorem):
    index, part = _part(theorem, "(g)")
    claim = dataclasses.replace(part.claim, relation="!=", text="The old statement: the composite is exactly as "
                                "invariant as its least equivariant stage, so it is not invariant, {scope}.")

    def anything(**case):
        return tuple((sp.Symbol(f"x{i}"), i) for i in range(case["N"]))

    mutated = with_part(with_claim(theorem, part.claim, claim), index, witness=anything)
    yield "the old false statement about composites", "equal", mutated
    yield "a family cut to one size", "does not run", with_part(
        theorem, index, params=(dataclasses.replace(part.params[0], values=(4,)), part.params[1]))


@specific("max_pooling")
def _(theorem):
    index, part = _part(theorem, "(b)")
    half = part.claim.rhs / 2
    yield "a bound too tight by half", REJECTED, _last_step_and_claim(theorem, "(b)", half)
    yield "the maximum not kept in the window", REJECTED, _without_hypothesis(
        theorem, "Lemma 2", "the maximum stays in the window")


@specific("mellin_scaling")
def _(theorem):
    from convnet_invariances.proofs.mellin_scaling import a, sigma
    index, part = _part(theorem, "(b)")
    steps = list(part.steps)
    steps[-1] = dataclasses.replace(steps[-1], rhs=steps[-1].rhs * a ** sigma)
    yield "the factor a^σ forgotten: the old unnormalised claim", REJECTED, with_steps(
        with_claim(theorem, part.claim, dataclasses.replace(part.claim, rhs=steps[-1].rhs)), index, steps)
    index, part = _part(theorem, "(c)")
    yield ("a false '≠' at σ = 0, where the factor has modulus one", REJECTED, with_steps(theorem, index, [
        dataclasses.replace(part.steps[0], move=Witness(tuple(
            (k, 0 if str(k) == "sigma" else v) for k, v in part.steps[0].move.values)))]))


@specific("rot90_conv")
def _(theorem):
    from convnet_invariances.proofs.rot90_conv import p1, p2, x
    yield "rot90 in the wrong direction", REJECTED, _replace_definition(theorem, "rotating the image", x(-p2, p1))
    index, part = _part(theorem, "(e)")
    yield "the torch convention checked only where it cannot fail", "does not run", with_part(
        theorem, index, params=(dataclasses.replace(part.params[0], high=2),))


@specific("averaging_bound")
def _(theorem):
    yield "the bound without a bounded signal", "needs the hypothesis", _without_hypothesis(
        theorem, "(a)", "$x$ is bounded")
    from convnet_invariances.proofs.averaging_bound import sigma
    index, part = _part(theorem, "(b)")
    yield "the Gaussian's constant off by two", REJECTED, _last_step_and_claim(
        theorem, "(b)", 2 * sp.sqrt(2 / sp.pi) / sigma)


@specific("equivariance_vs_invariance")
def _(theorem):
    index, part = _part(theorem, "(d)")
    claim = Claim("(d)", "The old statement: an equivariant map is not invariant unless its action is trivial, "
                         "{formula} for some signal.", part.claim.lhs, part.claim.lhs.func(part.claim.lhs.args[0]),
                  "!=")
    lemma_index, lemma = _part(theorem, "Lemma 1")
    false = dataclasses.replace(claim, lhs=lemma.claim.lhs, rhs=lemma.claim.rhs)
    from convnet_invariances.proofs.equivariance_vs_invariance import N, p, t, x
    from convnet_invariances.proofs.equivariance_vs_invariance import m as m_
    step = Step(false.lhs, false.rhs, Witness(((N, 3), (p, 0), (t, 1), (x, sp.Lambda(m_, m_)))))
    yield "the old false statement, with a witness that shows nothing", REJECTED, with_steps(
        with_claim(theorem, part.claim, false), index, [step])
    yield "invariance claimed without the fixed-point hypothesis", "does not state", _without_hypothesis(
        theorem, "(b)", "$\\rho(g)$ fixes the outputs of $f$")


@specific("lp_pooling")
def _(theorem):
    from convnet_invariances.proofs.lp_pooling import m, t, x
    yield "a shift the stride does not divide", REJECTED, _replace_definition(theorem, "the shift by $st$",
                                                                              x(m - t))


@specific("polyphase_sampling")
def _(theorem):
    yield "APS without a unique largest component", "needs the hypothesis", _without_hypothesis(
        theorem, "(d)", "$x$'s largest component is $c$")
    index, part = _part(theorem, "(e)")
    yield "the wrap-around case moved by q instead of q + 1", REJECTED, _last_step_and_claim(
        theorem, "(e)", part.claim.rhs.func(part.claim.rhs.args[0] + 1))


@specific("aliasing")
def _(theorem):
    yield "equal magnitudes without the band limit", "does not state", _without_hypothesis(
        theorem, "(c)", "no energy in the folded band at $k$")
    index, part = _part(theorem, "(d)")
    from convnet_invariances.proofs.aliasing import M, k
    yield "the filter's response with the wrong frequency", REJECTED, _last_step_and_claim(
        theorem, "(d)", sp.cos(sp.pi * k / M) ** 2)


@specific("circulant_diagonalisation")
def _(theorem):
    index, part = _part(theorem, "(a)")
    from convnet_invariances.proofs.circulant_diagonalisation import k
    wrong = part.claim.rhs.xreplace({k: -k})
    yield "eigenvalue ĉ[−k] for the eigenvector f_k", REJECTED, _last_step_and_claim(theorem, "(a)", wrong)


@specific("group_averaging")
def _(theorem):
    yield "invariance without S_{g+N} = S_g", "does not state", _without_hypothesis(
        theorem, "(a)", "shifts by N are the identity")
    index, part = _part(theorem, "(b)")
    yield "the decomposition checked for one orbit size", "does not run", with_part(
        theorem, index, params=(dataclasses.replace(part.params[0], high=1),))


@specific("multiresolution")
def _(theorem):
    index, part = _part(theorem, "(d)")
    from convnet_invariances.proofs.multiresolution import depth
    wrong = part.claim.rhs.xreplace({depth - 1: depth})
    yield "level l mapped to level l (no shift of levels)", REJECTED, _last_step_and_claim(theorem, "(d)", wrong)


@specific("scattering")
def _(theorem):
    from convnet_invariances.proofs.scattering import beta, eps
    yield "a deformation bound too tight by two", REJECTED, _last_step_and_claim(theorem, "(f)",
                                                                                 eps**2 / (8 * beta**2))
    yield "equivariance without the modulus commuting with shifts", REJECTED, _without_hypothesis(
        theorem, "Lemma 1", "the modulus commutes with shifts")


@specific("toeplitz")
def _(theorem):
    from convnet_invariances.proofs.toeplitz import N, i, r
    index, part = _part(theorem, "(b)")
    claim = dataclasses.replace(part.claim, conditions=(Between(i, r - 1, N - r),))
    yield "rows one sample too close to the border", REJECTED, with_claim(theorem, part.claim, claim)


@specific("conv_shift")
def _(theorem):
    from convnet_invariances.proofs.conv_shift import K, k, n, t, x
    index, part = _part(theorem, "(a)")
    steps = list(part.steps)
    wrong = sp.Sum(K(k) * x(n + k + t), (k, -sp.oo, sp.oo))
    steps[1] = dataclasses.replace(steps[1], rhs=wrong)
    steps[2] = dataclasses.replace(steps[2], lhs=wrong)
    yield "S_t read as S_{−t}", "(a), step 2", with_steps(theorem, index, steps)


# ---------------------------------------------------------------- the suite

def all_mutants():
    for theorem in theorems():
        for name, expected, mutant in generic_mutants(theorem):
            yield pytest.param(mutant, expected, id=f"{theorem.name}: {name}")
        for name, expected, mutant in SPECIFIC.get(theorem.name, lambda t: ())(theorem):
            yield pytest.param(mutant, expected, id=f"{theorem.name}: {name} (specific)")


MUTANTS = list(all_mutants())


@pytest.mark.parametrize("mutant, expected", MUTANTS)
def test_every_mutant_is_rejected(mutant, expected):
    verdict = check(mutant, first_error=True)
    assert not verdict.ok, "the checker accepted a wrong proof"
    if expected != REJECTED:
        assert any(expected in error for error in verdict.errors), verdict.errors


def test_every_theorem_has_specific_mutants_and_the_suite_covers_each_kind():
    assert {t.name for t in theorems()} <= set(SPECIFIC)
    kinds = Counter(param.id.split(": ", 1)[1] for param in MUTANTS)
    for kind in ("false statement: wrong sign in the statement", "wrong index in a middle step",
                 "a family quietly cut short", "a false statement in the prose", "a false bound",
                 "empty substitution: a step that changes nothing", "a degenerate example shown",
                 "a '≠' with an incomplete witness"):
        assert kinds[kind] >= 1, kind
    assert len(MUTANTS) >= 150
