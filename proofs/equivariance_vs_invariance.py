r"""Equivariance versus invariance.

**Why it matters.** A question often asked: is a CNN translation invariant
because of convolution? No: convolution (weight sharing) gives *equivariance*
— the output moves with the input (Theorem 1). *Invariance* appears when an
invariant map, such as global pooling or a Fourier magnitude, follows an
equivariant one. The two are not exclusive: an equivariant map is also
invariant exactly when the output action fixes every output it produces, which
can happen with a non-trivial action (below: the sum broadcast to every
position). What an equivariant map with a non-trivial action does *not* do in
general is stay put: the identity map is the simplest example.

**Proof in words.** If $f(gx) = \rho(g)f(x)$ and $h(\rho(g)y) = h(y)$, substitute the
first inside $h$ and use the second: $h(f(gx)) = h(f(x))$. An equivariant $f$ is
invariant when $\rho(g)$ fixes its outputs — substitute the equivariance, then
the fixed-point property — and only then: if also $f(gx) = f(x)$, then
$\rho(g)f(x) = f(gx) = f(x)$. The map $x \mapsto (\sum_m x[m])\,\mathbb{1}$ is
shift-equivariant with $\rho(t) = S_t$ (re-index the sum and use periodicity)
and shift-invariant, while $S_1$ is not the identity. The identity map is
shift-equivariant and moves a signal under a shift.

**References.** Goodfellow, Bengio & Courville, *Deep Learning*, §9.2; Cohen &
Welling, ICML 2016, §2; Bronstein, Bruna, Cohen & Veličković, *Geometric Deep
Learning* (2021), §3.
"""

import sympy as sp

from ._core import (
    Between,
    Chain,
    Claim,
    Fold,
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
    Witness,
    derive,
    notation,
)

X, Y, g, xs = sp.symbols("X Y g x")
f, h = sp.Function("f"), sp.Function("h")
n, m, t, p = sp.symbols("n m t p", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
x, y = sp.Function("x"), sp.Function("y")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_equivariant_then_invariant_is_invariant_and_equivariant_alone_is_not",
    text="The twin checks with the suite's orbit engine, bitwise on integer images, that a circular convolution is "
         "equivariant but not invariant to circular shifts (the invariance check must find a violation), that "
         "convolution followed by global average pooling is invariant to every circular shift, and that the "
         "map $x \\mapsto (\\sum x)\\,\\mathbb{1}$ passes both the equivariance and the invariance check.",
)


