r"""The DFT shift theorem: a circular shift multiplies the DFT by a phase, so $|\hat x|$ is shift invariant.

**Why it matters.** The magnitude of the discrete Fourier transform is a
feature that no circular shift can change — the classical answer to "how do I
get a translation-invariant representation?". It is invariant only to
*circular* shifts: a shift that fills the vacated samples with zeros changes it,
which is why the claim needs its boundary condition.

**Proof in words.** In $\widehat{S_t x}[k] = \sum_{n=0}^{N-1} x[n-t]\,\omega^{kn}$
substitute $m = n - t$: the factor $\omega^{kt}$ leaves the sum, which now runs
over $m = -t, \dots, N-1-t$. The terms with $m < 0$ are, because $x$ is
$N$-periodic and $\omega^N = 1$, the terms $m + N$ that the range lost at its
top end; putting them back gives $\hat x[k]$. For the DFT, $\omega = e^{-2\pi i/N}$
has modulus one, so the phase does not change magnitudes. In 2-D the same moves
run once per axis. On the real line the substitution $v = u - a$ does it in one move.

**References.** Oppenheim & Schafer, *Discrete-Time Signal Processing*, §8.6.1;
Bracewell, *The Fourier Transform and its Applications*, ch. 6.
"""

import sympy as sp

from ._core import (
    Algebra,
    Between,
    Chain,
    Claim,
    Fold,
    Merge,
    Periodic,
    Reindex,
    RootOfUnity,
    Rule,
    Split,
    Step,
    Substitute,
    Theorem,
    Twin,
    Unfold,
    Use,
    Witness,
    notation,
)

n, m, t, k = sp.symbols("n m t k", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
omega = sp.Symbol("omega")
x = sp.Function("x")

n1, n2, m1, m2, t1, t2, k1, k2 = sp.symbols("n1 n2 m1 m2 t1 t2 k1 k2", integer=True)
N1, N2 = sp.symbols("N1 N2", integer=True, positive=True)
omega1, omega2 = sp.symbols("omega1 omega2")

u, v, a, xi = sp.symbols("u v a xi", real=True)
f = sp.Function("f")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_dft_of_a_circular_shift_is_a_phase_ramp",
    text="The twin takes random float64 signals and images of several sizes, rolls them by every shift with "
         "`torch.roll`, and compares `torch.fft.fft`/`fft2` of the rolled signal with the phase "
         "$e^{-2\\pi i kt/N}$ times the original spectrum, and the magnitudes with each other, to a tolerance of "
         "a few units of float64 rounding. Its negative half shifts with zero fill instead and checks that the "
         "magnitudes then differ — the boundary condition in the statement is needed.",
)


