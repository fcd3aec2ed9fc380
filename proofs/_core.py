"""Checked steps and their rendering.

A derivation is a list of :class:`Step`.  Every step ends in a relation
that sympy checks:

- ``"="``: ``lhs − rhs`` simplifies to zero (expanded first, so polynomial
  identities are decided exactly; matrices entry by entry; two sums or
  integrals over the same range term by term — a re-indexing must be its own
  step);
- ``"<="``: ``rhs − lhs`` is known to sympy to be non-negative, from the
  symbols' assumptions (a ``Max`` on the left is bounded argument by argument);
- ``"!="``: ``lhs − rhs`` is *not* identically zero (a counterexample: a
  polynomial that is not the zero polynomial);
- an exhaustive family: every ``(lhs, rhs)`` pair of the family satisfies
  the relation (e.g. one identity per size up to a bound).

Nothing is taken on trust: a step with a wrong sign or index fails, and
``python -m proofs`` exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp


def is_zero(expr):
    """Whether sympy can show ``expr`` is identically zero (scalars, matrices, tuples).

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1), is_zero(x)
    (True, False)
    """
    if isinstance(expr, (list, tuple)):
        return all(is_zero(e) for e in expr)
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    expr = sp.sympify(expr)
    if expr == 0:
        return True
    expanded = sp.expand(expr)
    if expanded == 0:
        return True
    simplified = sp.simplify(expanded)
    if simplified == 0:
        return True
    return simplified.equals(0) is True


def _difference(lhs, rhs):
    if isinstance(lhs, (list, tuple)):
        return [_difference(a, b) for a, b in zip(lhs, rhs, strict=True)]
    return lhs - rhs


def holds(lhs, rhs, relation):
    """Check one relation between two sympy expressions (see the module docstring).

    >>> import sympy as sp
    >>> p = sp.Symbol("p", nonnegative=True)
    >>> holds(1 - p, 1, "<="), holds(p, 0, "!=")
    (True, True)
    """
    if relation == "=":
        same_range = (isinstance(lhs, (sp.Sum, sp.Integral)) and type(lhs) is type(rhs)
                      and lhs.limits == rhs.limits)
        if same_range:  # compare term by term: sufficient, and never a slow search over re-indexings
            return is_zero(lhs.function - rhs.function)
        return is_zero(_difference(lhs, rhs))
    if relation == "!=":
        return not is_zero(_difference(lhs, rhs))
    if relation == "<=":
        if isinstance(lhs, sp.Max):  # max_i a_i <= c  iff  a_i <= c for every i
            return all(holds(arg, rhs, "<=") for arg in lhs.args)
        gap = sp.simplify(rhs - lhs)
        return gap.is_nonnegative is True or sp.expand(gap).is_nonnegative is True
    raise ValueError(f"relation={relation!r} must be '=', '!=' or '<='")


_LATEX_RELATION = {"=": "=", "!=": r"\neq", "<=": r"\le"}


@dataclass
class Step:
    """One checked step: prose saying why, and ``lhs <relation> rhs``.

    ``family`` (optional) is a list of further ``(lhs, rhs)`` pairs that must
    all satisfy the relation; ``lhs``/``rhs`` are then the representative
    shown in the rendering and ``family_text`` says what the family covers.

    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> Step("the square of a sum", (a + b) ** 2, a**2 + 2*a*b + b**2).verify()
    True
    >>> Step("a wrong sign", (a + b) ** 2, a**2 - 2*a*b + b**2).verify()
    False
    """

    text: str
    lhs: object
    rhs: object
    relation: str = "="
    family: list = field(default_factory=list)
    family_text: str = ""

    def verify(self):
        if not holds(self.lhs, self.rhs, self.relation):
            return False
        return all(holds(lhs, rhs, self.relation) for lhs, rhs in self.family)

    def how(self):
        base = {"=": "`simplify(lhs − rhs) = 0`", "!=": "`lhs − rhs` is not the zero polynomial",
                "<=": "`rhs − lhs ≥ 0` from the symbols' assumptions"}[self.relation]
        if self.family:
            return f"{base}, for each of {len(self.family)} cases: {self.family_text}"
        return base

    def latex(self):
        def tex(value):
            if isinstance(value, (list, tuple)):
                return r"\left(" + ", ".join(sp.latex(v) for v in value) + r"\right)"
            return sp.latex(value)

        return f"{tex(self.lhs)} \\;{_LATEX_RELATION[self.relation]}\\; {tex(self.rhs)}"


def check(derivation):
    """Verify every step; return the list of (number, step, ok).

    >>> import sympy as sp
    >>> [ok for _, _, ok in check([Step("trivial", sp.Integer(1), sp.Integer(1))])]
    [True]
    """
    return [(i, step, step.verify()) for i, step in enumerate(derivation, start=1)]


def render(module, results):
    """Markdown with LaTeX for one theorem module and its checked steps.

    >>> from convnet_invariances.proofs import stride, check_theorem
    >>> render(stride, check_theorem(stride)).startswith("# Theorem 3")
    True
    """
    doc = (module.__doc__ or "").strip().splitlines()
    title = doc[0] if doc else module.__name__
    body = "\n".join(doc[1:]).strip()
    lines = [f"# {title}", "", body, "", "## Derivation", ""]
    for number, step, ok in results:
        mark = "✔" if ok else "✘ FAILED"
        lines += [f"**Step {number}.** {step.text}", "", f"$${step.latex()}$$", "", f"{mark} checked: {step.how()}", ""]
    twin = getattr(module, "NUMERIC_TWIN", None)
    if twin:
        lines += ["## Numeric twin", "", f"The same claim, tested numerically with the props engine: `{twin}`.", ""]
    return "\n".join(lines).rstrip() + "\n"


def vector(name, n):
    """Symbols name0 … name(n−1): a symbolic signal."""
    return list(sp.symbols(f"{name}0:{n}")) if n else []


def grid(name, rows, cols):
    """A rows×cols sympy Matrix of symbols name_i_j: a symbolic image."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}"))