def theorem() -> Theorem:
    Act = notation("Act", r"{0} \cdot {1}", 2)
    rho = notation("rho", r"\rho({0})")
    f_equivariant = Rule("$f$ is equivariant", f(Act(g, X)), Act(rho(g), f(X)), "hypothesis", (g, X))
    h_invariant = Rule("$h$ is invariant to $\\rho$", h(Act(rho(g), Y)), h(Y), "hypothesis", (g, Y))
    fixed = Rule("$\\rho(g)$ fixes the outputs of $f$", Act(rho(g), f(X)), f(X), "hypothesis", (g, X))
    f_invariant = Rule("$f$ is invariant", f(Act(g, X)), f(X), "hypothesis", (g, X))
    a = Claim("(a)", "An equivariant map followed by an invariant one is invariant: {formula}.",
              h(f(Act(g, xs))), h(f(xs)), hypotheses=(f_equivariant, h_invariant))
    steps_a = derive(a.lhs, (h(Act(rho(g), f(xs))), Use(f_equivariant)), (h(f(xs)), Use(h_invariant)))
    b = Claim("(b)", "An equivariant map is invariant when the output action fixes its outputs: {formula}.",
              f(Act(g, xs)), f(xs), hypotheses=(f_equivariant, fixed))
    steps_b = derive(b.lhs, (Act(rho(g), f(xs)), Use(f_equivariant)), (f(xs), Use(fixed)))
    c = Claim("(c)", "… and only then: if an equivariant map is invariant, the action fixes its outputs, "
                     "{formula}.", Act(rho(g), f(xs)), f(xs), hypotheses=(f_equivariant, f_invariant))
    steps_c = derive(c.lhs, (f(Act(g, xs)), Use(f_equivariant, reverse=True)), (f(xs), Use(f_invariant)))

    # (d) a non-trivial action can fix every output: the sum broadcast to every position
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Broadcast = notation("Broadcast", r"F(x)[{0}]")
    BroadcastShifted = notation("BroadcastShifted", r"F(S_t x)[{0}]")
    ShiftedBroadcast = notation("ShiftedBroadcast", r"\left(S_t F(x)\right)[{0}]")
    shift = Rule("the circular shift", Shifted(n), x(n - t), "definition", (n,))
    broadcast = Rule("the sum broadcast to every position", Broadcast(p), sp.Sum(x(m), (m, 0, N - 1)), "definition",
                     (p,), text="$F(x)[p]$ is the same number at every position $p$.")
    broadcast_shifted = Rule("the map applied to the shifted signal", BroadcastShifted(p),
                             sp.Sum(Shifted(m), (m, 0, N - 1)), "definition", (p,))
    shifted_broadcast = Rule("the shifted output", ShiftedBroadcast(p), Broadcast(p - t), "definition", (p,))
    periodic = Periodic("periodicity", x, N, text="A signal on ℤ/N is an N-periodic signal on ℤ.")
    in_range = Between(t, 0, N - 1)
    invariant = Claim("Lemma 1", "The map is invariant: {formula}.", BroadcastShifted(p), Broadcast(p),
                      hypotheses=(periodic,), conditions=(in_range,), variables=(p,), lemma=True)
    steps_invariant = derive(
        BroadcastShifted(p),
        (broadcast_shifted.rhs, Unfold(broadcast_shifted)),
        (sp.Sum(x(m - t), (m, 0, N - 1)), Unfold(shift)),
        (sp.Sum(x(n), (n, -t, N - 1 - t)), Reindex(m, m - t, n)),
        (sp.Sum(x(n), (n, -t, -1)) + sp.Sum(x(n), (n, 0, N - 1 - t)), Split(n, 0)),
        (sp.Sum(x(n - N), (n, N - t, N - 1)) + sp.Sum(x(n), (n, 0, N - 1 - t)), Reindex(n, n + N, n, start=-t)),
        (sp.Sum(x(n), (n, N - t, N - 1)) + sp.Sum(x(n), (n, 0, N - 1 - t)), Use(periodic)),
        (sp.Sum(x(n), (n, 0, N - 1)), Merge(n)),
        (Broadcast(p), Fold(broadcast)),
    )
    d = Claim("(d)", "The sum broadcast to every position is equivariant with the non-trivial action of "
                     "circular shifts on its output: {formula}.", BroadcastShifted(p), ShiftedBroadcast(p),
              hypotheses=(periodic,), conditions=(in_range,))
    steps_d = derive(BroadcastShifted(p), (Broadcast(p), Use(invariant)),
                     (broadcast.rhs, Unfold(broadcast)),
                     (Broadcast(p - t), Fold(broadcast), "the output is the same at every position"),
                     (ShiftedBroadcast(p), Fold(shifted_broadcast)))
    e = Claim("(e)", "It is also invariant (Lemma 1), although the output action is not the identity: {formula} "
                     "for some signal.", y(sp.Mod(n - 1, N)), y(n), "!=")
    steps_e = (Step(y(sp.Mod(n - 1, N)), y(n), Witness(((N, 2), (n, 0), (y, sp.Lambda(m, m)))),
                    "$S_1$ moves the ramp $y = (0, 1)$"),)
    f_claim = Claim("(f)", "The identity map is shift-equivariant, but an equivariant map need not stay put: "
                           "{formula} for some signal.", x(sp.Mod(n - 1, N)), x(n), "!=")
    steps_f = (Step(x(sp.Mod(n - 1, N)), x(n), Witness(((N, 4), (n, 1), (x, sp.Lambda(m, sp.KroneckerDelta(m, 0))))),
                    "an impulse moves"),)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b, c, d, e, f_claim),
        parts=(Chain(a, steps_a), Chain(b, steps_b), Chain(c, steps_c), Chain(invariant, steps_invariant),
               Chain(d, steps_d), Chain(e, steps_e), Chain(f_claim, steps_f)),
        definitions=(shift, broadcast, broadcast_shifted, shifted_broadcast),
        hypotheses=(f_equivariant, h_invariant, fixed, f_invariant, periodic),
        twin=TWIN,
    )
