"""The sympy work behind the checker: equality, sums term by term, conditions on index ranges, rewriting.

Everything here answers one question soundly or says "not shown": a
``False`` means sympy could not establish the claim, never that it is false.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import sympy as sp

#: ``(expression, low, high)``: ``low ≤ expression ≤ high`` (``high`` may be ``oo``)
Box = tuple[sp.Expr, sp.Expr, sp.Expr]

_LIMITED = (sp.Sum, sp.Integral)


def as_list(value):
    """Lists, tuples and matrices as a flat list of entries; a single expression as itself."""
    if getattr(value, "is_shown", False):  # a labelled value (see _core.Shown): compare what it stands for
        value = value.value
    if isinstance(value, sp.Tuple):
        value = list(value)
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, (list, tuple)):
        nested = (list, tuple, sp.MatrixBase)
        return [entry for item in value for entry in (as_list(item) if isinstance(item, nested) else [item])]
    return value


def equal(a, b) -> bool:
    """Whether sympy shows ``a = b``: after ``doit()``, sums and integrals compared term by term over equal ranges.

    >>> n, N = sp.symbols("n N", integer=True)
    >>> x = sp.Function("x")
    >>> equal(sp.Sum(2 * x(n), (n, 0, N)), 2 * sp.Sum(x(n), (n, 0, N)))
    True
    >>> equal(sp.Sum(x(n), (n, 0, N)), sp.Sum(x(n), (n, 1, N + 1)))   # a re-indexing is its own step
    False
    """
    a, b = as_list(a), as_list(b)
    if isinstance(a, list) != isinstance(b, list):  # a notation for a matrix (or tuple) on one side
        a, b = (as_list(b.doit()), a) if isinstance(a, list) else (as_list(a.doit()), b)
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            equal(u, v) for u, v in zip(a, b))
    a, b = sp.sympify(a), sp.sympify(b)
    if a == b:
        return True
    # cheap first: most steps cancel term by term; evaluating an integral of an unknown function is slow
    if is_zero(a - b, evaluate=False):
        return True
    return is_zero(evaluated(a) - evaluated(b))


def _opaque(node) -> bool:
    """A sum or integral of an unknown function: sympy cannot evaluate it, and trying is slow."""
    return isinstance(node, _LIMITED) and bool(node.function.atoms(sp.core.function.AppliedUndef))


def evaluated(expr):
    """``doit()``, except on sums and integrals of unknown functions (only their insides are evaluated)."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    if _opaque(expr):
        return expr.func(evaluated(expr.function), *expr.limits)
    if not any(_opaque(node) for node in sp.preorder_traversal(expr)):
        return expr.doit()
    return expr.func(*[evaluated(arg) for arg in expr.args])


def is_zero(expr, evaluate: bool = True) -> bool:
    """Whether sympy shows ``expr = 0`` (sums and integrals with equal ranges merged first).

    With ``evaluate`` false, sums and integrals left after merging are not evaluated (fast, may say False).
    """
    expr = merge_limited(canonical_dummies(pull_constants(flatten_sums(unroll_short_ranges(sp.sympify(expr))))))
    if expr == 0:
        return True
    if expr.has(*_LIMITED):
        if not evaluate:
            return False
        # what is left differs in its ranges: only an evaluation could still make it vanish
        expr = merge_limited(evaluated(expr))
        if expr == 0:
            return True
    try:
        if sp.expand(expr) == 0:
            return True
        if any(_opaque(node) for node in sp.preorder_traversal(expr)):
            return False  # unknown functions under sums or integrals with different ranges: not shown equal
        if sp.simplify(expr) == 0:
            return True
    except (TypeError, ValueError, NotImplementedError):  # sympy gives up on some mixed expressions
        return False
    if expr.has(*_LIMITED):
        return False
    if sp.expand(sp.powsimp(sp.expand_power_exp(expr), force=False)) == 0:
        return True
    # numeric probing (``equals``) only where there is nothing unknown to probe: it is slow and says nothing then
    unknown = [f for f in expr.atoms(sp.Function) if not (type(f).__module__ or "").startswith("sympy.")]
    return not unknown and expr.equals(0) is True


_DUMMIES: dict = {}


def _canonical_index(position: int, variable: sp.Symbol) -> sp.Dummy:
    """One dummy per (position, assumptions), so that sums over renamed indices compare equal."""
    key = (position, tuple(sorted(variable.assumptions0.items())))
    if key not in _DUMMIES:
        _DUMMIES[key] = sp.Dummy(f"i{position}", **variable.assumptions0)
    return _DUMMIES[key]


