"""What a theorem is made of, and the checker that decides whether its proof proves it.

A :class:`Theorem` has a machine-readable statement (a tuple of
:class:`Claim`), declared definitions, hypotheses and facts (:class:`Rule`),
and a proof made of parts: a :class:`Chain` of :class:`Step` for a claim proved
in general, :class:`Instances` for a claim verified case by case.  Every step
names its move (re-index a sum, split a range, use a hypothesis, algebra, …);
the checker performs the move itself and compares the result with the step's
right side.  The rules it enforces are listed in :func:`check`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Union

import sympy as sp

from ._algebra import (
    as_list,
    equal,
    is_zero,
    prove_condition,
    prove_nonnegative,
    reduce_arguments,
    reduce_powers,
    rewrite,
)

Relation = Literal["=", "<=", "!="]


# ====================================================================== notation

def notation(name: str, template: str, nargs: int = 1) -> type[sp.Function]:
    """A sympy function that prints as ``template`` (``{0}``, ``{1}``… are its arguments' LaTeX).

    Notation keeps a step's left side unevaluated: ``(K ⋆ S_t x)[n]`` stays a
    symbol of its own until a definition unfolds it.

    import sympy as sp
    >>> import sympy as sp
    >>> n = sp.Symbol("n")
    >>> Shifted = notation("Shifted", r"(S_t x)[{0}]")
    >>> sp.latex(Shifted(n - 1))
    '(S_t x)[n - 1]'
    """

    def _latex(self, printer):
        return template.format(*[printer._print(arg) for arg in self.args])

    return type(name, (sp.Function,), {"nargs": nargs, "_latex": _latex, "__module__": __name__})


class Maximum(sp.Function):
    """``Maximum(body, i)``: the largest value of ``body`` over the index ``i`` (a finite window).

    import sympy as sp
    >>> import sympy as sp
    >>> i = sp.Symbol("i"); a = sp.Function("a")
    >>> sp.latex(Maximum(a(i), i))
    '\\\\max_{i} a{\\\\left(i \\\\right)}'
    """

    nargs = 2

    @property
    def free_symbols(self):
        return self.args[0].free_symbols - {self.args[1]}

    def _latex(self, printer):
        return r"\max_{%s} %s" % (printer._print(self.args[1]), printer._print(self.args[0]))


class MaxOf(sp.Function):
    """The maximum of its arguments, kept unevaluated and in order until ``doit()`` (sympy's Max sorts them).

    import sympy as sp
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> MaxOf(b, a).args, MaxOf(b, a).doit() == sp.Max(a, b)
    ((b, a), True)
    """

    def doit(self, **hints):
        deep = hints.get("deep", True)
        return sp.Max(*[arg.doit(**hints) if deep else arg for arg in self.args])

    def _latex(self, printer):
        return r"\max\left(%s\right)" % ", ".join(printer._print(arg) for arg in self.args)


class Shown(sp.Function):
    """A computed value displayed by a short label: ``Shown(r"K \\star x", [...])``.

    A family of polynomial identities built from arrays evaluates both sides to
    the same polynomials, so they would print identically; the document shows
    the labels instead, and the checker compares the values.

    import sympy as sp
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> sp.latex(Shown("f(x)", [a + b, a])), Shown("f(x)", [a + b, a]).value
    ('f(x)', [a + b, a])
    """

    is_shown = True

    def __new__(cls, label, values):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        return super().__new__(cls, sp.Symbol(label), sp.Tuple(*values))

    @property
    def value(self):
        return list(self.args[1])

    def _latex(self, printer):
        return self.args[0].name


def instantiate(expr, subs: Mapping | None):
    """``expr`` with symbols and undefined functions replaced, all at once (functions by a function or a ``Lambda``).

    import sympy as sp
    >>> import sympy as sp
    >>> a, b = sp.Function("a"), sp.Function("b")
    >>> i = sp.Symbol("i")
    >>> instantiate(a(i) - b(i), {a: b, b: a})
    -a(i) + b(i)
    """
    if not subs:
        return expr
    if isinstance(expr, (list, tuple)):
        return type(expr)(instantiate(e, subs) for e in expr)
    expr = sp.sympify(expr)
    symbols = {k: sp.sympify(v) for k, v in subs.items() if isinstance(k, sp.Basic)}
    functions = {k: v for k, v in subs.items() if isinstance(k, sp.core.function.UndefinedFunction)}
    # through placeholders, so that a ↦ b, b ↦ a swaps instead of merging
    placeholders = {key: sp.Function(f"_placeholder_{index}") for index, key in enumerate(functions)}
    for key, placeholder in placeholders.items():
        expr = expr.replace(key, placeholder)
    if symbols:
        expr = expr.xreplace(symbols)
    for key, placeholder in placeholders.items():
        expr = expr.replace(placeholder, functions[key])
    return expr


def latex(value) -> str:
    """LaTeX of an expression, a matrix, or a list (as a tuple): what a document shows.

    import sympy as sp
    >>> import sympy as sp
    >>> latex([sp.Symbol("a"), 2]).startswith(r"\\left(a, 2")
    True
    """
    if isinstance(value, (list, tuple)):
        return r"\left(" + ", ".join(latex(v) for v in value) + r"\right)"
    return sp.latex(value)


# ====================================================================== declarations

@dataclass(frozen=True)
class Rule:
    """A definition, hypothesis, fact or proved lemma: ``lhs = rhs`` (or ``≤``) for every value of ``variables``.

    ``when`` are conditions on the variables; a use is accepted only where they
    follow from the ranges in force.  ``kind`` decides how it may be used:
    definitions are unfolded and folded, hypotheses must be stated by the claim
    that uses them, facts are standard results the checker takes on trust and
    every document lists.

    import sympy as sp
    >>> import sympy as sp
    >>> m, t = sp.symbols("m t", integer=True)
    >>> x = sp.Function("x")
    >>> Rule("shift", notation("S", r"(S_t x)[{0}]")(m), x(m - t), "definition", (m,)).latex()
    '(S_t x)[m] := x{\\\\left(m - t \\\\right)}'
    """

    name: str
    lhs: Any
    rhs: Any
    kind: Literal["definition", "hypothesis", "fact", "lemma"]
    variables: tuple = ()
    when: tuple = ()
    relation: Literal["=", "<="] = "="
    text: str = ""
    needs: tuple = ()

    def latex(self) -> str:
        symbol = ":=" if self.kind == "definition" else (r"\le" if self.relation == "<=" else "=")
        body = f"{latex(self.lhs)} {symbol} {latex(self.rhs)}"
        if self.when:
            body += r" \quad \text{when } " + r",\ ".join(sp.latex(c) for c in self.when)
        return body


@dataclass(frozen=True)
class RootOfUnity:
    """The hypothesis ``base**order = value`` (``value`` 1: an order-th root of unity; −1: ω^{N/2} for a primitive ω).

    Used by reducing exponents: ``ω**(k(m − N)) = ω**(km)`` for an integer k.

    >>> import sympy as sp
    >>> w, N = sp.Symbol("omega"), sp.Symbol("N", integer=True, positive=True)
    >>> RootOfUnity("root", w, N).order
    N
    """

    name: str
    base: sp.Symbol
    order: sp.Expr
    value: sp.Expr = sp.Integer(1)
    kind: str = "hypothesis"
    text: str = ""

    def latex(self) -> str:
        return f"{sp.latex(self.base ** self.order)} = {sp.latex(self.value)}"


@dataclass(frozen=True)
class Periodic:
    """The hypothesis that ``function`` is ``period``-periodic in its argument number ``argument``.

    A signal on ℤ/N is read as an N-periodic signal on ℤ; the checker uses the
    hypothesis by reducing an argument by its integer multiple of the period:
    ``x(m − N) = x(m)``.

    >>> import sympy as sp
    >>> Periodic("periodicity", sp.Function("x"), sp.Symbol("N")).period
    N
    """

    name: str
    function: Any
    period: sp.Expr
    argument: int = 0
    arity: int = 1
    kind: str = "hypothesis"
    text: str = ""

    def latex(self) -> str:
        slots = [sp.Symbol(f"a_{i}") for i in range(self.arity)]
        slots[self.argument] = sp.Symbol("m")
        moved = list(slots)
        moved[self.argument] = sp.Symbol("m") + self.period
        return f"{sp.latex(self.function(*moved))} = {sp.latex(self.function(*slots))}"


@dataclass(frozen=True)
class Between:
    """The condition ``low ≤ expr ≤ high`` (``high`` may be ``oo``, ``low`` may be ``-oo``).
    >>> import sympy as sp
    >>> t, N = sp.symbols("t N")
    >>> Between(t, 0, N - 1).box()[:3]
    (t, 0, N - 1)
    """

    expr: sp.Expr
    low: sp.Expr
    high: sp.Expr = sp.oo

    def box(self):
        """The range as a stated box for the condition prover (a point of the claim lies in it)."""
        return (sp.sympify(self.expr), sp.sympify(self.low), sp.sympify(self.high), True)

    def latex(self) -> str:
        if self.high == sp.oo:
            return f"{sp.latex(self.expr)} \\ge {sp.latex(self.low)}"
        return f"{sp.latex(self.low)} \\le {sp.latex(self.expr)} \\le {sp.latex(self.high)}"


@dataclass(frozen=True)
class Param:
    """A parameter of a family of instances: ``low ≤ symbol ≤ high`` (bounds may use earlier parameters) or ``values``.

    ``trivial`` are values where the case says nothing (the identity shift, a
    size that hides errors): the example a document shows may not use them.

    >>> import sympy as sp
    >>> N, t = sp.symbols("N t", integer=True)
    >>> Param(N, 2, 3).range({}), Param(t, 1, N - 1).range({N: 3})
    ([2, 3], [1, 2])
    """

    symbol: sp.Symbol
    low: Any = None
    high: Any = None
    values: tuple = ()
    trivial: tuple = ()

    def range(self, bound: Mapping) -> list:
        if self.values:
            return list(self.values)
        low, high = (int(sp.sympify(v).xreplace(bound)) for v in (self.low, self.high))
        return list(range(low, high + 1))

    def latex(self) -> str:
        if self.values:
            return f"{sp.latex(self.symbol)} \\in \\{{{', '.join(str(v) for v in self.values)}\\}}"
        return f"{sp.latex(sp.sympify(self.low))} \\le {sp.latex(self.symbol)} \\le {sp.latex(sp.sympify(self.high))}"


def cases(params: Sequence[Param]) -> list[dict]:
    """Every assignment of the parameters, in order (later bounds see earlier values)."""
    out: list[dict] = [{}]
    for param in params:
        out = [{**case, param.symbol: value} for case in out for value in param.range(case)]
    return out


Fact = Union[Rule, RootOfUnity, Periodic]


@dataclass(frozen=True)
class Claim:
    """One statement: ``lhs relation rhs`` for all values of its symbols, under ``hypotheses`` and ``conditions``.

    ``text`` is the sentence a reader sees; ``{formula}`` is replaced by the
    relation rendered from ``lhs``/``rhs``, ``{scope}`` (claims checked on
    instances, ``scope`` non-empty) by the parameters actually run.  The text
    states no relation of its own: what it claims is what is checked.
    ``variables`` are the symbols a later step may instantiate when it uses
    this claim as a lemma.

    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> Claim("(a)", "Commuting: {formula}.", a * b, b * a).general
    True
    """

    label: str
    text: str
    lhs: Any = None
    rhs: Any = None
    relation: Relation = "="
    hypotheses: tuple = ()
    conditions: tuple = ()
    variables: tuple = ()
    scope: tuple = ()
    lemma: bool = False

    @property
    def general(self) -> bool:
        return not self.scope

    def formula(self) -> str:
        if self.lhs is None:
            return ""
        symbol = {"=": "=", "<=": r"\le", "!=": r"\neq"}[self.relation]
        return f"{latex(self.lhs)} {symbol} {latex(self.rhs)}"

    def as_rule(self) -> Rule:
        return Rule(self.label, self.lhs, self.rhs, "lemma", tuple(self.variables),
                    tuple(sp.And(c.low <= c.expr, c.expr <= c.high) if c.high != sp.oo else c.low <= c.expr
                          for c in self.conditions),
                    "<=" if self.relation == "<=" else "=")


# ====================================================================== moves

@dataclass(frozen=True)
class Algebra:
    """``lhs = rhs`` by sympy's simplification, after ``doit()`` (sums over equal ranges compared term by term).
    >>> Algebra().describe()
    'algebra (sympy: the difference simplifies to 0)'
    """

    relation = "="

    def describe(self) -> str:
        return "algebra (sympy: the difference simplifies to 0)"


@dataclass(frozen=True)
class Unfold:
    """Replace a notation by its declared definition.
    >>> import sympy as sp
    >>> rule = Rule("the square", sp.Symbol("q"), sp.Symbol("a") ** 2, "definition")
    >>> Unfold(rule).describe()
    'by definition of the square'
    """

    rule: Rule
    relation = "="

    def describe(self) -> str:
        return f"by definition of {self.rule.name}"


@dataclass(frozen=True)
class Fold:
    """The reverse of :class:`Unfold`: recognise a definition's right side (checked by unfolding the step's rhs).
    >>> import sympy as sp
    >>> Fold(Rule("the square", sp.Symbol("q"), sp.Symbol("a") ** 2, "definition")).describe()
    'recognise the definition of the square'
    """

    rule: Rule
    relation = "="

    def describe(self) -> str:
        return f"recognise the definition of {self.rule.name}"


@dataclass(frozen=True)
class Use:
    """Rewrite with a hypothesis, a fact, a root of unity or a lemma proved above (``subs`` instantiates it).
    >>> import sympy as sp
    >>> Use(Rule("h", sp.Symbol("u"), sp.Integer(1), "hypothesis")).describe()
    'by the hypothesis h: $u = 1$'
    """

    rule: Any
    subs: tuple = ()
    reverse: bool = False

    @property
    def relation(self):
        return "="

    def describe(self) -> str:
        rule = self.rule
        kinds = {"hypothesis": "by the hypothesis", "fact": "by the fact", "lemma": "by",
                 "definition": "by definition of"}
        kind = kinds["lemma" if isinstance(rule, Claim) else getattr(rule, "kind", "lemma")]
        name = rule.label if isinstance(rule, Claim) else rule.name
        formula = rule.latex() if not isinstance(rule, Claim) else rule.formula()
        direction = " (right to left)" if self.reverse else ""
        return f"{kind} {name}{direction}: ${formula}$"


@dataclass(frozen=True)
class Reindex:
    """Change the index of a sum: ``new_variable = new_index`` (an expression of the old index, shift or sign flip).

    ``start`` (optional) picks the sum whose range starts there, when several
    sums share the index.

    >>> import sympy as sp
    >>> n, m, t = sp.symbols("n m t", integer=True)
    >>> Reindex(n, n - t, m).describe()
    're-index the sum: $m = n - t$'
    """

    variable: sp.Symbol
    new_index: sp.Expr
    new_variable: sp.Symbol
    start: Any = None
    relation = "="

    def describe(self) -> str:
        which = "" if self.start is None else f" from ${sp.latex(self.variable)} = {sp.latex(self.start)}$"
        return f"re-index the sum{which}: ${sp.latex(self.new_variable)} = {sp.latex(self.new_index)}$"


@dataclass(frozen=True)
class Split:
    """Split a sum over ``variable`` at ``at``: ``a … b`` into ``a … at−1`` and ``at … b`` (needs ``a ≤ at ≤ b+1``).

    ``start`` (optional) picks the sum whose range starts there.

    >>> import sympy as sp
    >>> Split(sp.Symbol("m"), 0).describe()
    'split the range of $m$ at $0$'
    """

    variable: sp.Symbol
    at: sp.Expr
    start: Any = None
    relation = "="

    def describe(self) -> str:
        which = "" if self.start is None else f" (the sum from ${sp.latex(self.start)}$)"
        return f"split the range of ${sp.latex(self.variable)}$ at ${sp.latex(self.at)}${which}"


@dataclass(frozen=True)
class Merge:
    """Merge two sums of the same summand over adjacent ranges ``a … b`` and ``b+1 … c``.
    >>> import sympy as sp
    >>> Merge(sp.Symbol("m")).describe()
    'merge the adjacent ranges of $m$'
    """

    variable: sp.Symbol
    relation = "="

    def describe(self) -> str:
        return f"merge the adjacent ranges of ${sp.latex(self.variable)}$"


@dataclass(frozen=True)
class Polyphase:
    """Split ``Σ_{n=0}^{sM−1}`` into ``Σ_{j=0}^{s−1} Σ_{m=0}^{M−1}`` with ``n = s·m + j`` (polyphase components).
    >>> import sympy as sp
    >>> n, j, m = sp.symbols("n j m", integer=True)
    >>> Polyphase(n, 2, j, m).describe()
    'polyphase split: $n = 2m + j$'
    """

    variable: sp.Symbol
    stride: sp.Expr
    phase: sp.Symbol
    new_variable: sp.Symbol
    relation = "="

    def describe(self) -> str:
        return (f"polyphase split: ${sp.latex(self.variable)} = {sp.latex(self.stride)}"
                f"{sp.latex(self.new_variable)} + {sp.latex(self.phase)}$")


@dataclass(frozen=True)
class Swap:
    """Exchange the order of two summations (finitely many non-zero terms, or absolutely convergent).
    >>> import sympy as sp
    >>> Swap(*sp.symbols("a b")).describe()
    'exchange the sums over $a$ and $b$'
    """

    first: sp.Symbol
    second: sp.Symbol
    relation = "="

    def describe(self) -> str:
        return f"exchange the sums over ${sp.latex(self.first)}$ and ${sp.latex(self.second)}$"


@dataclass(frozen=True)
class Substitute:
    """Change of variables in an integral: ``new_variable = new_expr`` (an expression of the old variable).
    >>> import sympy as sp
    >>> u, v, a = sp.symbols("u v a")
    >>> Substitute(u, u - a, v).describe()
    'substitute $v = - a + u$ in the integral'
    """

    variable: sp.Symbol
    new_expr: sp.Expr
    new_variable: sp.Symbol
    relation = "="

    def describe(self) -> str:
        return f"substitute ${sp.latex(self.new_variable)} = {sp.latex(self.new_expr)}$ in the integral"


@dataclass(frozen=True)
class Instance:
    """One inequality fact or hypothesis at given values of its variables (used by :class:`Bound`).
    >>> import sympy as sp
    >>> y = sp.Symbol("y", real=True)
    >>> fact = Rule("y ≤ |y|", y, sp.Abs(y), "fact", (y,), relation="<=")
    >>> Instance(fact, ((y, -y),)).weight
    1
    """

    rule: Any
    subs: tuple = ()
    weight: sp.Expr = sp.Integer(1)


@dataclass(frozen=True)
class Bound:
    """``lhs ≤ rhs`` because ``rhs − lhs − Σ weight·(gap of each use)`` is non-negative (usually 0).

    Each use is an :class:`Instance` of a ``≤`` hypothesis, fact or lemma; its
    gap is ``its rhs − its lhs``.  Nothing else may be assumed: the remainder must
    be non-negative from the symbols' assumptions and the claim's ranges.

    >>> import sympy as sp
    >>> y = sp.Symbol("y", real=True)
    >>> Bound((Instance(Rule("y ≤ |y|", y, sp.Abs(y), "fact", (y,), relation="<="),),)).describe()
    'bound using y ≤ |y|'
    """

    uses: tuple
    relation = "<="

    def describe(self) -> str:
        names = ", ".join(_name(u.rule) for u in self.uses)
        return f"bound using {names}"


@dataclass(frozen=True)
class UpperBound:
    """``max_i f(i) ≤ c`` from ``f(i) ≤ c`` for every ``i`` (a lemma or hypothesis): a max is at most any upper bound.
    >>> import sympy as sp
    >>> i, M = sp.symbols("i M")
    >>> UpperBound(Rule("bounded", sp.Function("u")(i), M, "hypothesis", (i,), relation="<=")).relation
    '<='
    """

    lemma: Any
    relation = "<="

    def describe(self) -> str:
        return f"every value is at most the bound ({_name(self.lemma)}), so the maximum is too"


@dataclass(frozen=True)
class Antisymmetry:
    """``a = b`` from lemmas ``a ≤ b`` and ``b ≤ a``.
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> Antisymmetry(Claim("L1", "{formula}", a, b, "<="), Claim("L2", "{formula}", b, a, "<=")).relation
    '='
    """

    upper: Claim
    lower: Claim
    relation = "="

    def describe(self) -> str:
        return f"both inequalities hold ({self.upper.label} and {self.lower.label})"


@dataclass(frozen=True)
class AbsoluteBound:
    """``|y| ≤ c`` from lemmas ``y ≤ c`` and ``−y ≤ c``.
    >>> import sympy as sp
    >>> y, c = sp.symbols("y c")
    >>> AbsoluteBound(Claim("L1", "{formula}", y, c, "<="), Claim("L2", "{formula}", -y, c, "<=")).relation
    '<='
    """

    upper: Claim
    lower: Claim
    relation = "<="

    def describe(self) -> str:
        return f"$y \\le c$ and $-y \\le c$ ({self.upper.label}, {self.lower.label}) give $|y| \\le c$"


@dataclass(frozen=True)
class Witness:
    """``lhs ≠ rhs`` shown by values (numbers, functions as ``Lambda``) that respect every assumption and hypothesis.
    >>> import sympy as sp
    >>> Witness(((sp.Symbol("N"), 2),)).describe()
    'a witness: $N = 2$'
    """

    values: tuple
    relation = "!="

    def describe(self) -> str:
        shown = ", ".join(f"{_value_name(k)} = {sp.latex(v)}" for k, v in self.values)
        return f"a witness: ${shown}$"


def _value_name(key):
    return sp.latex(key) if isinstance(key, sp.Basic) else str(key)


def _name(rule):
    return rule.label if isinstance(rule, Claim) else rule.name


Move = Union[Algebra, Unfold, Fold, Use, Reindex, Split, Merge, Polyphase, Swap, Substitute, Bound, UpperBound,
             Antisymmetry, AbsoluteBound, Witness]


@dataclass(frozen=True)
class Step:
    """One step ``lhs REL rhs``: the move names the reason, ``text`` explains it in words.
    >>> import sympy as sp
    >>> a = sp.Symbol("a")
    >>> Step(a + a, 2 * a).relation
    '='
    """

    lhs: Any
    rhs: Any
    move: Any = field(default_factory=Algebra)
    text: str = ""

    @property
    def relation(self) -> Relation:
        return self.move.relation


def derive(start, *moves) -> tuple:
    """Steps from ``start``: each item is ``(rhs, move)`` or ``(rhs, move, text)``; each starts where the last ended.

    import sympy as sp
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> [step.rhs for step in derive((a + b) ** 2, (a**2 + 2*a*b + b**2, Algebra()))]
    [a**2 + 2*a*b + b**2]
    """
    steps, lhs = [], start
    for item in moves:
        rhs, move, *text = item
        steps.append(Step(lhs, rhs, move, text[0] if text else ""))
        lhs = rhs
    return tuple(steps)


@dataclass(frozen=True)
class Chain:
    """A claim proved in general: its steps go from ``claim.lhs`` to ``claim.rhs``.
    >>> import sympy as sp
    >>> a = sp.Symbol("a")
    >>> claim = Claim("(a)", "Doubling: {formula}.", a + a, 2 * a)
    >>> len(Chain(claim, derive(a + a, (2 * a, Algebra()))).steps)
    1
    """

    claim: Claim
    steps: tuple
    text: str = ""


@dataclass(frozen=True)
class Instances:
    """A claim verified on every case of ``params``: ``build(case) -> (lhs, rhs)``; ``shown`` is the case displayed.

    ``witness(case)`` gives the values that separate the sides of a ``≠`` family.

    >>> import sympy as sp
    >>> N = sp.Symbol("N", integer=True)
    >>> claim = Claim("(b)", "Sums of ones, {scope}.", scope=(Param(N, 2, 4),))
    >>> part = Instances(claim, lambda N: (sp.Add(*[1] * N, evaluate=False), N), claim.scope, ((N, 3),))
    >>> part.relation
    '='
    """

    claim: Claim
    build: Callable
    params: tuple
    shown: tuple
    witness: Callable | None = None
    text: str = ""

    @property
    def relation(self) -> Relation:
        return self.claim.relation


@dataclass(frozen=True)
class Twin:
    """The numeric twin: a test in ``tests/`` and a paragraph saying what it checks.
    >>> Twin("tests/proofs/test_proof_twins.py::test_x", "What it checks.").test.split("::")[1]
    'test_x'
    """

    test: str
    text: str


@dataclass(frozen=True, repr=False)
class Theorem:
    """A theorem: its prose (``doc``), its statement, its declarations and its proof.
    >>> theorems()[0]
    Theorem(1, 'conv_shift': 'Cross-correlation commutes with translation.')
    """

    def __repr__(self) -> str:
        return f"Theorem({self.number}, {self.name!r}: {self.title!r})"

    title: str
    doc: str
    statement: tuple
    parts: tuple
    definitions: tuple = ()
    hypotheses: tuple = ()
    facts: tuple = ()
    twin: Twin | None = None
    name: str = ""
    number: int = 0

    @property
    def general(self) -> bool:
        return all(claim.general for claim in self.statement)


# ====================================================================== the checker

@dataclass(repr=False)
class Verdict:
    """What the checker found: ``errors`` (empty when the proof proves the statement) and what it counted.
    >>> check(theorems()[0]).ok
    True
    """

    theorem: Theorem
    errors: list = field(default_factory=list)
    steps: int = 0
    cases: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def __repr__(self) -> str:
        return f"Verdict({self.theorem!r}, ok={self.ok}, steps={self.steps}, errors={self.errors!r})"


_RELATION_IN_MATH = re.compile(r"(?<![\\a-zA-Z])(=|<|>)|\\(le|ge|leq|geq|ne|neq|lt|gt|approx|equiv)(?![a-zA-Z])")
_MATH = re.compile(r"\$([^$]*)\$")
_JARGON = ("seed",)


def check(theorem: Theorem, *, first_error: bool = False) -> Verdict:
    """Check a theorem; the verdict lists every rule that fails.

    The rules:

    1. The documents' prose (``doc``) opens with the title, has a
       "**Proof in words.**" paragraph, no statement of its own (the statement
       is generated from the claims) and no internal jargon.
    2. The statement is non-empty; every claim in it is proved by exactly one
       part; every other part proves a claim marked as a lemma.
    3. A claim's text has ``{formula}`` (general claims) or ``{scope}``
       (instances), no relation inside its math, and an instance claim's text
       names no sizes outside its math (they come from the parameters) nor
       "every/all" of them.
    4. A chain starts at ``claim.lhs``, each step starts where the previous
       one ended, the last step ends at ``claim.rhs``; ``=`` claims use only
       ``=`` steps, ``≤`` claims ``=`` and ``≤`` steps, ``≠`` claims one witness.
    5. No step shows the same text on both sides; each move is carried out by
       the checker and must give the step's right side; a hypothesis used must
       be stated by the claim; a lemma used must be proved above and its
       hypotheses must be among the claim's.
    6. A family runs at least the cases its claim's scope states (non-empty),
       its cases are pairwise different, all hold, and the case shown is one of
       them, with different sides and no trivial parameter value.
    7. A ``≠`` has a witness: values for every symbol and function, respecting
       their assumptions, the claim's conditions and hypotheses, at which the
       two sides are different finite numbers.

    >>> verdict = check(theorems()[6])
    >>> verdict.ok, verdict.steps
    (True, 33)
    """
    verdict = Verdict(theorem)

    def fail(message):
        verdict.errors.append(message)
        if first_error:
            raise _Stop

    try:
        _check_prose(theorem, fail)
        _check_statement(theorem, fail)
        proved: list[Claim] = []
        for part in theorem.parts:
            errors, steps, cases_run = _check_part(theorem, part, tuple(proved), first_error)
            verdict.steps += steps
            verdict.cases += cases_run
            for error in errors:
                fail(error)
            proved.append(part.claim)
    except _Stop:
        pass
    return verdict


class _Stop(Exception):
    pass


#: results of parts already checked, keyed by the identity of everything the check reads (parts are frozen);
#: the mutation tests change one part at a time and re-check the theorem
_CHECKED: dict = {}


def _check_part(theorem, part, proved, first_error=False):
    """(errors, steps, cases) for one part; the same part in the same context is checked once.

    With ``first_error`` the part's check stops at its first error (the mutation tests need only one).
    """
    key = (id(part), id(theorem.definitions), id(theorem.hypotheses), id(theorem.facts), tuple(map(id, proved)),
           first_error)
    cached = _CHECKED.get(key)
    context = (theorem.definitions, theorem.hypotheses, theorem.facts, proved)
    if cached is not None and cached[0] is part and cached[1] == context:
        return cached[2]
    probe = Verdict(theorem)
    errors = []

    def record(message):
        errors.append(message)
        if first_error:
            raise _Stop

    try:
        if isinstance(part, Chain):
            _check_chain(theorem, part, list(proved), probe, record)
        elif isinstance(part, Instances):
            _check_instances(part, probe, record)
        else:
            record(f"unknown part {part!r}")
    except _Stop:
        pass
    result = (tuple(errors), probe.steps, probe.cases)
    _CHECKED[key] = (part, context, result)
    return result


def _check_prose(theorem, fail):
    doc = theorem.doc.strip()
    if not doc.startswith(theorem.title):
        fail("the prose must open with the title")
    if "**Proof in words.**" not in doc:
        fail("the prose has no '**Proof in words.**' paragraph")
    if re.search(r"\*\*Statements?\b", doc):
        fail("the prose states the theorem itself; the statement is generated from the claims")
    for word in _JARGON:
        if word in doc.lower():
            fail(f"the prose uses internal jargon ({word!r}): cite the question in plain words")
    if theorem.twin is None or not theorem.twin.text.strip():
        fail("no numeric twin, or no paragraph saying what it checks")


def _check_statement(theorem, fail):
    if not theorem.statement:
        fail("the statement is empty")
    proved_by: dict[Any, Any] = {}
    for part in theorem.parts:
        proved_by.setdefault(id(part.claim), []).append(part)
    for claim in theorem.statement:
        if claim.lemma:
            fail(f"{claim.label}: a lemma is not part of the statement")
        if len(proved_by.get(id(claim), [])) != 1:
            fail(f"{claim.label}: proved by {len(proved_by.get(id(claim), []))} parts, must be exactly 1")
        _check_claim_text(claim, fail)
    statement_ids = {id(c) for c in theorem.statement}
    for part in theorem.parts:
        if id(part.claim) not in statement_ids and not part.claim.lemma:
            fail(f"{part.claim.label}: proved but neither in the statement nor a lemma")


def _check_claim_text(claim, fail):
    text = claim.text
    if claim.general:
        if text.count("{formula}") != 1 or claim.lhs is None:
            fail(f"{claim.label}: a general claim's text shows its formula exactly once ({{formula}})")
        if "verified" in text.lower():
            fail(f"{claim.label}: a general claim does not say 'verified'")
    else:
        if text.count("{scope}") != 1:
            fail(f"{claim.label}: a claim checked on instances says so with {{scope}} exactly once")
        if re.search(r"(?<![A-Za-z0-9_.])\d", _MATH.sub("", text.replace("{scope}", ""))):
            fail(f"{claim.label}: sizes in the text of an instance claim must come from its parameters")
        names = "|".join(re.escape(str(p.symbol)) for p in claim.scope)
        if names and re.search(rf"\b(every|all|any|each)\s+\$?({names})\b", text):
            fail(f"{claim.label}: the text quantifies over a parameter that only instances cover")
    for math in _MATH.findall(text.replace("{formula}", "").replace("{scope}", "")):
        if _RELATION_IN_MATH.search(math):
            fail(f"{claim.label}: the text states a relation of its own (${math}$); use the formula")


def _boxes(claim):
    return [c.box() for c in claim.conditions]


def _same(a, b) -> bool:
    a, b = as_list(a), as_list(b)
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            sp.sympify(u) == sp.sympify(v) for u, v in zip(a, b))
    return sp.sympify(a) == sp.sympify(b)


def _identical(lhs, rhs) -> bool:
    """Whether a relation would show the same thing on both sides (objects as built, or their LaTeX)."""
    if latex(lhs) == latex(rhs):
        return True
    if isinstance(lhs, (list, tuple)) and isinstance(rhs, (list, tuple)):
        return len(lhs) == len(rhs) and all(sp.sympify(a) == sp.sympify(b) for a, b in zip(lhs, rhs))
    if isinstance(lhs, (list, tuple)) or isinstance(rhs, (list, tuple)):
        return False
    return sp.sympify(lhs) == sp.sympify(rhs)


def _check_chain(theorem, chain, proved, verdict, fail):
    claim, steps = chain.claim, chain.steps
    label = claim.label
    if not steps:
        fail(f"{label}: a chain without steps proves nothing")
        return
    if claim.relation == "!=":
        if len(steps) != 1 or not isinstance(steps[0].move, Witness):
            fail(f"{label}: a '≠' claim is shown by one witness step")
    if not _same(steps[0].lhs, claim.lhs):
        fail(f"{label}: the first step does not start at the claim's left side")
    for number, (before, after) in enumerate(zip(steps, steps[1:]), start=2):
        if not _same(after.lhs, before.rhs):
            fail(f"{label}, step {number}: does not start where step {number - 1} ended")
    if not _same(steps[-1].rhs, claim.rhs):
        fail(f"{label}: the last step does not end at the claim's right side")
    allowed = {"=": {"="}, "<=": {"=", "<="}, "!=": {"!="}}[claim.relation]
    for number, step in enumerate(steps, start=1):
        verdict.steps += 1
        where = f"{label}, step {number}"
        if step.relation not in allowed:
            fail(f"{where}: a '{step.relation}' step cannot prove a '{claim.relation}' claim")
        if _identical(step.lhs, step.rhs):
            fail(f"{where}: both sides are the same text — the step shows no change")
            continue
        try:
            problem = _check_move(theorem, claim, step, proved)
        except _Stop:
            raise
        except Exception as error:  # a move sympy cannot carry out is a failed step, with the reason
            problem = f"the move could not be carried out ({type(error).__name__}: {error})"
        if problem:
            fail(f"{where}: {problem}")


def _declared(theorem, claim, rule):
    """Why ``rule`` may not be used in a proof of ``claim`` (None when it may)."""
    if isinstance(rule, Claim):
        return None  # checked by the lemma rules
    if rule.kind == "definition" and rule not in theorem.definitions:
        return f"the definition {rule.name} is not declared"
    if rule.kind == "hypothesis" and rule not in claim.hypotheses:
        return f"uses the hypothesis {rule.name}, which the claim does not state"
    if rule.kind == "fact" and rule not in theorem.facts:
        return f"uses the fact {rule.name}, which the document does not list"
    for needed in getattr(rule, "needs", ()):
        if needed not in claim.hypotheses:
            return f"the fact {rule.name} needs the hypothesis {needed.name}, which the claim does not state"
    return None


def _lemma_problem(claim, lemma, subs, proved):
    if not any(lemma is p for p in proved):
        return f"uses {lemma.label}, which is not proved above"
    stray = [key for key, _ in subs if key not in lemma.variables]
    if stray:
        return f"instantiates {lemma.label} at {stray[0]}, which it is not stated for every value of"
    for hypothesis in lemma.hypotheses:
        instance = _instantiate_rule(hypothesis, subs)
        if not _entailed(instance, claim.hypotheses):
            return f"{lemma.label} needs the hypothesis {hypothesis.name}, which the claim does not give"
    for condition in lemma.conditions:
        if condition.high == sp.oo:
            relation = instantiate(condition.low, dict(subs)) <= instantiate(condition.expr, dict(subs))
        else:
            relation = sp.And(instantiate(condition.low, dict(subs)) <= instantiate(condition.expr, dict(subs)),
                              instantiate(condition.expr, dict(subs)) <= instantiate(condition.high, dict(subs)))
        if relation is not sp.true and not prove_condition(relation, _boxes(claim)):
            return f"{lemma.label} needs {condition.latex()}, which does not follow here"
    return None


def _instantiate_rule(rule, subs):
    subs = dict(subs)
    if isinstance(rule, Periodic):
        function = subs.get(rule.function, rule.function)
        return Periodic(rule.name, function, instantiate(rule.period, subs), rule.argument, rule.arity,
                        rule.kind, rule.text)
    if isinstance(rule, RootOfUnity):
        return RootOfUnity(rule.name, instantiate(rule.base, subs), instantiate(rule.order, subs),
                           instantiate(rule.value, subs), rule.kind, rule.text)
    variables = tuple(v for v in rule.variables if v not in subs)
    return Rule(rule.name, instantiate(rule.lhs, subs), instantiate(rule.rhs, subs), rule.kind, variables,
                tuple(instantiate(c, subs) for c in rule.when), rule.relation, rule.text, rule.needs)


def _entailed(instance, hypotheses) -> bool:
    """Whether an instantiated hypothesis is one of ``hypotheses`` or follows from one by a single rewrite."""
    for hypothesis in hypotheses:
        if instance == hypothesis:
            return True
        if isinstance(instance, Periodic) or isinstance(hypothesis, Periodic):
            if (isinstance(instance, Periodic) and isinstance(hypothesis, Periodic)
                    and instance.function == hypothesis.function and instance.argument == hypothesis.argument
                    and is_zero(instance.period - hypothesis.period)):
                return True
            continue
        if isinstance(instance, RootOfUnity) or isinstance(hypothesis, RootOfUnity):
            if (isinstance(instance, RootOfUnity) and isinstance(hypothesis, RootOfUnity)
                    and instance.base == hypothesis.base and is_zero(instance.order - hypothesis.order)
                    and is_zero(instance.value - hypothesis.value)):
                return True
            continue
        if instance.relation != hypothesis.relation:
            continue
        rewritten, count = rewrite(instance.lhs, hypothesis.lhs, hypothesis.rhs, hypothesis.variables)
        if count and equal(rewritten, instance.rhs):
            return True
    return False


def _apply_rule(rule, expr, boxes, reverse=False):
    """Rewrite ``expr`` with a rule (or a root of unity); returns (result, number of rewrites)."""
    if isinstance(rule, RootOfUnity):
        if reverse:
            raise ValueError("a root of unity is used left to right")
        return reduce_powers(expr, rule.base, rule.order, rule.value)
    if isinstance(rule, Periodic):
        if reverse:
            raise ValueError("periodicity is used by reducing arguments")
        return reduce_arguments(expr, rule.function, rule.period, rule.argument)
    lhs, rhs = (rule.rhs, rule.lhs) if reverse else (rule.lhs, rule.rhs)
    return rewrite(expr, lhs, rhs, rule.variables, conditions=rule.when, boxes=boxes)


def _check_move(theorem, claim, step, proved):
    move, lhs, rhs, boxes = step.move, step.lhs, step.rhs, _boxes(claim)
    if isinstance(move, Algebra):
        return None if equal(lhs, rhs) else "sympy does not show the two sides equal"
    if isinstance(move, (Unfold, Fold)):
        if move.rule.kind != "definition":
            return f"{move.rule.name} is not a definition"
        problem = _declared(theorem, claim, move.rule)
        if problem:
            return problem
        source, target = (lhs, rhs) if isinstance(move, Unfold) else (rhs, lhs)
        result, count = _apply_rule(move.rule, source, boxes)
        if not count:
            return f"the definition of {move.rule.name} does not apply"
        return None if equal(result, target) else f"unfolding {move.rule.name} does not give the other side"
    if isinstance(move, Use):
        rule, subs = move.rule, dict(move.subs)
        if isinstance(rule, Claim):
            problem = _lemma_problem(claim, rule, move.subs, proved)
            if problem:
                return problem
            if rule.relation != "=":
                return f"{rule.label} is not an equality: use it in a bound"
            rule = rule.as_rule()
        else:
            problem = _declared(theorem, claim, rule)
            if problem:
                return problem
            if getattr(rule, "relation", "=") != "=":
                return f"{rule.name} is an inequality: use it in a bound"
        stray = [key for key in subs if key not in getattr(rule, "variables", ())]
        if stray:
            return f"instantiates {_name(move.rule)} at {stray[0]}, which it is not stated for every value of"
        rule = _instantiate_rule(rule, subs) if subs else rule
        result, count = _apply_rule(rule, lhs, boxes, move.reverse)
        if not count:
            return f"{_name(move.rule)} rewrites nothing here (an empty substitution proves nothing)"
        return None if equal(result, rhs) else f"rewriting with {_name(move.rule)} does not give the right side"
    if isinstance(move, Reindex):
        def change(node, context):
            if isinstance(node, sp.Sum) and move.variable in node.variables:
                position = node.variables.index(move.variable)
                if move.start is not None and not _same(node.limits[position][1], move.start):
                    return None
                return node.change_index(move.variable, move.new_index, move.new_variable)
            return None
        return _transformed(lhs, rhs, change, "re-indexing")
    if isinstance(move, Split):
        problems = []

        def split(node, context):
            if not (isinstance(node, sp.Sum) and move.variable in node.variables):
                return None
            position = node.variables.index(move.variable)
            variable, low, high = node.limits[position]
            if move.start is not None and not _same(low, move.start):
                return None
            if not prove_condition(sp.And(low <= move.at, move.at <= high + 1), boxes + list(context)):
                problems.append(f"cannot show {sp.latex(low)} ≤ {sp.latex(move.at)} ≤ {sp.latex(high + 1)}")
                return None
            limits = list(node.limits)
            first, second = list(limits), list(limits)
            first[position], second[position] = (variable, low, move.at - 1), (variable, move.at, high)
            return sp.Sum(node.function, *first) + sp.Sum(node.function, *second)
        return _transformed(lhs, rhs, split, "splitting", problems)
    if isinstance(move, Merge):
        return _check_merge(move, lhs, rhs, boxes)
    if isinstance(move, Polyphase):
        def polyphase(node, context):
            if isinstance(node, sp.Sum) and len(node.limits) == 1 and node.limits[0][0] == move.variable:
                variable, low, high = node.limits[0]
                blocks = sp.cancel((high + 1) / move.stride)
                if low != 0 or blocks.is_integer is not True:
                    return None
                inner = node.function.xreplace({variable: move.stride * move.new_variable + move.phase})
                return sp.Sum(inner, (move.new_variable, 0, blocks - 1), (move.phase, 0, move.stride - 1))
            return None
        return _transformed(lhs, rhs, polyphase, "the polyphase split")
    if isinstance(move, Swap):
        def swap(node, context):
            if isinstance(node, sp.Sum) and {move.first, move.second} <= set(node.variables):
                variables = list(node.variables)
                i, j = variables.index(move.first), variables.index(move.second)
                bounds = [b for lim in node.limits for b in lim[1:]]
                if any(b.has(move.first) or b.has(move.second) for b in map(sp.sympify, bounds)):
                    return None  # a range that depends on the other index: not a plain exchange
                return node.reorder_limit(i, j)
            return None
        return _transformed(lhs, rhs, swap, "exchanging the sums")
    if isinstance(move, Substitute):
        def substitute(node, context):
            if isinstance(node, sp.Integral) and move.variable in node.variables:
                return node.transform(move.new_expr, move.new_variable)
            return None
        return _transformed(lhs, rhs, substitute, "the substitution")
    if isinstance(move, Bound):
        return _check_bound(theorem, claim, move, lhs, rhs, boxes, proved)
    if isinstance(move, UpperBound):
        bound = move.lemma
        if isinstance(bound, Claim):
            problem = _lemma_problem(claim, bound, (), proved)
            small, large, variables, relation = bound.lhs, bound.rhs, bound.variables, bound.relation
        else:
            problem = _declared(theorem, claim, bound)
            small, large, variables, relation = bound.lhs, bound.rhs, bound.variables, bound.relation
        if problem:
            return problem
        if not isinstance(lhs, Maximum) or relation != "<=":
            return "the left side must be a maximum and the bound an upper bound"
        body, index = lhs.args
        if index not in variables or not _same(small, body) or not _same(large, rhs):
            return f"{_name(bound)} does not bound every value of the maximum by the right side"
        if index in sp.sympify(rhs).free_symbols:
            return "the bound depends on the index"
        return None
    if isinstance(move, (Antisymmetry, AbsoluteBound)):
        for lemma in (move.upper, move.lower):
            problem = _lemma_problem(claim, lemma, (), proved)
            if problem:
                return problem
            if lemma.relation != "<=":
                return f"{lemma.label} is not an inequality"
        if isinstance(move, Antisymmetry):
            ok = (_same(move.upper.lhs, lhs) and _same(move.upper.rhs, rhs)
                  and _same(move.lower.lhs, rhs) and _same(move.lower.rhs, lhs))
            return None if ok else "the lemmas are not lhs ≤ rhs and rhs ≤ lhs"
        if not isinstance(lhs, sp.Abs):
            return "the left side must be an absolute value"
        inner = lhs.args[0]
        ok = (equal(move.upper.lhs, inner) and _same(move.upper.rhs, rhs)
              and equal(move.lower.lhs, -inner) and _same(move.lower.rhs, rhs))
        return None if ok else "the lemmas are not y ≤ c and −y ≤ c"
    if isinstance(move, Witness):
        return _check_witness(claim, dict(move.values), lhs, rhs)
    return f"unknown move {move!r}"


def _transformed(lhs, rhs, change, what, problems=None):
    result, count = rewrite(lhs, sp.Symbol("unused"), sp.Symbol("unused"), [], extra=change)
    if problems:
        return problems[0]
    if not count:
        return f"{what} applies to nothing on the left side"
    return None if equal(result, rhs) else f"{what} does not give the right side"


def _check_merge(move, lhs, rhs, boxes):
    merged = 0

    def merge(node, context):
        nonlocal merged
        if not isinstance(node, sp.Add):
            return None
        terms = list(node.args)
        sums = [t for t in terms if isinstance(t, sp.Sum) and move.variable in t.variables]
        for first, second in itertools.permutations(sums, 2):
            position = first.variables.index(move.variable)
            if len(second.limits) != len(first.limits) or second.variables[position] != move.variable:
                continue
            others_first = [lim for i, lim in enumerate(first.limits) if i != position]
            others_second = [lim for i, lim in enumerate(second.limits) if i != position]
            (_, a1, b1), (_, a2, b2) = first.limits[position], second.limits[position]
            if others_first != others_second or not _same(first.function, second.function):
                continue
            if not is_zero(b1 + 1 - a2) or not prove_condition(sp.And(a1 <= b1 + 1, b1 <= b2),
                                                               boxes + list(context)):
                continue
            merged += 1
            limits = list(first.limits)
            limits[position] = (move.variable, a1, b2)
            rest = [t for t in terms if t is not first and t is not second]
            return sp.Add(sp.Sum(first.function, *limits), *rest)
        return None

    result, _ = rewrite(lhs, sp.Symbol("unused"), sp.Symbol("unused"), [], extra=merge)
    if not merged:
        return "no two sums over adjacent ranges to merge"
    return None if equal(result, rhs) else "merging does not give the right side"


def _check_bound(theorem, claim, move, lhs, rhs, boxes, proved):
    remainder = sp.sympify(rhs) - sp.sympify(lhs)
    if not move.uses:
        return "a bound states what it uses"
    for use in move.uses:
        rule = use.rule
        if isinstance(rule, Claim):
            problem = _lemma_problem(claim, rule, use.subs, proved)
            if problem:
                return problem
            if rule.relation != "<=":
                return f"{rule.label} is not an inequality"
            small, large = rule.lhs, rule.rhs
        else:
            problem = _declared(theorem, claim, rule)
            if problem:
                return problem
            if rule.relation != "<=":
                return f"{rule.name} is not an inequality"
            small, large = rule.lhs, rule.rhs
        stray = [key for key, _ in use.subs if not isinstance(rule, Claim) and key not in rule.variables]
        if stray:
            return f"instantiates {_name(rule)} at {stray[0]}, which it is not stated for every value of"
        if not prove_nonnegative(use.weight, boxes):
            return f"the weight of {_name(rule)} is not shown non-negative"
        subs = dict(use.subs)
        remainder -= use.weight * (instantiate(large, subs) - instantiate(small, subs))
    if is_zero(remainder, evaluate=False):
        return None
    remainder = sp.expand(remainder)
    if prove_nonnegative(remainder, boxes):
        return None
    return f"what is left, {sp.latex(remainder)}, is not shown non-negative: the bound does not follow"


def _check_witness(claim, values, lhs, rhs):
    lhs_list, rhs_list = as_list(lhs), as_list(rhs)
    expressions = lhs_list + rhs_list if isinstance(lhs_list, list) else [lhs, rhs]
    expressions = [sp.sympify(e) for e in expressions]
    needed = set().union(*(e.free_symbols for e in expressions))
    functions = set().union(*(e.atoms(sp.core.function.AppliedUndef) for e in expressions))
    needed |= {f.func for f in functions}
    for condition in claim.conditions:
        needed |= sp.sympify(condition.expr).free_symbols
    missing = [k for k in needed if k not in values]
    if missing:
        return f"the witness gives no value to {', '.join(sorted(str(m) for m in missing))}"
    readable = ("integer", "positive", "nonnegative", "negative", "nonpositive", "real", "zero", "nonzero")
    for key, value in values.items():
        if isinstance(key, sp.Symbol):
            facts = sorted(key.assumptions0.items(),
                           key=lambda item: (readable.index(item[0]) if item[0] in readable else len(readable),
                                             item[0]))
            for fact, holds in facts:
                if getattr(sp.sympify(value), f"is_{fact}", None) is not holds:
                    wanted = fact if holds else f"not {fact}"
                    return f"the witness {key} = {value} breaks the assumption that {key} is {wanted}"
    for condition in claim.conditions:
        expr, low, high = (instantiate(sp.sympify(v), values) for v in condition.box()[:3])
        if not (bool(low <= expr) and (high == sp.oo or bool(expr <= high))):
            return f"the witness violates {condition.latex()}"
    for hypothesis in claim.hypotheses:
        if isinstance(hypothesis, Periodic):
            probe = sp.Dummy("m", integer=True)
            slots = [sp.Dummy(f"a{i}", integer=True) for i in range(hypothesis.arity)]
            moved = list(slots)
            slots[hypothesis.argument], moved[hypothesis.argument] = probe, probe + hypothesis.period
            function = values.get(hypothesis.function, hypothesis.function)
            period_ok = equal(instantiate(function(*moved), values), instantiate(function(*slots), values))
            if not period_ok:
                return f"the witness violates {hypothesis.name}"
            continue
        if isinstance(hypothesis, RootOfUnity):
            if not is_zero(instantiate(hypothesis.base ** hypothesis.order - hypothesis.value, values)):
                return f"the witness violates {hypothesis.name}"
            continue
        left, right = instantiate(hypothesis.lhs, values), instantiate(hypothesis.rhs, values)
        if hypothesis.relation == "=" and not equal(left, right):
            return f"the witness violates the hypothesis {hypothesis.name}"
        if hypothesis.relation == "<=" and not prove_nonnegative(sp.sympify(right) - sp.sympify(left)):
            return f"the witness violates the hypothesis {hypothesis.name}"
    left, right = instantiate(lhs, values), instantiate(rhs, values)
    left, right = as_list(left), as_list(right)
    pairs = list(zip(left, right)) if isinstance(left, list) else [(left, right)]
    if isinstance(left, list) and len(left) != len(right):
        return None  # objects of different shapes differ
    evaluated = []
    for a, b in pairs:
        a, b = sp.sympify(a).doit(), sp.sympify(b).doit()
        for side in (a, b):
            # a number, not an unevaluated notation or unknown function at numeric arguments, and finite
            unknown = [f for f in side.atoms(sp.Function) if not (type(f).__module__ or "").startswith("sympy.")]
            if side.free_symbols or unknown or side.has(sp.Integral, sp.Sum):
                return "at the witness the sides are not numbers (unfold every notation before a witness)"
            if side.has(sp.oo, -sp.oo, sp.zoo, sp.nan) or not side.is_number or side.is_finite is False:
                return "at the witness a side is not a finite number"
        evaluated.append((a, b))
    if all(is_zero(a - b) for a, b in evaluated):
        return "at the witness the two sides are equal: no counterexample"
    return None


def _check_instances(part, verdict, fail):
    claim = part.claim
    label = claim.label
    if claim.general:
        fail(f"{label}: instances prove only a claim whose scope says so")
        return
    stated = cases(claim.scope)
    if not stated:
        fail(f"{label}: the stated scope has no cases")
        return
    run = cases(part.params)
    if not run:
        fail(f"{label}: the family is empty")
        return
    key = lambda case: tuple(sorted((str(k), v) for k, v in case.items()))  # noqa: E731
    run_keys = {key(c) for c in run}
    missing = [c for c in stated if key(c) not in run_keys]
    if missing:
        fail(f"{label}: the family does not run {len(missing)} case(s) the statement claims, "
             f"e.g. {dict((str(k), v) for k, v in missing[0].items())}")
        return
    shown = dict(part.shown)
    if key(shown) not in run_keys:
        fail(f"{label}: the case shown is not one of the cases run")
    for param in claim.scope:
        if shown.get(param.symbol) in param.trivial:
            fail(f"{label}: the case shown is degenerate ({param.symbol} = {shown.get(param.symbol)})")
    seen = set()
    for case in run:
        lhs, rhs = part.build(**{str(k): v for k, v in case.items()})
        fingerprint = sp.srepr((tuple(as_list(lhs)) if isinstance(as_list(lhs), list) else lhs,
                                tuple(as_list(rhs)) if isinstance(as_list(rhs), list) else rhs))
        if fingerprint in seen:
            fail(f"{label}: two cases build the same relation — the family does not use its parameters")
            return
        seen.add(fingerprint)
        verdict.cases += 1
        if claim.relation == "=":
            if not equal(lhs, rhs):
                fail(f"{label}: fails at {dict((str(k), v) for k, v in case.items())}")
        elif claim.relation == "!=":
            if part.witness is None:
                fail(f"{label}: a '≠' family needs a witness")
                return
            problem = _check_witness(claim, dict(part.witness(**{str(k): v for k, v in case.items()})), lhs, rhs)
            if problem:
                fail(f"{label}: at {dict((str(k), v) for k, v in case.items())}: {problem}")
        else:
            fail(f"{label}: families are checked for '=' and '≠' only")
            return
    lhs, rhs = part.build(**{str(k): v for k, v in shown.items()})
    if _identical(lhs, rhs):
        fail(f"{label}: the case shown has the same text on both sides")
    verdict.steps += 1


def all_rules(theorem: Theorem) -> Iterable:
    """Every declaration of a theorem, in the order the document lists them."""
    return (*theorem.definitions, *theorem.hypotheses, *theorem.facts)