def theorem() -> Theorem:
    Xhat = notation("DFT", r"\hat{{x}}[{0}]")
    XShat = notation("DFTShifted", r"\widehat{{S_t x}}[{0}]")
    Shifted = notation("Shifted", r"(S_t x)[{0}]")
    dft = Rule("the DFT", Xhat(k), sp.Sum(x(n) * omega ** (k * n), (n, 0, N - 1)), "definition", (k,))
    shift = Rule("the circular shift", Shifted(n), x(n - t), "definition", (n,))
    dft_shifted = Rule("the DFT of the shifted signal", XShat(k),
                       sp.Sum(Shifted(n) * omega ** (k * n), (n, 0, N - 1)), "definition", (k,))
    dft_omega = Rule("the DFT's root of unity", omega, sp.exp(-2 * sp.pi * sp.I / N), "definition")
    periodic = Periodic("periodicity", x, N, text="A signal on ℤ/N is an N-periodic signal on ℤ.")
    root = RootOfUnity("ω is an N-th root of unity", omega, N)

    in_range = Between(t, 0, N - 1)
    a_claim = Claim("(a)", "A circular shift by $t$ multiplies the DFT by a phase: {formula}.",
                    XShat(k), omega ** (k * t) * Xhat(k), hypotheses=(periodic, root), conditions=(in_range,),
                    variables=(k,))
    before = sp.Sum(x(m) * omega ** (k * m), (m, -t, -1))
    after = sp.Sum(x(m) * omega ** (k * m), (m, 0, N - 1 - t))
    steps_a = (
        Step(XShat(k), dft_shifted.rhs, Unfold(dft_shifted)),
        Step(dft_shifted.rhs, sp.Sum(x(n - t) * omega ** (k * n), (n, 0, N - 1)), Unfold(shift)),
        Step(sp.Sum(x(n - t) * omega ** (k * n), (n, 0, N - 1)),
             sp.Sum(x(m) * omega ** (k * (m + t)), (m, -t, N - 1 - t)), Reindex(n, n - t, m)),
        Step(sp.Sum(x(m) * omega ** (k * (m + t)), (m, -t, N - 1 - t)),
             omega ** (k * t) * sp.Sum(x(m) * omega ** (k * m), (m, -t, N - 1 - t)), Algebra(),
             "the phase does not depend on $m$"),
        Step(omega ** (k * t) * sp.Sum(x(m) * omega ** (k * m), (m, -t, N - 1 - t)),
             omega ** (k * t) * (before + after), Split(m, 0)),
        Step(omega ** (k * t) * (before + after),
             omega ** (k * t) * (sp.Sum(x(m - N) * omega ** (k * (m - N)), (m, N - t, N - 1)) + after),
             Reindex(m, m + N, m, start=-t), "the negative indices, moved up by one period"),
        Step(omega ** (k * t) * (sp.Sum(x(m - N) * omega ** (k * (m - N)), (m, N - t, N - 1)) + after),
             omega ** (k * t) * (sp.Sum(x(m) * omega ** (k * (m - N)), (m, N - t, N - 1)) + after),
             Use(periodic)),
        Step(omega ** (k * t) * (sp.Sum(x(m) * omega ** (k * (m - N)), (m, N - t, N - 1)) + after),
             omega ** (k * t) * (sp.Sum(x(m) * omega ** (k * m), (m, N - t, N - 1)) + after), Use(root)),
        Step(omega ** (k * t) * (sp.Sum(x(m) * omega ** (k * m), (m, N - t, N - 1)) + after),
             omega ** (k * t) * sp.Sum(x(m) * omega ** (k * m), (m, 0, N - 1)), Merge(m)),
        Step(omega ** (k * t) * sp.Sum(x(m) * omega ** (k * m), (m, 0, N - 1)), omega ** (k * t) * Xhat(k),
             Fold(dft)),
    )

    root_claim = Claim("Lemma 1", "The DFT's $\\omega$ is an $N$-th root of unity: {formula}.",
                       omega ** N, sp.Integer(1), lemma=True)
    b_claim = Claim("(b)", "For the DFT (its $\\omega$ defined below) the magnitude is shift invariant: {formula}.",
                    sp.Abs(XShat(k)), sp.Abs(Xhat(k)), hypotheses=(periodic, root), conditions=(in_range,))
    modulus = sp.Abs(omega) ** (k * t) * sp.Abs(Xhat(k))
    steps_b = (
        Step(sp.Abs(XShat(k)), modulus, Use(a_claim), "the modulus of a product is the product of the moduli"),
        Step(modulus, sp.Abs(Xhat(k)), Unfold(dft_omega), "$|e^{-2\\pi i/N}| = 1$"),
    )

    # 2-D: the same moves once per axis
    Xhat2 = notation("DFT2", r"\hat{{x}}[{0}, {1}]", 2)
    XShat2 = notation("DFT2Shifted", r"\widehat{{S_{{t_1, t_2}} x}}[{0}, {1}]", 2)
    periodic1 = Periodic("periodicity along rows", x, N1, 0, 2)
    periodic2 = Periodic("periodicity along columns", x, N2, 1, 2)
    root1 = RootOfUnity("ω₁ is an N₁-th root of unity", omega1, N1)
    root2 = RootOfUnity("ω₂ is an N₂-th root of unity", omega2, N2)

    def double(body, rows, cols, i=n1, j=n2):
        return sp.Sum(sp.Sum(body, (j, *cols)), (i, *rows))

    phase = omega1 ** (k1 * n1) * omega2 ** (k2 * n2)
    dft2 = Rule("the 2-D DFT", Xhat2(k1, k2), double(x(n1, n2) * phase, (0, N1 - 1), (0, N2 - 1)), "definition",
                (k1, k2))
    dft2_shifted = Rule("the 2-D DFT of the shifted image", XShat2(k1, k2),
                        double(x(n1 - t1, n2 - t2) * phase, (0, N1 - 1), (0, N2 - 1)), "definition", (k1, k2))
    c_claim = Claim("(c)", "In 2-D the phase factorises over the axes: {formula}.",
                    XShat2(k1, k2), omega1 ** (k1 * t1) * omega2 ** (k2 * t2) * Xhat2(k1, k2),
                    hypotheses=(periodic1, periodic2, root1, root2),
                    conditions=(Between(t1, 0, N1 - 1), Between(t2, 0, N2 - 1)))
    P = omega1 ** (k1 * t1) * omega2 ** (k2 * t2)
    body = x(m1, m2) * omega1 ** (k1 * m1) * omega2 ** (k2 * m2)
    e = [XShat2(k1, k2), dft2_shifted.rhs,
         double(x(m1, n2 - t2) * omega1 ** (k1 * (m1 + t1)) * omega2 ** (k2 * n2), (-t1, N1 - 1 - t1),
                (0, N2 - 1), m1, n2),
         double(x(m1, m2) * omega1 ** (k1 * (m1 + t1)) * omega2 ** (k2 * (m2 + t2)), (-t1, N1 - 1 - t1),
                (-t2, N2 - 1 - t2), m1, m2),
         P * double(body, (-t1, N1 - 1 - t1), (-t2, N2 - 1 - t2), m1, m2),
         P * (double(body, (-t1, -1), (-t2, N2 - 1 - t2), m1, m2)
              + double(body, (0, N1 - 1 - t1), (-t2, N2 - 1 - t2), m1, m2))]
    rows_rest = double(body, (0, N1 - 1 - t1), (-t2, N2 - 1 - t2), m1, m2)
    e += [P * (double(x(m1 - N1, m2) * omega1 ** (k1 * (m1 - N1)) * omega2 ** (k2 * m2), (N1 - t1, N1 - 1),
                      (-t2, N2 - 1 - t2), m1, m2) + rows_rest),
          P * (double(x(m1, m2) * omega1 ** (k1 * (m1 - N1)) * omega2 ** (k2 * m2), (N1 - t1, N1 - 1),
                      (-t2, N2 - 1 - t2), m1, m2) + rows_rest),
          P * (double(body, (N1 - t1, N1 - 1), (-t2, N2 - 1 - t2), m1, m2) + rows_rest),
          P * double(body, (0, N1 - 1), (-t2, N2 - 1 - t2), m1, m2)]

    def columns(inner):
        return P * sp.Sum(inner, (m1, 0, N1 - 1))

    cols_rest = sp.Sum(body, (m2, 0, N2 - 1 - t2))
    e += [columns(sp.Sum(body, (m2, -t2, -1)) + cols_rest),
          columns(sp.Sum(x(m1, m2 - N2) * omega1 ** (k1 * m1) * omega2 ** (k2 * (m2 - N2)), (m2, N2 - t2, N2 - 1))
                  + cols_rest),
          columns(sp.Sum(x(m1, m2) * omega1 ** (k1 * m1) * omega2 ** (k2 * (m2 - N2)), (m2, N2 - t2, N2 - 1))
                  + cols_rest),
          columns(sp.Sum(body, (m2, N2 - t2, N2 - 1)) + cols_rest),
          columns(sp.Sum(body, (m2, 0, N2 - 1))),
          P * Xhat2(k1, k2)]
    moves = [Unfold(dft2_shifted), Reindex(n1, n1 - t1, m1), Reindex(n2, n2 - t2, m2), Algebra(), Split(m1, 0),
             Reindex(m1, m1 + N1, m1, start=-t1), Use(periodic1), Use(root1), Merge(m1), Split(m2, 0),
             Reindex(m2, m2 + N2, m2, start=-t2), Use(periodic2), Use(root2), Merge(m2), Fold(dft2)]
    steps_c = tuple(Step(before_, after_, move) for before_, after_, move in zip(e, e[1:], moves))

    # the continuous Fourier transform
    Fhat = notation("Fourier", r"\hat{{f}}({0})")
    FShat = notation("FourierShifted", r"\widehat{{f(\cdot - a)}}({0})")
    kernel = sp.exp(-2 * sp.pi * sp.I * u * xi)
    fourier = Rule("the Fourier transform", Fhat(xi), sp.Integral(f(u) * kernel, (u, -sp.oo, sp.oo)), "definition",
                   (xi,))
    fourier_shifted = Rule("the Fourier transform of the shifted function", FShat(xi),
                           sp.Integral(f(u - a) * kernel, (u, -sp.oo, sp.oo)), "definition", (xi,))
    d_claim = Claim("(d)", "On the real line, for an integrable $f$: {formula}.", FShat(xi),
                    sp.exp(-2 * sp.pi * sp.I * a * xi) * Fhat(xi))
    moved = sp.Integral(f(v) * sp.exp(-2 * sp.pi * sp.I * (v + a) * xi), (v, -sp.oo, sp.oo))
    pulled = sp.exp(-2 * sp.pi * sp.I * a * xi) * sp.Integral(f(v) * sp.exp(-2 * sp.pi * sp.I * v * xi),
                                                               (v, -sp.oo, sp.oo))
    steps_d = (
        Step(FShat(xi), fourier_shifted.rhs, Unfold(fourier_shifted)),
        Step(fourier_shifted.rhs, moved, Substitute(u, u - a, v)),
        Step(moved, pulled, Algebra()),
        Step(pulled, sp.exp(-2 * sp.pi * sp.I * a * xi) * Fhat(xi), Fold(fourier)),
    )

    # the boundary condition matters: a zero-fill shift changes the magnitude
    zero_fill = sp.Abs(sp.Sum(x(n - t) * sp.exp(-2 * sp.pi * sp.I * k * n / N), (n, t, N - 1)))
    plain = sp.Abs(sp.Sum(x(n) * sp.exp(-2 * sp.pi * sp.I * k * n / N), (n, 0, N - 1)))
    e_claim = Claim("(e)", "With zero fill instead of wrap-around the magnitude changes: {formula}.",
                    zero_fill, plain, "!=", conditions=(in_range,))
    steps_e = (Step(zero_fill, plain, Witness(((N, 2), (t, 1), (k, 0), (x, sp.Lambda(n, 1)))),
                    "a constant signal of length 2 shifted by one sample"),)

    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim, e_claim),
        parts=(Chain(a_claim, steps_a), Chain(root_claim, (Step(omega ** N, sp.Integer(1), Unfold(dft_omega)),)),
               Chain(b_claim, steps_b), Chain(c_claim, steps_c), Chain(d_claim, steps_d), Chain(e_claim, steps_e)),
        definitions=(shift, dft, dft_shifted, dft_omega, dft2, dft2_shifted, fourier, fourier_shifted),
        hypotheses=(periodic, root, periodic1, periodic2, root1, root2),
        twin=TWIN,
    )