def _canonical(limited):
    """(type, limits with canonical indices) and the summand in those indices."""
    body, limits, renaming = limited.function, [], {}
    for position, (variable, *bounds) in enumerate(limited.limits):
        dummy = _canonical_index(position, variable)
        renaming[variable] = dummy
        limits.append((dummy, *[sp.sympify(b).xreplace(renaming) for b in bounds]))
    return (type(limited), tuple(limits)), body.xreplace(renaming)


def flatten_sums(expr):
    """Sums in a normal form: a sum of a sum is one sum over both indices, a sum of terms is a sum of sums.

    >>> i, j = sp.symbols("i j", integer=True)
    >>> x = sp.Function("x")
    >>> flatten_sums(sp.Sum(2 * sp.Sum(x(i, j), (i, 0, 1)) + x(0, j), (j, 0, 1)))
    Sum(2*x(i, j), (i, 0, 1), (j, 0, 1)) + Sum(x(0, j), (j, 0, 1))
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum):
        out = []
        for term in sp.Add.make_args(sp.expand_mul(flatten_sums(expr.function))):
            factors = sp.Mul.make_args(term)
            inner = [f for f in factors if isinstance(f, sp.Sum)]
            if len(inner) == 1:
                coefficient = sp.Mul(*[f for f in factors if f is not inner[0]])
                if not coefficient.free_symbols & set(inner[0].variables):
                    out.append(sp.Sum(coefficient * inner[0].function, *inner[0].limits, *expr.limits))
                    continue
            out.append(sp.Sum(term, *expr.limits))
        return sp.Add(*out)
    if not expr.args:
        return expr
    return expr.func(*[flatten_sums(a) for a in expr.args])


def unroll_short_ranges(expr, longest: int = 16):
    """Write a sum over a short numeric range (``j = 0, 1``) as its terms; other ranges stay."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    if not expr.args:
        return expr
    expr = expr.func(*[unroll_short_ranges(arg, longest) for arg in expr.args])
    if not isinstance(expr, sp.Sum):
        return expr
    for position, (variable, low, high) in enumerate(expr.limits):
        if low.is_Integer and high.is_Integer and 0 <= high - low < longest:
            others = [limit for i, limit in enumerate(expr.limits) if i != position]
            if any(sp.sympify(b).has(variable) for limit in others for b in limit[1:]):
                continue
            terms = [expr.function.xreplace({variable: value}) for value in range(int(low), int(high) + 1)]
            body = sp.Add(*terms)
            return unroll_short_ranges(sp.Sum(body, *others) if others else body, longest)
    return expr


def canonical_dummies(expr, depth: int = 0):
    """Rename the index of every sum and integral by its nesting depth and position (bound names do not matter)."""
    if not isinstance(expr, sp.Basic) or not expr.has(*_LIMITED):
        return expr
    if isinstance(expr, _LIMITED):
        renaming: dict[Any, Any] = {}
        limits: list[Any] = []
        for position, (variable, *bounds) in enumerate(expr.limits):
            bounds = [sp.sympify(bound).xreplace(renaming) for bound in bounds]
            renaming[variable] = _canonical_index(8 * depth + position, variable)
            limits.append((renaming[variable], *bounds))
        return expr.func(canonical_dummies(expr.function.xreplace(renaming), depth + 1), *limits)
    if not expr.args:
        return expr
    return expr.func(*[canonical_dummies(arg, depth) for arg in expr.args])


def pull_constants(expr):
    """Factors that do not depend on a sum's (or an integral's) variables, moved in front of it."""
    if not isinstance(expr, sp.Basic) or not expr.has(*_LIMITED):
        return expr
    if isinstance(expr, _LIMITED):
        function = pull_constants(expr.function)
        constant, rest = function.as_independent(*expr.variables, as_Add=False)
        bounds = {b for limit in expr.limits for b in limit[1:]}
        if constant != 1 and not any(sp.sympify(b).has(*expr.variables) for b in bounds):
            return constant * expr.func(rest, *expr.limits)
        return expr.func(function, *expr.limits)
    if not expr.args:
        return expr
    return expr.func(*[pull_constants(a) for a in expr.args])


