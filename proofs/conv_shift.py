r"""Cross-correlation commutes with translation.

**Why it matters.** This is the equivariance that weight sharing buys, and
only equivariance: the output moves with the input; it does not stay put.
Every later statement about convolutional networks (stride, padding, pooling,
rotations) starts from it. Convolution is correlation with a flipped kernel,
so everything here holds for it too.

**Proof in words.** The shifted signal read at $n + k$ is $x$ read at
$(n - t) + k$: the sum that defines $(K \star S_t x)[n]$ is, term by term, the
sum that defines $(K \star x)[n - t]$. Nothing is re-indexed: the same kernel
weight $K[k]$ meets the same sample. In 2-D with several input channels the
argument is the same with a pair of offsets and a sum over channels. On a
finite grid with circular padding the indices are read modulo $N$, and reducing
$n - t$ modulo $N$ first changes nothing.

**References.** Goodfellow, Bengio & Courville, *Deep Learning* (2016), §9.2–9.4.
"""

import sympy as sp

from ._core import Chain, Claim, Fold, Rule, Theorem, Twin, Unfold, derive, notation

n, k, t = sp.symbols("n k t", integer=True)
n1, n2, k1, k2, t1, t2, c = sp.symbols("n1 n2 k1 k2 t1 t2 c", integer=True)
C = sp.Symbol("C", integer=True, positive=True)
N, w = sp.symbols("N w", integer=True, positive=True)
K, x = sp.Function("K"), sp.Function("x")
oo = sp.oo

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_circular_correlation_commutes_with_every_circular_shift",
    text="The twin draws a random integer-valued image and a `torch.nn.Conv2d` with circular padding and integer "
         "weights (exact arithmetic, so equality is bitwise), and checks with the suite's orbit engine that the layer "
         "commutes with every circular shift of the image — the whole orbit, not a sample. Its negative half "
         "switches to zero padding and expects the same check to find a violation.",
)


