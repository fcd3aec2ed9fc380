r"""Pointwise maps commute with pixel permutations; equivariance composes; a composite can be more invariant.

**Why it matters.** A CNN is a composition of convolutions (Theorem 1),
pointwise nonlinearities and pooling. Composition guarantees the composite
*at least* every symmetry that all its stages share — but not *at most*: a
later stage can remove what an earlier one broke. A global max after a stride-2
max pool is invariant to every circular shift although the pool alone is not
even equivariant to a one-pixel shift. So "a network is exactly as
equivariant as its least equivariant stage" is false; the composite's
invariance has to be checked as a whole.

**Proof in words.** Shifts, rot90, flips and the transpose move pixels to
other pixels — rot90's index map has an explicit inverse — so they are
permutations $\pi$ of the positions, and $(\pi x)[p] = x[\pi^{-1}(p)]$. A pointwise
$\sigma$ acts on the value at each position, so it does not care where the value
came from. Composition: substitute the equivariance of $f$ inside $h$, then use
that of $h$. Global sum pooling: re-index the sum by the shift and use
periodicity to put the wrapped terms back. Global max pooling and the
pool-then-max composite are checked case by case.

**References.** Cohen & Welling, "Group equivariant convolutional networks",
ICML 2016, §4–5; Goodfellow, Bengio & Courville, *Deep Learning*, §9.3.
"""

import sympy as sp