def merge_limited(expr):
    """Merge sums (and integrals) over the same ranges into one, pulling constant factors inside.

    The summands of each merged group are shown to cancel with :func:`is_zero`;
    a group that does not cancel stays in the result.
    """
    expr = sp.expand_mul(flatten_sums(expr))
    groups: dict = {}
    rest = []
    for term in sp.Add.make_args(expr):
        factors = sp.Mul.make_args(term)
        limited = [f for f in factors if isinstance(f, _LIMITED)]
        if len(limited) != 1:
            rest.append(term)
            continue
        inner = limited[0]
        coefficient = sp.Mul(*[f for f in factors if f is not inner])
        if coefficient.free_symbols & set(inner.variables):
            rest.append(term)
            continue
        key, body = _canonical(inner)
        groups.setdefault(key, []).append(coefficient * body)
    for (kind, limits), bodies in groups.items():
        total = sp.Add(*bodies)
        if not is_zero(total):
            rest.append(kind(total, *limits))
    return sp.Add(*rest)


# ---------------------------------------------------------------- conditions on ranges

def _positive_shift(expr):
    """Write positive integer symbols as 1 + (a non-negative one), so sympy sees that 2dr − 1 ≥ 0."""
    shift = {}
    for symbol in expr.free_symbols:
        if symbol.is_integer and symbol.is_positive:
            shift[symbol] = 1 + sp.Dummy(symbol.name, integer=True, nonnegative=True)
    return sp.expand(expr.xreplace(shift))


def _sign_known(value, gaps=()) -> bool:
    """Whether ``value ≥ 0`` from the symbols' assumptions, possibly after setting aside one non-negative gap."""
    value = sp.expand(value)
    for candidate in (value, *(sp.expand(value - gap) for gap in gaps)):
        if candidate.is_nonnegative is True or _positive_shift(candidate).is_nonnegative is True:
            return True
    return False


def prove_nonnegative(expr, boxes: Sequence = ()) -> bool:
    """Whether ``expr ≥ 0`` follows from the symbols' assumptions and the ranges ``boxes``.

    A box is ``(form, low, high)``, or ``(form, low, high, True)`` for a range a
    claim states: a point satisfying the claim lies in it, so it is not empty and
    ``high − low ≥ 0`` may be used (never for a sum's range, which sympy also
    reads backwards). A box on a linear form (``0 ≤ n − t ≤ N − 1``) is first
    turned into a box on a fresh symbol; a one-sided box ``N ≥ 2dr + 1`` becomes
    ``N = 2dr + 1 + e``, ``e ≥ 0``. Then either the bounds are independent and
    ``expr`` is affine in each variable, or the bounds use earlier variables and
    ``expr`` is jointly affine: either way its minimum is at a vertex, and every
    vertex value must be non-negative.

    >>> n, r, N = sp.symbols("n r N", integer=True, positive=True)
    >>> k = sp.Symbol("k", integer=True)
    >>> prove_nonnegative(n + k, [(k, -r, r), (n, r, N - 1 - r)])
    True
    >>> prove_nonnegative(n + k - 1, [(k, -r, r), (n, r, N - 1 - r)])
    False
    """
    expr = sp.sympify(expr)
    pending = [(*(sp.sympify(v) for v in box[:3]), len(box) > 3 and bool(box[3])) for box in boxes]
    finite: list[Any] = []

    def substitute(replace):
        nonlocal expr, pending, finite
        expr = sp.expand(expr.xreplace(replace))
        pending = [(*(sp.expand(v.xreplace(replace)) for v in box[:3]), box[3]) for box in pending]
        finite = [(*(sp.expand(v.xreplace(replace)) for v in box[:3]), box[3]) for box in finite]

    while pending:
        form, low, high, stated = pending.pop(0)
        if not isinstance(form, sp.Symbol):
            boxed = {box[0] for box in pending + finite if isinstance(box[0], sp.Symbol)}
            # solve for a symbol no other box constrains, so their boxes stay boxes on symbols
            candidates = sorted(form.free_symbols, key=lambda s: (s in boxed, str(s)))
            symbol = next((s for s in candidates if sp.diff(form, s) in (1, -1)), None)
            if symbol is None:
                return False
            fresh = sp.Dummy("b", integer=bool(form.is_integer), real=True)
            solved = sp.solve(sp.Eq(form, fresh), symbol)
            if len(solved) != 1:
                return False
            substitute({symbol: solved[0]})
            form = fresh
        if low == -sp.oo and high == sp.oo:
            continue
        if high == sp.oo or low == -sp.oo:
            slack = sp.Dummy("e", integer=bool(form.is_integer), nonnegative=True)
            substitute({form: low + slack if high == sp.oo else high - slack})
            continue
        finite.append((form, low, high, stated))
    variables = [box[0] for box in finite]
    gaps = [high - low for _, low, high, stated in finite if stated]
    dependent = any((low.free_symbols | high.free_symbols) & set(variables) for _, low, high, _ in finite)
    if not dependent:
        # independent ranges: an expression affine in each variable takes its minimum at a corner
        for form in variables:
            if not expr.is_polynomial(form) or sp.Poly(expr, form).degree() > 1:
                return False
        corners = itertools.product(*[(low, high) for _, low, high, _ in finite])
        return all(_sign_known(expr.xreplace(dict(zip(variables, corner))), gaps) for corner in corners)
    # bounds that use earlier variables (0 ≤ r ≤ s − 1, r ≤ j ≤ s − 1): a jointly affine expression takes
    # its minimum at a vertex, and every vertex is reached by choosing each bound in turn
    if not expr.is_polynomial(*variables) or sp.Poly(expr, *variables).total_degree() > 1:
        return False
    for position, (_, low, high, _) in enumerate(finite):
        if (low.free_symbols | high.free_symbols) & set(variables[position:]):
            return False
        if not all(b.is_polynomial(*variables) and sp.Poly(b, *variables).total_degree() <= 1 for b in (low, high)):
            return False
    finite = _skip_empty_ranges(finite)
    if finite is None:
        return False
    gaps = [high - low for _, low, high, stated in finite if stated]
    vertices: list[dict[Any, Any]] = [{}]
    for form, low, high, _ in finite:
        vertices = [{**v, form: bound.xreplace(v)} for v in vertices for bound in (low, high)]
    gaps = [gap for gap in gaps if not gap.free_symbols & set(variables)]
    return all(_sign_known(expr.xreplace(v), gaps) for v in vertices)


