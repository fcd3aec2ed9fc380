r"""Mellin scaling: in its strip of convergence and with the amplitude normalised, the magnitude is scale invariant.

**Why it matters.** A question often asked: is there a transform whose
magnitude ignores scaling the way the Fourier magnitude ignores shifts? The
Mellin transform is the answer on the continuum: scaling the input by $a$
multiplies the transform by $a^{-s}$. Its modulus is $a^{-\sigma}$ on the line
$\mathrm{Re}\,s = \sigma$, so the magnitude is invariant only after the scaled
input is renormalised by $a^{\sigma}$ (or on $\sigma = 0$), and only where the
integral converges. In log-polar coordinates rotation and scaling become a
translation, which a Fourier magnitude then removes (the Fourier–Mellin
construction). On a pixel grid all of this is approximate; the suite measures
how the error falls with resolution.

**Proof in words.** Substitute $u = ax$ in $\int_0^\infty f(ax)\,x^{s-1}\,dx$: the
integrand becomes $a^{-s}f(u)\,u^{s-1}$, a constant times the original one, so
the two integrals converge for the same $s$ and differ by the factor $a^{-s}$.
With the normalisation $a^{\sigma}$ and $s = \sigma + i\omega$ the remaining factor
is $a^{-i\omega}$, of modulus one. Without it, the factor $a^{-\sigma}$ remains:
$e^{-x}$ scaled by two is a counterexample at $\sigma = 1$. Rotating and scaling
$(e^\rho\cos\theta, e^\rho\sin\theta)$ gives the point with coordinates
$(\rho + \log a, \theta + \alpha)$ by the addition formulas.

**References.** Bracewell, *The Fourier Transform and its Applications*, ch. 7;
Casasent & Psaltis, "Scale invariant optical transform", 1976.
"""

import sympy as sp

from ._core import Algebra, Chain, Claim, Fold, Rule, Step, Substitute, Theorem, Twin, Unfold, Use, Witness, derive
from ._core import notation

x, u, a = sp.symbols("x u a", positive=True)
s = sp.Symbol("s")
sigma, omega = sp.symbols("sigma omega", real=True)
rho, theta, alpha = sp.symbols("rho theta alpha", real=True)
f = sp.Function("f")
oo = sp.oo

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_mellin_magnitude_is_scale_invariant_up_to_a_falling_grid_error",
    text="The twin computes Mellin transforms by the trapezoid rule on a logarithmic grid, for $f(x) = x e^{-x}$ "
         "and for its copy scaled by $a = 2$ and normalised by $a^{\\sigma}$, at $\\sigma = 1$ and several "
         "$\\omega$: the relative difference of the magnitudes falls below $10^{-8}$ as the grid is refined (the "
         "theorem is exact on the continuum). Without the normalisation the ratio of the magnitudes stays at "
         "$a^{-\\sigma} = 1/2$, as part (c) says.",
)


