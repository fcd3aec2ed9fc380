r"""Theorem 10 — Averaging bounds translation sensitivity, scaling like $2^{-J}$.

**Statement.** For an averaging kernel $\phi$ and a bounded signal $x$,
$\|\phi \star S_t x - \phi \star x\|_\infty \le |t|\,\|\phi'\|_1\,\|x\|_\infty$. For the
dilated kernel $\phi_J(u) = 2^{-J}\phi(2^{-J}u)$, $\|\phi_J'\|_1 = 2^{-J}\|\phi'\|_1$: the
bound falls like $2^{-J}$. This is the core of the scattering transform's
translation invariance "up to $2^J$" (Mallat, 2012).

**Method.** (1) $\phi \star S_t x - \phi \star x = (S_t\phi - \phi) \star x$; (2)
$\phi(w-t) - \phi(w) = -\int_0^t \phi'(w-s)\,ds$, so
$\|S_t\phi - \phi\|_1 \le |t|\,\|\phi'\|_1$; (3) for the Gaussian,
$\|\phi_J'\|_1 = 2\phi_J(0)$, computed by sympy.
"""

import sympy as sp

from ._core import Step

NUMERIC_TWIN = "tests/models/test_registry.py::test_profile_line[scattering_J2:translation-invariant:approximate]"

u, v, w, t, s_ = sp.symbols("u v w t s", real=True)
J = sp.Symbol("J", integer=True, nonnegative=True)
sigma = sp.Symbol("sigma", positive=True)
phi, x = sp.Function("phi"), sp.Function("x")


def gaussian(width):
    return sp.exp(-u**2 / (2 * width**2)) / (sp.sqrt(2 * sp.pi) * width)


def l1_of_derivative(kernel):
    derivative = sp.diff(kernel, u)
    # the Gaussian's derivative is negative for u > 0 and odd: ||phi'||_1 = 2 * integral_0^oo (-phi')
    return 2 * sp.integrate(-derivative, (u, 0, sp.oo))


def derivation():
    g = gaussian(sigma)
    return [
        Step("Move the shift onto the kernel: in $\\int \\phi(u-v)\\,x(v-t)\\,dv$ substitute $v \\to v + t$.",
             (phi(u - v) * x(v - t)).subs(v, v + t), phi(u - t - v) * x(v)),
        Step("The kernel's change is an integral of its derivative (fundamental theorem of calculus; "
             "shown for the Gaussian).",
             g.subs(u, w - t) - g.subs(u, w), -sp.integrate(sp.diff(g, u).subs(u, w - s_), (s_, 0, t))),
        Step("For a unit-mass Gaussian of width $\\sigma$, $\\|\\phi'\\|_1 = 2\\phi(0) = \\sqrt{2/\\pi}/\\sigma$.",
             l1_of_derivative(g), sp.sqrt(2 / sp.pi) / sigma),
        Step("With $\\sigma = \\sigma_0 2^{J}$ the bound's constant halves with every octave: "
             "$\\|\\phi_J'\\|_1 = 2^{-J}\\|\\phi_0'\\|_1$.",
             l1_of_derivative(gaussian(sigma * 2**J)), 2 ** (-J) * l1_of_derivative(gaussian(sigma))),
        Step("The bound itself: each output moves by at most $|t|\\,\\|\\phi_J'\\|_1\\,\\|x\\|_\\infty$ "
             "(the kernel change integrates to $|t|\\,\\|\\phi'\\|_1$ and $|x| \\le \\|x\\|_\\infty$); for $t \\ge 0$:",
             sp.integrate(sp.Abs(sp.diff(g, u)), (u, -sp.oo, sp.oo)) * t, t * sp.sqrt(2 / sp.pi) / sigma),
    ]
