r"""Max pooling: invariance within the window, and the non-expansive bound.

**Why it matters.** This is the precise sense in which pooling gives "local
invariance" (Goodfellow et al., §9.3): not to every small shift, only to those
that keep each window's winner inside it and bring in nothing larger. Beyond
that, max pooling is non-expansive: it never moves its output by more than the
largest change of its input, so a small change stays small.

**Proof in words.** (a) After the shift every value in the window is at most
$M$ — the values kept were already at most $M$, and the values brought in are at
most $M$ by assumption — so the maximum is at most $M$; and $M$ itself is still in
the window, so the maximum is at least $M$. (b) For every $i$,
$a_i \le b_i + |a_i - b_i| \le \max b + \max |a - b|$; so $\max a$ is at most the
same bound, and exchanging $a$ and $b$ gives the other side. Nothing depends on
the window's size or shape. (c) A value larger than $M$ entering the window
changes the output.

**References.** Goodfellow, Bengio & Courville, *Deep Learning*, §9.3; Boureau,
Ponce & LeCun, "A theoretical analysis of feature pooling", ICML 2010.
"""

import sympy as sp

from ._core import (
    AbsoluteBound,
    Antisymmetry,
    Bound,
    Chain,
    Claim,
    Instance,
    MaxOf,
    Maximum,
    Rule,
    Step,
    Theorem,
    Twin,
    UpperBound,
    Use,
    Witness,
    derive,
)

i, j = sp.symbols("i j", integer=True)
M, y = sp.symbols("M y", real=True)
u, a, b, F = sp.Function("u"), sp.Function("a"), sp.Function("b"), sp.Function("f")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_max_pooling_window_invariance_and_non_expansiveness",
    text="The twin builds an image whose every $3 \\times 3$ window holds one peak in its centre, above "
         "every other value, and checks bitwise with the suite's orbit engine that `MaxPool2d(3)` is invariant to the "
         "one-pixel shifts that keep each peak inside its window. It checks on random float images and shifts that "
         "$\\|\\mathrm{pool}(S_t x) - \\mathrm{pool}(x)\\|_\\infty \\le \\|S_t x - x\\|_\\infty$, and that a "
         "one-pixel shift of a generic image does change a 2×2 max-pooled output.",
)


def theorem() -> Theorem:
    element = Rule("a maximum bounds each value", F(j), Maximum(F(i), i), "fact", (F, j), relation="<=",
                   text="For every $j$ in the window, $f(j)$ is at most the largest value.")
    absolute = Rule("a number is at most its absolute value", y, sp.Abs(y), "fact", (y,), relation="<=")

    # (a) window invariance, for a window of any size
    bounded = Rule("every value after the shift is at most $M$", u(i), M, "hypothesis", (i,), relation="<=",
                   text="The values kept were at most the window's maximum $M$; the values brought in are at most "
                        "$M$ by assumption.")
    kept = Rule("the maximum stays in the window", u(j), M, "hypothesis",
                text="Position $j$ of the shifted window holds the old maximum.")
    window = Maximum(u(i), i)
    upper = Claim("Lemma 1", "The shifted window's maximum is at most $M$: {formula}.", window, M, "<=",
                  hypotheses=(bounded,), lemma=True)
    lower = Claim("Lemma 2", "It is at least $M$: {formula}.", M, window, "<=", hypotheses=(kept,), lemma=True)
    a_claim = Claim("(a)", "If a shift keeps a window's maximum $M$ inside the window and brings in only values "
                           "at most $M$, the pooled value is unchanged: {formula}.", window, M,
                    hypotheses=(bounded, kept))
    steps_upper = (Step(window, M, UpperBound(bounded)),)
    steps_lower = derive(M, (u(j), Use(kept, reverse=True)),
                         (window, Bound((Instance(element, ((F, u),)),))))
    steps_a = (Step(window, M, Antisymmetry(upper, lower)),)

    # (b) non-expansive: |max a − max b| ≤ max |a − b|
    A, B, D = Maximum(a(i), i), Maximum(b(i), i), Maximum(sp.Abs(a(i) - b(i)), i)
    each = Claim("Lemma 3", "Each value of $a$ is at most $\\max b + \\max |a - b|$: {formula}.",
                 a(i), B + D, "<=", variables=(i,), lemma=True)
    steps_each = derive(
        a(i),
        (b(i) + sp.Abs(a(i) - b(i)), Bound((Instance(absolute, ((y, a(i) - b(i)),)),)),
         "$a_i = b_i + (a_i - b_i)$"),
        (B + D, Bound((Instance(element, ((F, b), (j, i))),
                       Instance(element, ((F, sp.Lambda(i, sp.Abs(a(i) - b(i)))), (j, i)))))),
    )
    max_a = Claim("Lemma 4", "Hence {formula}.", A, B + D, "<=", lemma=True)
    one_side = Claim("Lemma 5", "That is, {formula} for any two windows of values $a$ and $b$.", A - B, D, "<=",
                     variables=(a, b), lemma=True)
    other_side = Claim("Lemma 6", "Exchanging $a$ and $b$: {formula}.", B - A, D, "<=", lemma=True)
    b_claim = Claim("(b)", "Max pooling is non-expansive: {formula} for any two windows of values $a$ and $b$.",
                    sp.Abs(A - B), D, "<=")
    steps_b = (Step(sp.Abs(A - B), D, AbsoluteBound(one_side, other_side)),)

    # (c) a larger value brought in changes the output
    x_prev, x0, x1 = sp.symbols("x_{-1} x_0 x_1", real=True)
    c_claim = Claim("(c)", "A shift that brings in a value larger than the window's maximum changes the pooled "
                           "value: {formula} for some values.", MaxOf(x_prev, x0), MaxOf(x0, x1), "!=")
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim),
        parts=(Chain(upper, steps_upper), Chain(lower, steps_lower), Chain(a_claim, steps_a),
               Chain(each, steps_each), Chain(max_a, (Step(A, B + D, UpperBound(each)),)),
               Chain(one_side, (Step(A - B, D, Bound((Instance(max_a),))),)),
               Chain(other_side, (Step(B - A, D, Bound((Instance(one_side, ((a, b), (b, a))),))),)),
               Chain(b_claim, steps_b),
               Chain(c_claim, (Step(MaxOf(x_prev, x0), MaxOf(x0, x1),
                                    Witness(((x_prev, 5), (x0, 1), (x1, 0))),
                                    "a window of two shifted by one brings in a 5"),))),
        hypotheses=(bounded, kept),
        facts=(element, absolute),
        twin=TWIN,
    )