def theorem() -> Theorem:
    Mellin = notation("Mellin", r"\mathcal{{M}}[f]({0})")
    Scaled = notation("MellinScaled", r"\mathcal{{M}}[f(a\,\cdot)]({0})")
    Normalised = notation("MellinNormalised", r"\mathcal{{M}}[a^{{\sigma}} f(a\,\cdot)]({0})")
    mellin = Rule("the Mellin transform", Mellin(s), sp.Integral(f(x) * x ** (s - 1), (x, 0, oo)), "definition", (s,))
    scaled = Rule("the Mellin transform of the scaled function", Scaled(s),
                  sp.Integral(f(a * x) * x ** (s - 1), (x, 0, oo)), "definition", (s,))
    normalised = Rule("the transform of the normalised scaling", Normalised(s),
                      sp.Integral(a ** sigma * f(a * x) * x ** (s - 1), (x, 0, oo)), "definition", (s,),
                      text="The scaling $f \\mapsto a^{\\sigma} f(a\\,\\cdot)$ keeps $\\int |f(x)|\\,x^{\\sigma-1}dx$.")
    a_claim = Claim("(a)", "For a positive scale $a$ and every $s$ in the strip where the integral defining "
                           "$\\mathcal{M}[f](s)$ converges — the same strip for $f(a\\,\\cdot)$: {formula}.",
                    Scaled(s), a ** (-s) * Mellin(s), variables=(s,))
    substituted = sp.Integral(f(u) * (u / a) ** (s - 1) / a, (u, 0, oo))
    pulled = a ** (-s) * sp.Integral(f(u) * u ** (s - 1), (u, 0, oo))
    steps_a = derive(
        Scaled(s),
        (scaled.rhs, Unfold(scaled)),
        (substituted, Substitute(x, a * x, u), "$x = u/a$, $dx = du/a$; the limits stay $0$ and $\\infty$"),
        (pulled, Algebra(), "$(u/a)^{s-1}/a = a^{-s}u^{s-1}$: a constant factor, so convergence is unchanged"),
        (a ** (-s) * Mellin(s), Fold(mellin)),
    )
    line = sigma + sp.I * omega
    b_claim = Claim("(b)", "With the amplitude normalised, the magnitude on the line through $\\sigma$ in the strip "
                           "is scale invariant: {formula}.", sp.Abs(Normalised(line)), sp.Abs(Mellin(line)))
    steps_b = derive(
        sp.Abs(Normalised(line)),
        (sp.Abs(normalised.rhs.xreplace({s: line})), Unfold(normalised)),
        (a ** sigma * sp.Abs(Scaled(line)), Fold(scaled), "the constant $a^{\\sigma} > 0$ leaves the integral"),
        (sp.Abs(Mellin(line)), Use(a_claim, ((s, line),)), "$|a^{\\sigma} a^{-\\sigma - i\\omega}| = 1$"),
    )

    plain = sp.Abs(sp.Integral(f(a * x) * x ** (line - 1), (x, 0, oo)))
    original = sp.Abs(sp.Integral(f(x) * x ** (line - 1), (x, 0, oo)))
    c_claim = Claim("(c)", "Without the normalisation the magnitude changes off the imaginary axis: {formula} for "
                           "some $f$, $a$ and $\\sigma$.", plain, original, "!=")
    witness = Witness(((f, sp.Lambda(x, sp.exp(-x))), (a, 2), (sigma, 1), (omega, 0)))

    ScaledRotated = notation("ScaledRotated", r"a R_{{\alpha}} P({0}, {1})", 2)
    LogPolar = notation("LogPolar", r"P({0}, {1})", 2)
    point = Rule("a point in log-polar coordinates", LogPolar(rho, theta),
                 sp.ImmutableMatrix([sp.exp(rho) * sp.cos(theta), sp.exp(rho) * sp.sin(theta)]), "definition",
                 (rho, theta))
    moved = Rule("rotating by $\\alpha$ and scaling by $a$", ScaledRotated(rho, theta),
                 sp.ImmutableMatrix([a * (sp.cos(alpha) * sp.exp(rho) * sp.cos(theta)
                                          - sp.sin(alpha) * sp.exp(rho) * sp.sin(theta)),
                                     a * (sp.sin(alpha) * sp.exp(rho) * sp.cos(theta)
                                          + sp.cos(alpha) * sp.exp(rho) * sp.sin(theta))]),
                 "definition", (rho, theta))
    d_claim = Claim("(d)", "In log-polar coordinates a rotation by $\\alpha$ and a scaling by $a$ are a "
                           "translation: {formula}.", ScaledRotated(rho, theta),
                    LogPolar(rho + sp.log(a), theta + alpha))
    steps_d = derive(
        ScaledRotated(rho, theta),
        (moved.rhs, Unfold(moved)),
        (sp.ImmutableMatrix([sp.exp(rho + sp.log(a)) * sp.cos(theta + alpha),
                             sp.exp(rho + sp.log(a)) * sp.sin(theta + alpha)]), Algebra(),
         "the addition formulas for $\\cos$ and $\\sin$, and $a = e^{\\log a}$"),
        (LogPolar(rho + sp.log(a), theta + alpha), Fold(point)),
    )
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim),
        parts=(Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Chain(c_claim, (Step(plain, original, witness, "$f(x) = e^{-x}$ scaled by two, at $s = 1$"),)),
               Chain(d_claim, steps_d)),
        definitions=(mellin, scaled, normalised, point, moved),
        twin=TWIN,
    )