from ._core import (
    Between,
    Chain,
    Claim,
    Fold,
    Instances,
    MaxOf,
    Merge,
    Param,
    Periodic,
    Reindex,
    Rule,
    Split,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

p, q, i, j, n, m, t = sp.symbols("p q i j n m t", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
X, Y, g = sp.symbols("X Y g")
x, sigma, f, h = sp.Function("x"), sp.Function("sigma"), sp.Function("f"), sp.Function("h")
w1, w2 = sp.symbols("w1 w2", integer=True)

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_composition_pointwise_maps_and_pooling",
    text="The twin checks with the suite's orbit engine, bitwise, that ReLU commutes with every element of D4 and every "
         "circular shift on random integer images; that circular conv → ReLU → conv → global average pooling is "
         "invariant to every circular shift (composition); that a stride-2 max pool alone is not equivariant to a "
         "one-pixel shift; and that global max pooling after it is invariant to every circular shift anyway.",
)


def _max(values):
    return MaxOf(*values)


def _roll(values, shift):
    return [values[(k - shift) % len(values)] for k in range(len(values))]


def theorem() -> Theorem:
    # (a) a pointwise map and a permutation of positions
    PiInv = notation("PiInv", r"\pi^{{-1}}({0})")
    Perm = notation("Perm", r"(\pi x)[{0}]")
    SigmaPerm = notation("SigmaPerm", r"\sigma(\pi x)[{0}]")
    SigmaX = notation("SigmaX", r"\sigma(x)[{0}]")
    PermSigma = notation("PermSigma", r"\left(\pi\,\sigma(x)\right)[{0}]")
    perm = Rule("a permutation of positions", Perm(p), x(PiInv(p)), "definition", (p,),
                text="$\\pi$ is any bijection of the positions: a shift, rot90, a flip, the transpose.")
    pointwise = Rule("a pointwise map", SigmaX(q), sigma(x(q)), "definition", (q,))
    pointwise_perm = Rule("the pointwise map of the permuted signal", SigmaPerm(p), sigma(Perm(p)), "definition",
                          (p,))
    perm_pointwise = Rule("the permuted pointwise map", PermSigma(p), SigmaX(PiInv(p)), "definition", (p,))
    a = Claim("(a)", "A pointwise map commutes with every permutation of positions: {formula}.",
              SigmaPerm(p), PermSigma(p))
    steps_a = derive(SigmaPerm(p), (sigma(Perm(p)), Unfold(pointwise_perm)), (sigma(x(PiInv(p))), Unfold(perm)),
                     (SigmaX(PiInv(p)), Fold(pointwise)), (PermSigma(p), Fold(perm_pointwise)))

    # (b) rot90's index map is a bijection of the N×N grid
    Rot = notation("RotIndex", r"r({0}, {1})", 2)
    RotInv = notation("RotIndexInverse", r"r^{{-1}}{0}")
    rot = Rule("rot90's index map", Rot(i, j), sp.Tuple(j, N - 1 - i), "definition", (i, j),
               text="As `torch.rot90`: output pixel $(i, j)$ reads input pixel $(j, N - 1 - i)$.")
    rot_inv = Rule("its inverse", RotInv(sp.Tuple(w1, w2)), sp.Tuple(N - 1 - w2, w1), "definition", (w1, w2))
    b = Claim("(b)", "rot90 only permutes the pixels of an $N \\times N$ grid: its index map has an inverse, "
                     "{formula}.", RotInv(Rot(i, j)), sp.Tuple(i, j))
    steps_b = derive(RotInv(Rot(i, j)), (RotInv(sp.Tuple(j, N - 1 - i)), Unfold(rot)),
                     (sp.Tuple(i, j), Unfold(rot_inv), "$N - 1 - (N - 1 - i) = i$"))

    # (c) composition of equivariant maps
    Act = notation("Act", r"{0} \cdot {1}", 2)
    rho = notation("rho", r"\rho({0})")
    rho2 = notation("rho2", r"\rho'({0})")
    f_equivariant = Rule("$f$ is equivariant", f(Act(g, X)), Act(rho(g), f(X)), "hypothesis", (g, X))
    h_equivariant = Rule("$h$ is equivariant", h(Act(rho(g), Y)), Act(rho2(g), h(Y)), "hypothesis", (g, Y))
    c = Claim("(c)", "Equivariance composes: {formula}, for every input $x$ and group element $g$.",
              h(f(Act(g, sp.Symbol("x")))), Act(rho2(g), h(f(sp.Symbol("x")))),
              hypotheses=(f_equivariant, h_equivariant))
    steps_c = derive(c.lhs, (h(Act(rho(g), f(sp.Symbol("x")))), Use(f_equivariant)),
                     (c.rhs, Use(h_equivariant)))

    # (d) global sum pooling is invariant to circular shifts
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Pooled = notation("Pooled", r"\mathrm{{sum}}({0})")
    shift = Rule("the circular shift", Shifted(n), x(n - t), "definition", (n,))
    pooled_x = Rule("global sum pooling", Pooled(x(n)), sp.Sum(x(n), (n, 0, N - 1)), "definition")
    pooled_shifted = Rule("global sum pooling of the shifted signal", Pooled(Shifted(n)),
                          sp.Sum(Shifted(n), (n, 0, N - 1)), "definition")
    periodic = Periodic("periodicity", x, N, text="A signal on ℤ/N is an N-periodic signal on ℤ.")
    d = Claim("(d)", "Global sum (and average) pooling is invariant to every circular shift: {formula}.",
              Pooled(Shifted(n)), Pooled(x(n)), hypotheses=(periodic,), conditions=(Between(t, 0, N - 1),))
    rest = sp.Sum(x(m), (m, 0, N - 1 - t))
    steps_d = derive(
        Pooled(Shifted(n)),
        (pooled_shifted.rhs, Unfold(pooled_shifted)),
        (sp.Sum(x(n - t), (n, 0, N - 1)), Unfold(shift)),
        (sp.Sum(x(m), (m, -t, N - 1 - t)), Reindex(n, n - t, m)),
        (sp.Sum(x(m), (m, -t, -1)) + rest, Split(m, 0)),
        (sp.Sum(x(m - N), (m, N - t, N - 1)) + rest, Reindex(m, m + N, m, start=-t)),
        (sp.Sum(x(m), (m, N - t, N - 1)) + rest, Use(periodic)),
        (sp.Sum(x(m), (m, 0, N - 1)), Merge(m)),
        (Pooled(x(n)), Fold(pooled_x)),
    )

    # (e) global max pooling, case by case
    size, shift_p = sp.symbols("N t", integer=True)

    def rolled_max(N, t):
        values = list(sp.symbols(f"x0:{N}"))
        return _max(_roll(values, t)), _max(values)

    scope_e = (Param(size, 2, 6), Param(shift_p, 1, size - 1))
    e = Claim("(e)", "Global max pooling is invariant to circular shifts, {scope}.", relation="=", scope=scope_e)

    # (f) and (g): a stride-2 max pool breaks one-pixel shifts; a global max after it restores invariance
    out_p = sp.Symbol("u", integer=True)

    def pool(values):
        return [_max(values[k:k + 2]) for k in range(0, len(values), 2)]

    def pool_vs_shift(N, u):
        values = list(sp.symbols(f"x0:{N}"))
        return pool(_roll(values, 1)), _roll(pool(values), u)

    def split_pair(N, u):
        return tuple((sp.Symbol(f"x{k}"), {0: 1, 1: 2}.get(k, 0)) for k in range(N))

    scope_f = (Param(size, values=(4, 6)), Param(out_p, 0, size / 2 - 1))
    f_claim = Claim("(f)", "A stride-two max pool over windows of two is not equivariant to the one-sample "
                           "shift: no output shift $u$ matches, {scope}.", relation="!=", scope=scope_f)

    def pooled_max(N, t):
        values = list(sp.symbols(f"x0:{N}"))
        return _max(pool(_roll(values, t))), _max(pool(values))

    scope_g = (Param(size, values=(4, 6, 8)), Param(shift_p, 1, size - 1))
    g_claim = Claim("(g)", "Yet global max pooling after that max pool is invariant to every circular shift — "
                           "the composite is more invariant than its first stage, {scope}.", scope=scope_g)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b, c, d, e, f_claim, g_claim),
        parts=(Chain(a, steps_a), Chain(b, steps_b), Chain(c, steps_c), Chain(d, steps_d),
               Instances(e, rolled_max, scope_e, ((size, 4), (shift_p, 1))),
               Instances(f_claim, pool_vs_shift, scope_f, ((size, 4), (out_p, 1)), witness=split_pair,
                         text="The witness is $x = (1, 2, 0, \\dots, 0)$: the shift splits the pair $(1, 2)$ "
                              "across two windows, so the pooled values change instead of moving."),
               Instances(g_claim, pooled_max, scope_g, ((size, 4), (shift_p, 1)))),
        definitions=(perm, pointwise, pointwise_perm, perm_pointwise, rot, rot_inv, shift, pooled_x, pooled_shifted),
        hypotheses=(f_equivariant, h_equivariant, periodic),
        twin=TWIN,
    )
