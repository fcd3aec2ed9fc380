r"""Norm ($L^p$) pooling: invariant globally, equivariant on the stride's subgroup locally, and non-expansive.

**Why it matters.** $L^p$ pooling, $(\sum |x_i|^p)^{1/p}$ over a window, sits between
average pooling ($p = 1$ on non-negative inputs) and max pooling ($p \to \infty$);
it is what `convnet_invariances.models.Pool("lp")` computes. It inherits the structure of the other
poolings: a global $L^p$ pool is invariant to every circular shift, a strided
one is equivariant only to shifts by multiples of the stride, and — by
Minkowski's inequality — it never moves by more than the $L^p$ size of the
input's change, so it is as stable as max pooling.

**Proof in words.** A circular shift only reorders the terms of the global sum
$\sum_n |x[n - t]|^p$: re-index by $m = n - t$ and put the wrapped terms back with
periodicity. A window of the stride-$s$ pool of $S_{st}x$ reads $x$ at
$sn + k - st = s(n - t) + k$: the window $n - t$ of the pool of $x$. For the bound,
Minkowski gives $\|a\|_p \le \|b\|_p + \|a - b\|_p$, and exchanging $a$ and $b$
(with $\|b - a\|_p = \|a - b\|_p$) gives the other side.

**References.** Boureau, Ponce & LeCun, "A theoretical analysis of feature pooling
in visual recognition", ICML 2010; Sermanet, Chintala & LeCun, "Convolutional
neural networks applied to house numbers digit classification", ICPR 2012.
"""

import sympy as sp

from ._core import (
    AbsoluteBound,
    Algebra,
    Between,
    Bound,
    Chain,
    Claim,
    Fold,
    Instance,
    Merge,
    Periodic,
    Reindex,
    Rule,
    Split,
    Step,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

n, m, t, k, i = sp.symbols("n m t k i", integer=True)
N, p, s = sp.symbols("N p s", integer=True, positive=True)
x, a, b, F, G = sp.Function("x"), sp.Function("a"), sp.Function("b"), sp.Function("f"), sp.Function("g")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_lp_pooling_invariance_equivariance_and_bound",
    text="The twin uses `convnet_invariances.models.GlobalPool(\"lp\")` and `convnet_invariances.models.Pool(\"lp\", 2)` with $p = 2, 3$ on random "
         "images: the suite's orbit engine checks that the global pool is invariant to every circular shift and that "
         "the local pool is equivariant to shifts by multiples of 2 (`strided_action`), within the float "
         "tolerance model (powers and roots are not exact); for random pairs of windows it checks "
         "$|\\|a\\|_p - \\|b\\|_p| \\le \\|a - b\\|_p$. Its negative half expects a one-pixel shift to break "
         "the local pool's equivariance.",
)


class Norm(sp.Function):
    """``Norm(body, i)``: the $L^p$ norm of the values ``body`` over a window indexed by ``i``."""

    nargs = 2

    @property
    def free_symbols(self):
        return self.args[0].free_symbols - {self.args[1]}

    def _latex(self, printer):
        return r"\left\| %s \right\|_{p, %s}" % (printer._print(self.args[0]), printer._print(self.args[1]))


