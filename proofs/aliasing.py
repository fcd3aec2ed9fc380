r"""Subsampling folds the spectrum; a low-pass filter first (BlurPool) reduces the fold but does not remove it.

**Why it matters.** This is the statement behind anti-aliased CNNs (Zhang,
2019). Keeping every other sample of a signal of length $N = 2M$ adds the upper
half of its spectrum onto the lower half. A one-sample shift before
subsampling flips the sign of the folded half, so the subsampled outputs of a
signal and of its shift differ in magnitude — unless the folded half carries
no energy. Blurring first attenuates the upper half: the binomial filter
$(1, 2, 1)/4$ of BlurPool has response $\cos^2(\pi k/N)$, zero at the Nyquist
frequency and small near it, but not zero elsewhere. So BlurPool makes a CNN
*more* shift-stable, not exactly shift-invariant.

**Proof in words.** Using $\omega^{M} = -1$, $\hat x[k] + \hat x[k + M] =
\sum_n (1 + (-1)^n)\,x[n]\,\omega^{kn}$: split the sum by the parity of $n$
(polyphase components) and only the even samples survive, giving twice the
spectrum of the even samples; with a minus sign only the odd samples survive.
If $\hat x[k + M] = 0$, both are $\hat x[k]/2$ up to a phase of modulus one. The
filter's response is $(\omega^{-k} + 2 + \omega^{k})/4 = \cos^2(\pi k/N)$. An impulse
shows that blurring and subsampling still does not commute with a one-sample
shift.

**References.** Zhang, "Making convolutional networks shift-invariant again",
ICML 2019; Oppenheim & Schafer, *Discrete-Time Signal Processing*, §4.6.
"""

import sympy as sp

from ._core import (
    Algebra,
    Chain,
    Claim,
    Fold,
    Instances,
    Param,
    Polyphase,
    RootOfUnity,
    Rule,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

n, m, j, k = sp.symbols("n m j k", integer=True)
M = sp.Symbol("M", integer=True, positive=True)
omega = sp.Symbol("omega")
x = sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_subsampling_aliases_and_blurpool_only_reduces_it",
    text="The twin checks with `torch.fft` on a random signal that the spectrum of the even samples is "
         "$(\\hat x[k] + \\hat x[k + M])/2$ and that of the odd samples $\\omega^{-k}(\\hat x[k] - \\hat x[k + M])/2$; "
         "that for a band-limited signal (the folded half of the spectrum zeroed) both have equal magnitudes; and, "
         "with `convnet_invariances.models.BlurPool` in circular mode, that the relative change of the output under a one-pixel shift "
         "(the smallest over output shifts) is smaller than for plain subsampling but not zero.",
)


EVEN_TERMS = "$1 + (-1)^{2m + j}$ is $2$ for $j = 0$, $0$ for $j = 1$"
ODD_TERMS = ("$1 - (-1)^{2m + j}$ is $0$ for $j = 0$, $2$ for $j = 1$; "
             "$\\omega^{-k}\\omega^{k(2m+1)} = \\omega^{2km}$")


def _blur(values):
    size = len(values)
    return [(values[(i - 1) % size] + 2 * values[i] + values[(i + 1) % size]) / sp.Integer(4) for i in range(size)]


def _roll(values, shift):
    return [values[(i - shift) % len(values)] for i in range(len(values))]


