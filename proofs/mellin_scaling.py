r"""Theorem 8 — The Mellin scaling theorem, and log-polar coordinates.

**Statement.** For $a > 0$ and $\mathcal{M}[f](s) = \int_0^\infty f(x)\,x^{s-1}\,dx$,
$\mathcal{M}[f(a\,\cdot)](s) = a^{-s}\,\mathcal{M}[f](s)$. With $s = \sigma + i\omega$,
$|a^{-s}| = a^{-\sigma}$: the magnitude is scale invariant on $\mathrm{Re}(s) = 0$, and
elsewhere after multiplying by $a^{\sigma}$. In log-polar coordinates
$(\rho, \theta) = (\log r, \theta)$, a rotation by $\alpha$ and a scaling by $a$
become the translation $(\rho, \theta) \mapsto (\rho + \log a, \theta + \alpha)$ —
which a Fourier magnitude then removes (the Fourier–Mellin construction).

**Method.** The general case by the substitution $u = ax$; concrete functions
with `sympy.mellin_transform`; the log-polar map by trigonometric identities.

**Why it matters.** It answers the seed question literally: the Mellin
magnitude is scale invariant — on the continuum. On a pixel grid the
invariance is only approximate, and the suite measures how the error falls
with resolution.
"""

import sympy as sp

from ._core import Step

NUMERIC_TWIN = "tests/models/test_registry.py::test_profile_line[mellin_magnitude_1d:scale-invariant:approximate]"

x, u, a = sp.symbols("x u a", positive=True)
s = sp.Symbol("s")
sigma, omega = sp.symbols("sigma omega", real=True)
rho, theta, alpha = sp.symbols("rho theta alpha", real=True)
f = sp.Function("f")


def derivation():
    scaled = sp.Integral(f(a * x) * x ** (s - 1), (x, 0, sp.oo))
    substituted = scaled.transform(a * x, u)
    return [
        Step("Substitute $u = ax$ (so $x = u/a$, $dx = du/a$) in $\\mathcal{M}[f(a\\cdot)](s)$.",
             substituted, sp.Integral(f(u) * (u / a) ** (s - 1) / a, (u, 0, sp.oo))),
        Step("Pull the constant out: $(u/a)^{s-1}/a = a^{-s} u^{s-1}$.",
             (u / a) ** (s - 1) / a, a ** (-s) * u ** (s - 1)),
        Step("Concretely, $f(x) = e^{-x}$: `mellin_transform` gives $a^{-s}\\Gamma(s)$ for $e^{-ax}$.",
             sp.mellin_transform(sp.exp(-a * x), x, s, noconds=True),
             a ** (-s) * sp.mellin_transform(sp.exp(-x), x, s, noconds=True)),
        Step("… and for $f(x) = e^{-x^2}$ the same factor appears.",
             sp.mellin_transform(sp.exp(-(a * x) ** 2), x, s, noconds=True),
             a ** (-s) * sp.mellin_transform(sp.exp(-x**2), x, s, noconds=True)),
        Step("The factor's modulus is $a^{-\\sigma}$: scale invariant on $\\sigma = 0$, and after "
             "multiplying by $a^{\\sigma}$ for any $\\sigma$.",
             sp.Abs(a ** (-(sigma + sp.I * omega))), a ** (-sigma)),
        Step("Log-polar coordinates: rotating by $\\alpha$ and scaling by $a$ the point "
             "$(e^\\rho\\cos\\theta, e^\\rho\\sin\\theta)$ gives the point at $(\\rho + \\log a, \\theta + \\alpha)$ "
             "(first coordinate) …",
             a * (sp.cos(alpha) * sp.exp(rho) * sp.cos(theta) - sp.sin(alpha) * sp.exp(rho) * sp.sin(theta)),
             sp.exp(rho + sp.log(a)) * sp.cos(theta + alpha)),
        Step("… and the second coordinate: rotation and scaling are a translation in $(\\rho, \\theta)$.",
             a * (sp.sin(alpha) * sp.exp(rho) * sp.cos(theta) + sp.cos(alpha) * sp.exp(rho) * sp.sin(theta)),
             sp.exp(rho + sp.log(a)) * sp.sin(theta + alpha)),
    ]