def theorem() -> Theorem:
    # (a) global Lp pooling
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Global = notation("GlobalLp", r"\|{0}\|_p")
    shift = Rule("the circular shift", Shifted(n), x(n - t), "definition", (n,))
    pooled_x = Rule("global $L^p$ pooling", Global(x(n)), sp.Sum(sp.Abs(x(n)) ** p, (n, 0, N - 1)) ** (1 / p),
                    "definition")
    pooled_shifted = Rule("global $L^p$ pooling of the shifted signal", Global(Shifted(n)),
                          sp.Sum(sp.Abs(Shifted(n)) ** p, (n, 0, N - 1)) ** (1 / p), "definition")
    periodic = Periodic("periodicity", x, N, text="A signal on ℤ/N is an N-periodic signal on ℤ.")

    def power_sum(low, high, argument=m):
        return sp.Sum(sp.Abs(x(argument)) ** p, (m, low, high))

    rest = power_sum(0, N - 1 - t)
    a_claim = Claim("(a)", "Global $L^p$ pooling is invariant to every circular shift: {formula}.",
                    Global(Shifted(n)), Global(x(n)), hypotheses=(periodic,), conditions=(Between(t, 0, N - 1),))
    steps_a = derive(
        Global(Shifted(n)),
        (pooled_shifted.rhs, Unfold(pooled_shifted)),
        (sp.Sum(sp.Abs(x(n - t)) ** p, (n, 0, N - 1)) ** (1 / p), Unfold(shift)),
        (power_sum(-t, N - 1 - t) ** (1 / p), Reindex(n, n - t, m)),
        ((power_sum(-t, -1) + rest) ** (1 / p), Split(m, 0)),
        ((power_sum(N - t, N - 1, m - N) + rest) ** (1 / p), Reindex(m, m + N, m, start=-t)),
        ((power_sum(N - t, N - 1) + rest) ** (1 / p), Use(periodic)),
        (power_sum(0, N - 1) ** (1 / p), Merge(m)),
        (Global(x(n)), Fold(pooled_x)),
    )

    # (b) local Lp pooling with windows of s and stride s
    ShiftedBy = notation("ShiftedBy", r"(S_{{st}} x)[{0}]")
    Pool = notation("LpPool", r"(P_s x)[{0}]")
    PoolShifted = notation("LpPoolShifted", r"(P_s S_{{st}} x)[{0}]")
    ShiftedPool = notation("ShiftedLpPool", r"(S_t P_s x)[{0}]")
    shift_by = Rule("the shift by $st$", ShiftedBy(m), x(m - s * t), "definition", (m,))
    pool = Rule("$L^p$ pooling over windows of $s$ with stride $s$", Pool(n),
                sp.Sum(sp.Abs(x(s * n + k)) ** p, (k, 0, s - 1)) ** (1 / p), "definition", (n,))
    pool_shifted = Rule("$L^p$ pooling of the shifted signal", PoolShifted(n),
                        sp.Sum(sp.Abs(ShiftedBy(s * n + k)) ** p, (k, 0, s - 1)) ** (1 / p), "definition", (n,))
    shifted_pool = Rule("the shifted pooled signal", ShiftedPool(n), Pool(n - t), "definition", (n,))
    b_claim = Claim("(b)", "A strided $L^p$ pool is equivariant to shifts by multiples of its stride: {formula}.",
                    PoolShifted(n), ShiftedPool(n))
    steps_b = derive(
        PoolShifted(n),
        (pool_shifted.rhs, Unfold(pool_shifted)),
        (sp.Sum(sp.Abs(x(s * n + k - s * t)) ** p, (k, 0, s - 1)) ** (1 / p), Unfold(shift_by)),
        (sp.Sum(sp.Abs(x(s * (n - t) + k)) ** p, (k, 0, s - 1)) ** (1 / p), Algebra(), "factor the index"),
        (Pool(n - t), Fold(pool)),
        (ShiftedPool(n), Fold(shifted_pool)),
    )

    # (c) non-expansive, from Minkowski's inequality
    minkowski = Rule("Minkowski's inequality", Norm(F(i) + G(i), i), Norm(F(i), i) + Norm(G(i), i), "fact",
                     (F, G), relation="<=")
    negation = Rule("a norm ignores the sign", Norm(-F(i), i), Norm(F(i), i), "fact", (F,))
    A, B, D = Norm(a(i), i), Norm(b(i), i), Norm(a(i) - b(i), i)
    difference = sp.Lambda(i, a(i) - b(i))
    triangle = Claim("Lemma 1", "Minkowski with $a = b + (a - b)$: {formula}.", A, B + D, "<=", lemma=True)
    one_side = Claim("Lemma 2", "{formula} for any two windows $a$ and $b$.", A - B, D, "<=", variables=(a, b),
                     lemma=True)
    other_side = Claim("Lemma 3", "Exchanging the windows: {formula}.", B - A, D, "<=", lemma=True)
    c_claim = Claim("(c)", "$L^p$ pooling is non-expansive: {formula} for any two windows of values $a$ and $b$ — "
                           "in particular for a window of $S_t x$ and the same window of $x$.", sp.Abs(A - B), D, "<=")
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim),
        parts=(Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Chain(triangle, (Step(A, B + D, Bound((Instance(minkowski, ((F, b), (G, difference))),))),)),
               Chain(one_side, (Step(A - B, D, Bound((Instance(triangle),))),)),
               Chain(other_side, derive(B - A, (Norm(b(i) - a(i), i), Bound((Instance(one_side, ((a, b), (b, a))),))),
                                        (D, Use(negation, ((F, sp.Lambda(i, a(i) - b(i))),))))),
               Chain(c_claim, (Step(sp.Abs(A - B), D, AbsoluteBound(one_side, other_side)),))),
        definitions=(shift, pooled_x, pooled_shifted, shift_by, pool, pool_shifted, shifted_pool),
        hypotheses=(periodic,),
        facts=(minkowski, negation),
        twin=TWIN,
    )