def theorem() -> Theorem:
    X = notation("DFT", r"\hat{{x}}[{0}]")
    Even = notation("EvenDFT", r"\hat{{y}}_0[{0}]")
    Odd = notation("OddDFT", r"\hat{{y}}_1[{0}]")
    dft = Rule("the DFT of $x$ ($N = 2M$ samples)", X(k), sp.Sum(x(n) * omega ** (k * n), (n, 0, 2 * M - 1)),
               "definition", (k,))
    even = Rule("the DFT of the even samples", Even(k), sp.Sum(x(2 * m) * omega ** (2 * k * m), (m, 0, M - 1)),
                "definition", (k,), text="$M$ samples, root of unity $\\omega^2$.")
    odd = Rule("the DFT of the odd samples", Odd(k), sp.Sum(x(2 * m + 1) * omega ** (2 * k * m), (m, 0, M - 1)),
               "definition", (k,), text="The odd samples are the even samples of $S_{-1}x$.")
    half = RootOfUnity("ω is a primitive N-th root of unity", omega, M, sp.Integer(-1),
                       text="$\\omega^{N/2} = \\omega^{M} = -1$.")

    phase_b = omega ** (-k)
    steps = {}
    for label, sign, target, factor in (("(a)", 1, Even, sp.Integer(1)), ("(b)", -1, Odd, phase_b)):
        start = factor * (X(k) + sign * X(k + M)) / 2
        unfolded = factor * (sp.Sum(x(n) * omega ** (k * n), (n, 0, 2 * M - 1))
                             + sign * sp.Sum(x(n) * omega ** ((k + M) * n), (n, 0, 2 * M - 1))) / 2
        signed = factor * (sp.Sum(x(n) * omega ** (k * n), (n, 0, 2 * M - 1))
                           + sign * sp.Sum((-1) ** n * x(n) * omega ** (k * n), (n, 0, 2 * M - 1))) / 2
        combined = factor * sp.Sum((1 + sign * (-1) ** n) * x(n) * omega ** (k * n), (n, 0, 2 * M - 1)) / 2
        split = factor * sp.Sum((1 + sign * (-1) ** (2 * m + j)) * x(2 * m + j) * omega ** (k * (2 * m + j)),
                                (m, 0, M - 1), (j, 0, 1)) / 2
        survivor = 0 if sign == 1 else 1
        kept = sp.Sum(x(2 * m + survivor) * omega ** (2 * k * m), (m, 0, M - 1))
        steps[label] = (start, derive(
            start,
            (unfolded, Unfold(dft)),
            (signed, Use(half), "$\\omega^{(k + M)n} = \\omega^{kn}(\\omega^{M})^n$"),
            (combined, Algebra()),
            (split, Polyphase(n, 2, j, m), "even ($j = 0$) and odd ($j = 1$) samples"),
            (kept, Algebra(), EVEN_TERMS if sign == 1 else ODD_TERMS),
            (target(k), Fold(even if sign == 1 else odd)),
        ))
    a_claim = Claim("(a)", "Keeping the even samples averages the spectrum with its copy shifted by half the band: "
                           "{formula}.", steps["(a)"][0], Even(k), hypotheses=(half,), variables=(k,))
    b_claim = Claim("(b)", "Keeping the odd samples (the even samples after a one-sample shift) flips the sign of "
                           "the folded copy: {formula}.", steps["(b)"][0], Odd(k), hypotheses=(half,), variables=(k,))

    band = Rule("no energy in the folded band at $k$", X(k + M), sp.Integer(0), "hypothesis",
                text="$\\hat x[k + M] = 0$.")
    w = sp.Symbol("w", integer=True)
    unit = Rule("$\\omega$ has modulus one", sp.Abs(omega ** w), sp.Integer(1), "hypothesis", (w,),
                text="Every integer power of $\\omega$ has modulus one, as for the DFT's $e^{-2\\pi i/N}$.")
    even_size = Claim("Lemma 1", "{formula}.", sp.Abs(Even(k)), sp.Abs(X(k)) / 2, hypotheses=(half, band),
                      lemma=True)
    steps_lemma = derive(sp.Abs(Even(k)), (sp.Abs(steps["(a)"][0]), Use(a_claim, reverse=True)),
                         (sp.Abs(X(k)) / 2, Use(band)))
    c_claim = Claim("(c)", "Without energy in the folded band the two subsamplings differ only by a phase: "
                           "{formula}.", sp.Abs(Odd(k)), sp.Abs(Even(k)), hypotheses=(half, band, unit))
    steps_c = derive(
        sp.Abs(Odd(k)),
        (sp.Abs(steps["(b)"][0]), Use(b_claim, reverse=True)),
        (sp.Abs(phase_b * X(k) / 2), Use(band)),
        (sp.Abs(X(k)) / 2, Use(unit)),
        (sp.Abs(Even(k)), Use(even_size, reverse=True)),
    )

    B = notation("BlurResponse", r"\hat{{b}}[{0}]")
    blur = Rule("the response of the binomial filter $(1, 2, 1)/4$", B(k), (omega ** (-k) + 2 + omega ** k) / 4,
                "definition", (k,))
    dft_omega = Rule("the DFT's root of unity", omega, sp.exp(-2 * sp.pi * sp.I / (2 * M)), "definition")
    d_claim = Claim("(d)", "BlurPool's binomial filter passes frequency $k$ with the factor {formula}.", B(k),
                    sp.cos(sp.pi * k / (2 * M)) ** 2, variables=(k,))
    steps_d = derive(B(k), (blur.rhs, Unfold(blur)), (blur.rhs.xreplace({omega: dft_omega.rhs}), Unfold(dft_omega)),
                     (d_claim.rhs, Algebra(), "$e^{i\\theta} + 2 + e^{-i\\theta} = 4\\cos^2(\\theta/2)$"))
    e_claim = Claim("(e)", "It removes the Nyquist frequency exactly, {formula}, and its neighbours only partly.",
                    B(M), sp.Integer(0))
    steps_e = derive(B(M), (sp.Integer(0), Use(d_claim, ((k, M),)), "$\\cos^2(\\pi/2) = 0$"))

    size, out = sp.symbols("N u", integer=True)

    def blurpool_vs_shift(N, u):
        signal = list(sp.symbols(f"x0:{N}"))
        return _blur(_roll(signal, 1))[::2], _roll(_blur(signal)[::2], u)

    def impulse(N, u):
        return tuple((sp.Symbol(f"x{i}"), 1 if i == 0 else 0) for i in range(N))

    scope = (Param(size, values=(4, 6, 8)), Param(out, 0, size / 2 - 1))
    f_claim = Claim("(f)", "Blurring with that filter (circularly) and then subsampling still does not commute "
                           "with a one-sample shift: no output shift $u$ matches, {scope}.", relation="!=",
                    scope=scope)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim, e_claim, f_claim),
        parts=(Chain(a_claim, steps["(a)"][1]), Chain(b_claim, steps["(b)"][1]), Chain(even_size, steps_lemma),
               Chain(c_claim, steps_c), Chain(d_claim, steps_d), Chain(e_claim, steps_e),
               Instances(f_claim, blurpool_vs_shift, scope, ((size, 4), (out, 1)), witness=impulse,
                         text="The witness is an impulse: blurred, it is $(2, 1, 0, \\dots, 0, 1)/4$; its even "
                              "samples hold one $1/2$, those of the blurred shifted impulse two values $1/4$.")),
        definitions=(dft, even, odd, blur, dft_omega),
        hypotheses=(half, band, unit),
        twin=TWIN,
    )