def _skip_empty_ranges(finite):
    """Narrow an earlier variable's range to where a later sum's range is not empty.

    A sum over ``0 … i − r − 1`` has no terms when ``i = r``: nothing needs to hold
    there, but the vertex ``(i, j) = (r, 0)`` would be checked. When the range's
    length is affine in one earlier integer variable with a ±1 coefficient and is
    never below −1 (an empty sum, never one sympy reads backwards), the earlier
    range is cut to the values where the sum has terms.
    """
    finite = list(finite)
    variables = [box[0] for box in finite]
    for index, (form, low, high, stated) in enumerate(finite):
        if stated:
            continue  # a stated range holds a point of the claim: never empty
        earlier = (low.free_symbols | high.free_symbols) & set(variables[:index])
        if len(earlier) != 1:
            continue
        variable = earlier.pop()
        width = sp.expand(high - low)
        if not variable.is_integer or not width.is_polynomial(variable) or sp.Poly(width, variable).degree() != 1:
            continue
        slope = sp.Poly(width, variable).coeff_monomial(variable)
        if slope not in (1, -1):
            continue
        position = variables.index(variable)
        outer = finite[:position + 1]
        if not prove_nonnegative(width + 1, outer):
            return None  # the sum may be read backwards: keep every vertex (the caller fails safely)
        threshold = sp.expand(variable - width / slope)  # where the width is 0
        v, v_low, v_high, v_stated = finite[position]
        if slope == 1 and _sign_known(threshold - v_low):
            finite[position] = (v, threshold, v_high, v_stated)
        elif slope == -1 and _sign_known(v_high - threshold):
            finite[position] = (v, v_low, threshold, v_stated)
    return finite


def prove_condition(condition, boxes: Sequence[Box] = ()) -> bool:
    """Whether ``a ≤ b``, ``a < b`` (integers) or ``a = b`` follows from ``boxes`` (see prove_nonnegative)."""
    if condition is sp.true:
        return True
    if isinstance(condition, sp.And):
        return all(prove_condition(c, boxes) for c in condition.args)
    if isinstance(condition, sp.Eq):
        return is_zero(condition.lhs - condition.rhs)
    if isinstance(condition, (sp.LessThan, sp.GreaterThan)):
        small, large = (condition.lhs, condition.rhs) if isinstance(condition, sp.LessThan) else (
            condition.rhs, condition.lhs)
        return prove_nonnegative(large - small, boxes)
    if isinstance(condition, (sp.StrictLessThan, sp.StrictGreaterThan)):
        small, large = (condition.lhs, condition.rhs) if isinstance(condition, sp.StrictLessThan) else (
            condition.rhs, condition.lhs)
        gap = large - small
        return prove_nonnegative(gap - 1, boxes) if gap.is_integer else False
    return False


# ---------------------------------------------------------------- rewriting with a rule