def theorem() -> Theorem:
    # (a) on the integers
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    Corr = notation("Corr", r"(K \star x)[{0}]")
    CorrShifted = notation("CorrShifted", r"(K \star S_t x)[{0}]")
    ShiftedCorr = notation("ShiftedCorr", r"\left(S_t (K \star x)\right)[{0}]")
    shift = Rule("the shift $S_t$", Shifted(n), x(n - t), "definition", (n,))
    corr = Rule("the correlation", Corr(n), sp.Sum(K(k) * x(n + k), (k, -oo, oo)), "definition", (n,),
                text="The kernel has finite support, so the sum is finite.")
    corr_shifted = Rule("the correlation of the shifted signal", CorrShifted(n),
                        sp.Sum(K(k) * Shifted(n + k), (k, -oo, oo)), "definition", (n,))
    shifted_corr = Rule("the shifted correlation", ShiftedCorr(n), Corr(n - t), "definition", (n,))
    a = Claim("(a)", "On the integers, for every kernel $K$ of finite support, signal $x$ and shift $t$: {formula}.",
              CorrShifted(n), ShiftedCorr(n))
    steps_a = derive(
        CorrShifted(n),
        (corr_shifted.rhs, Unfold(corr_shifted)),
        (sp.Sum(K(k) * x(n + k - t), (k, -oo, oo)), Unfold(shift), "the shifted signal at $n+k$ is $x$ at $n+k-t$"),
        (Corr(n - t), Fold(corr), "the same sum is the correlation at $n - t$"),
        (ShiftedCorr(n), Fold(shifted_corr)),
    )

    # (b) 2-D, several input channels
    Shifted2 = notation("Shifted2", r"(S_{{t_1,t_2}} x)[{0}, {1}, {2}]", 3)
    Corr2 = notation("Corr2", r"(K \star x)[{0}, {1}]", 2)
    Corr2Shifted = notation("Corr2Shifted", r"(K \star S_{{t_1,t_2}} x)[{0}, {1}]", 2)
    ShiftedCorr2 = notation("ShiftedCorr2", r"\left(S_{{t_1,t_2}} (K \star x)\right)[{0}, {1}]", 2)
    shift2 = Rule("the 2-D shift", Shifted2(c, n1, n2), x(c, n1 - t1, n2 - t2), "definition", (c, n1, n2))

    def correlation(signal):
        return sp.Sum(K(c, k1, k2) * signal(c, n1 + k1, n2 + k2), (k1, -oo, oo), (k2, -oo, oo), (c, 0, C - 1))

    corr2 = Rule("the 2-D correlation over $C$ channels", Corr2(n1, n2), correlation(x), "definition", (n1, n2))
    corr2_shifted = Rule("the 2-D correlation of the shifted image", Corr2Shifted(n1, n2), correlation(Shifted2),
                         "definition", (n1, n2))
    shifted_corr2 = Rule("the shifted 2-D correlation", ShiftedCorr2(n1, n2), Corr2(n1 - t1, n2 - t2), "definition",
                         (n1, n2))
    b = Claim("(b)", "In 2-D with $C$ input channels, for every shift $(t_1, t_2)$: {formula}.",
              Corr2Shifted(n1, n2), ShiftedCorr2(n1, n2))
    steps_b = derive(
        Corr2Shifted(n1, n2),
        (corr2_shifted.rhs, Unfold(corr2_shifted)),
        (sp.Sum(K(c, k1, k2) * x(c, n1 + k1 - t1, n2 + k2 - t2), (k1, -oo, oo), (k2, -oo, oo), (c, 0, C - 1)),
         Unfold(shift2)),
        (Corr2(n1 - t1, n2 - t2), Fold(corr2), "the channel sum is untouched by the shift"),
        (ShiftedCorr2(n1, n2), Fold(shifted_corr2)),
    )

    # (c) circular padding: indices modulo N, as the array code computes it
    CircShifted = notation("CircShifted", r"(S_t x)[{0}]")
    CircCorr = notation("CircCorr", r"(K \circledast x)[{0}]")
    CircCorrShifted = notation("CircCorrShifted", r"(K \circledast S_t x)[{0}]")
    CircShiftedCorr = notation("CircShiftedCorr", r"\left(S_t (K \circledast x)\right)[{0}]")
    circ_shift = Rule("the circular shift", CircShifted(n), x(sp.Mod(n - t, N)), "definition", (n,))
    circ_corr = Rule("the circular correlation with a kernel of width $w$", CircCorr(n),
                     sp.Sum(K(k) * x(sp.Mod(n + k, N)), (k, 0, w - 1)), "definition", (n,))
    circ_corr_shifted = Rule("the circular correlation of the shifted signal", CircCorrShifted(n),
                             sp.Sum(K(k) * CircShifted(sp.Mod(n + k, N)), (k, 0, w - 1)), "definition", (n,))
    circ_shifted_corr = Rule("the circularly shifted correlation", CircShiftedCorr(n), CircCorr(sp.Mod(n - t, N)),
                             "definition", (n,))
    cc = Claim("(c)", "With circular padding on $N$ samples (indices modulo $N$) and a kernel of any width $w$: "
                      "{formula}.", CircCorrShifted(n), CircShiftedCorr(n))
    steps_c = derive(
        CircCorrShifted(n),
        (circ_corr_shifted.rhs, Unfold(circ_corr_shifted)),
        (sp.Sum(K(k) * x(sp.Mod(n + k - t, N)), (k, 0, w - 1)), Unfold(circ_shift),
         "$((n + k) \\bmod N - t) \\bmod N = (n + k - t) \\bmod N$"),
        (CircCorr(sp.Mod(n - t, N)), Fold(circ_corr), "and $((n - t) \\bmod N + k) \\bmod N$ is the same index"),
        (CircShiftedCorr(n), Fold(circ_shifted_corr)),
    )
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b, cc),
        parts=(Chain(a, steps_a), Chain(b, steps_b), Chain(cc, steps_c)),
        definitions=(shift, corr, corr_shifted, shifted_corr, shift2, corr2, corr2_shifted, shifted_corr2,
                     circ_shift, circ_corr, circ_corr_shifted, circ_shifted_corr),
        twin=TWIN,
    )
