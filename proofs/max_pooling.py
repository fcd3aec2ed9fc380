r"""Theorem 6 — Max pooling: invariance within the window, and the non-expansive bound.

**Statement.** (a) Let a window $W$ hold values with maximum $M$ at a position
that stays in $W$ after the shift, and let every value the shift brings in be
$\le M$. Then the pooled output of the window is unchanged. (b) For any two
inputs, $|\max_i a_i - \max_i b_i| \le \max_i |a_i - b_i|$; with $a = S_t x$,
$b = x$: $\|\mathrm{pool}(S_t x) - \mathrm{pool}(x)\|_\infty \le \|S_t x - x\|_\infty$.

**Method.** Values are parametrised by non-negative gaps to the maximum
($v_i = M - p_i$, $p_i \ge 0$) so that sympy can decide each inequality from
the symbols' assumptions.

**Why it matters.** This is the precise sense in which pooling gives "local
invariance" (Goodfellow et al., §9.3): not to every small shift, only to those
that keep each window's winner inside it.
"""

import sympy as sp

from ._core import Step

NUMERIC_TWIN = "tests/cover/test_prop_pooling.py::test_max_pool_is_invariant_to_shifts_that_keep_each_maximum_in_its_window"

M, D, B = sp.symbols("M D B", real=True)
p = sp.symbols("p0:4", nonnegative=True)
q = sp.symbols("q0:4", nonnegative=True)
A = sp.Symbol("A", real=True)
r = sp.symbols("r0:4", nonnegative=True)
s_ = sp.symbols("s0:4", nonnegative=True)


def derivation():
    window = [M, M - p[1], M - p[2]]  # the maximum sits at position 0
    shifted = [M, M - p[1], M - q[0]]  # a shift by one keeps position 0 in the window and brings in M - q0
    b = [B, B - p[1], B - p[2]]  # B = max b
    a = [bi + D - qi for bi, qi in zip(b, q)]  # |a_i - b_i| <= D, written a_i = b_i + D - q_i with 0 <= q_i <= 2D
    return [
        Step("Before the shift the window holds $M$ and smaller values: its max is $M$.", sp.Max(*window), M),
        Step("After a shift that keeps the maximum inside and brings in a value $\\le M$, the max is still $M$.",
             sp.Max(*shifted), M),
        Step("If the shift brings in a larger value, the output changes (a one-pixel counterexample).",
             sp.Max(M, M - p[1], M + q[0] + 1), M, relation="!="),
        Step("For the bound, each $a_i = b_i + (a_i - b_i) \\le \\max b + \\max|a-b|$; here the gap is "
             "$p_1 + q_1 \\ge 0$:", a[1], B + D, relation="<="),
        Step("The same holds for every $i$, so the largest $a_i$ is at most $\\max b + D$:",
             sp.Max(*a), B + D, relation="<="),
        Step("Exchanging the roles ($A = \\max a$, $b_i = a_i + D - s_i$ with gaps $r_i, s_i \\ge 0$) bounds "
             "$\\max b \\le \\max a + D$; together $|\\max a - \\max b| \\le \\max_i |a_i - b_i|$.",
             sp.Max(*[A - r_i + D - s_i for r_i, s_i in zip((0,) + r[1:3], s_[:3])]), A + D, relation="<="),
    ]