def rewrite(expr, pattern, template, variables: Sequence[sp.Symbol], *, conditions=(),
            boxes: Sequence[Box] = (), extra: Callable | None = None):
    """Replace every match of ``pattern`` (its ``variables`` universally quantified) by ``template``.

    A match counts only where ``conditions`` (instantiated) follow from
    ``boxes`` and the index ranges of the sums and integrals around it.
    Returns ``(new expression, number of rewrites)``.

    A matched variable may not take a value containing a symbol that the
    pattern itself names (so ``x(m + N)`` does not match ``x(n)`` with
    ``m = n − N``).
    """
    variables = [v for v in variables if isinstance(v, sp.Symbol)]  # functions are instantiated, not matched
    named = (pattern.free_symbols - set(variables)) if isinstance(pattern, sp.Basic) else set()
    wilds = {v: sp.Wild(f"w_{v.name}", exclude=sorted(named, key=str)) for v in variables}
    pattern_w = pattern.xreplace(wilds)
    template_w = template.xreplace(wilds)
    conditions_w = [sp.sympify(c).xreplace(wilds) for c in conditions]
    count = 0

    def matched(node, context):
        nonlocal count
        found = node.match(pattern_w) if variables else ({} if node == pattern else None)
        if found is None or any(w not in found for w in wilds.values()):
            return node
        if not all(prove_condition(c.xreplace(found), context) for c in conditions_w):
            return node
        count += 1
        return template_w.xreplace(found)

    def visit(node, context):
        if extra is not None:
            replaced = extra(node, context)
            if replaced is not None:
                nonlocal count
                count += 1
                return replaced
        if isinstance(node, _LIMITED):
            inner = list(context) + [(limit[0], limit[1], limit[2]) for limit in node.limits if len(limit) == 3]
            function = visit(node.function, inner)
            node = node if function == node.function else node.func(function, *node.limits)
        elif node.args and not isinstance(node, (sp.Symbol, sp.Number)):
            args = [visit(a, context) for a in node.args]
            if any(a is not b for a, b in zip(args, node.args)):
                node = node.func(*args)
        return matched(node, context) if isinstance(node, sp.Basic) else node

    if isinstance(expr, (list, tuple)):
        return [visit(sp.sympify(e), list(boxes)) for e in expr], count
    return visit(sp.sympify(expr), list(boxes)), count


def _quotient(value, period):
    """The integer q with ``value = q·period + rest``, ``rest`` free of the period's symbol; None when there is none.

    ``period`` is a symbol or a monomial such as ``s·M``: the multiple is read off
    whichever of its symbols gives an integer quotient free of the period's symbols.
    """
    value = sp.expand(value)
    period = sp.sympify(period)
    for symbol in sorted(period.free_symbols, key=str):
        rest_of_period = sp.cancel(period / symbol)
        if rest_of_period.has(symbol) or not value.is_polynomial(symbol) or sp.Poly(value, symbol).degree() != 1:
            continue
        quotient = sp.cancel(sp.Poly(value, symbol).coeff_monomial(symbol) / rest_of_period)
        if quotient.is_integer is True and not quotient.has(*period.free_symbols):
            return quotient
    return None


def reduce_powers(expr, base, period, value):
    """Use ``base**period = value``: ``base**e = value**q · base**(e − q·period)`` for the integer q in e.

    Returns ``(new expression, number of powers reduced)``.
    """
    count = 0

    def visit(node, context):
        nonlocal count
        if isinstance(node, sp.Pow) and node.base == base:
            quotient = _quotient(node.exp, period)
            if quotient is None or quotient == 0:
                return None
            count += 1
            return value ** quotient * base ** sp.expand(node.exp - quotient * period)
        return None

    new, _ = rewrite(expr, sp.Symbol("unused"), sp.Symbol("unused"), [], extra=visit)
    return new, count


def reduce_arguments(expr, function, period, argument=0):
    """Use periodicity ``f(…, a + period, …) = f(…, a, …)``: reduce the argument by its integer multiple of ``period``.

    Returns ``(new expression, number of applications reduced)``.
    """
    count = 0

    def visit(node, context):
        nonlocal count
        if isinstance(node, sp.Function) and node.func == function and len(node.args) > argument:
            quotient = _quotient(node.args[argument], period)
            if quotient is None or quotient == 0:
                return None
            count += 1
            args = list(node.args)
            args[argument] = sp.expand(node.args[argument] - quotient * period)
            return node.func(*args)
        return None

    new, _ = rewrite(expr, sp.Symbol("unused"), sp.Symbol("unused"), [], extra=visit)
    return new, count
