r"""Averaging bounds translation sensitivity, and the bound falls like $2^{-J}$ with the averaging scale.

**Why it matters.** Local averaging (a low-pass filter, average pooling, the
last layer of a scattering transform) does not make a representation exactly
translation invariant; it makes it *insensitive* to translations small compared
with its width. The bound is $|t|\,\|\phi'\|_1\,\|x\|_\infty$, and widening the
filter by $2^J$ divides it by $2^J$: the precise sense of "invariant up to
$2^J$" in the scattering transform (Mallat, 2012).

**Proof in words.** Moving the shift from the signal onto the filter (a
substitution) writes the change of the output as one integral of
$(\phi(u - w - t) - \phi(u - w))\,x(w)$. Its modulus is at most the integral of the
modulus (triangle inequality), and $|x| \le \|x\|_\infty$. A second substitution
makes the integral independent of $u$, and a function moved by $t$ changes in
$L^1$ by at most $|t|$ times the $L^1$ norm of its derivative (fundamental
theorem of calculus). For a Gaussian of width $\sigma$, that norm is
$\sqrt{2/\pi}/\sigma$, computed here; doubling the width halves it.

**References.** Mallat, "Group invariant scattering", CPAM 2012, §2.3; Bruna &
Mallat, "Invariant scattering convolution networks", TPAMI 2013.
"""

import sympy as sp

from ._core import (
    Algebra,
    Bound,
    Chain,
    Claim,
    Fold,
    Instance,
    Rule,
    Substitute,
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

u, v, w, t = sp.symbols("u v w t", real=True)
X, sigma = sp.symbols("X sigma", positive=True)
J = sp.Symbol("J", integer=True, nonnegative=True)
phi, x, G, P = sp.Function("phi"), sp.Function("x"), sp.Function("g"), sp.Function("p")
oo = sp.oo

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_gaussian_smoothing_moves_by_at_most_the_bound_and_the_bound_halves",
    text="The twin smooths random bounded float64 signals with sampled Gaussians of widths $\\sigma 2^J$, "
         "$J = 0, \\dots, 3$, shifts the signal by several $t$, and checks that the largest change of the output "
         "stays below $|t|\\,\\sqrt{2/\\pi}/(\\sigma 2^J)\\,\\|x\\|_\\infty$ (plus a small discretisation "
         "margin) and that the measured worst change roughly halves from one $J$ to the next.",
)


def _line(body, variable):
    return sp.Integral(body, (variable, -oo, oo))


def gaussian(width, at=u):
    return sp.exp(-at**2 / (2 * width**2)) / (sp.sqrt(2 * sp.pi) * width)


def theorem() -> Theorem:
    SmoothShifted = notation("SmoothShifted", r"(\phi \star S_t x)({0})")
    Change = notation("Change", r"\Delta({0})")
    Smooth = notation("Smooth", r"(\phi \star x)({0})")
    smooth_shifted = Rule("smoothing the shifted signal", SmoothShifted(u), _line(phi(u - v) * x(v - t), v),
                          "definition", (u,))
    smooth = Rule("smoothing", Smooth(u), _line(phi(u - w) * x(w), w), "definition", (u,))
    sup = Rule("$x$ is bounded", sp.Abs(x(w)), X, "hypothesis", (w,), relation="<=",
               text="$X = \\|x\\|_\\infty$.")
    triangle = Rule("the triangle inequality for integrals", sp.Abs(_line(G(w), w)), _line(sp.Abs(G(w)), w),
                    "fact", (G,), relation="<=")
    bounded = Rule("integrating against a bounded function", _line(sp.Abs(G(w)) * sp.Abs(x(w)), w),
                   X * _line(sp.Abs(G(w)), w), "fact", (G,), relation="<=", needs=(sup,),
                   text="Uses $|x(w)| \\le X$ for every $w$.")
    translation = Rule("translating an integrable function", _line(sp.Abs(P(w) - P(w - t)), w),
                       sp.Abs(t) * _line(sp.Abs(sp.Derivative(P(w), w)), w), "fact", (P,), relation="<=",
                       text="$p(w) - p(w - t) = \\int_0^t p'(w - s)\\,ds$, then exchange the integrals (fundamental "
                            "theorem of calculus, Fubini).")

    change = Rule("the change of the output", Change(u), SmoothShifted(u) - Smooth(u), "definition", (u,))
    difference = Change(u)
    kernel_change = phi(u - w - t) - phi(u - w)
    lemma = Claim("Lemma 1", "Moving the shift onto the filter: {formula}.", difference,
                  _line(kernel_change * x(w), w), lemma=True)
    steps_lemma = derive(
        difference,
        (SmoothShifted(u) - Smooth(u), Unfold(change)),
        (smooth_shifted.rhs - Smooth(u), Unfold(smooth_shifted)),
        (smooth_shifted.rhs - smooth.rhs, Unfold(smooth)),
        (_line(phi(u - w - t) * x(w), w) - smooth.rhs, Substitute(v, v - t, w), "$w = v - t$"),
        (_line(kernel_change * x(w), w), Algebra(), "one integral"),
    )
    norm = _line(sp.Abs(sp.Derivative(phi(w), w)), w)
    a_claim = Claim("(a)", "For an integrable filter $\\phi$ with integrable derivative and a bounded signal, "
                           "every output moves by at most {formula}.", sp.Abs(difference), sp.Abs(t) * X * norm,
                    "<=", hypotheses=(sup,))
    after_triangle = _line(sp.Abs(kernel_change) * sp.Abs(x(w)), w)
    moved = _line(sp.Abs(phi(v) - phi(v - t)), v)
    steps_a = derive(
        sp.Abs(difference),
        (sp.Abs(_line(kernel_change * x(w), w)), Use(lemma)),
        (after_triangle, Bound((Instance(triangle, ((G, sp.Lambda(w, kernel_change * x(w))),)),))),
        (X * _line(sp.Abs(kernel_change), w), Bound((Instance(bounded, ((G, sp.Lambda(w, kernel_change)),)),))),
        (X * moved, Substitute(w, u - w, v), "$v = u - w$: the bound no longer depends on $u$"),
        (sp.Abs(t) * X * norm, Bound((Instance(translation, ((P, phi),), weight=X),)),
         "rename the integration variable; $X \\ge 0$"),
    )

    L1 = notation("L1Derivative", r"\|\phi_{{{0}}}'\|_1")
    l1 = Rule("the $L^1$ norm of a Gaussian's derivative", L1(sigma),
              _line(sp.Abs(sp.diff(gaussian(sigma), u)), u), "definition", (sigma,),
              text="$\\phi_\\sigma$ is the unit-mass Gaussian of width $\\sigma$.")
    b_claim = Claim("(b)", "For the unit-mass Gaussian of width $\\sigma$: {formula}.", L1(sigma),
                    sp.sqrt(2 / sp.pi) / sigma, variables=(sigma,))
    steps_b = derive(L1(sigma), (l1.rhs, Unfold(l1)), (sp.sqrt(2 / sp.pi) / sigma, Algebra(), "sympy integrates"))
    wide = sigma * 2**J
    c_claim = Claim("(c)", "Widening the Gaussian by $2^J$ divides the bound by $2^J$: {formula}.", L1(wide),
                    2 ** (-J) * L1(sigma))
    steps_c = derive(L1(wide), (sp.sqrt(2 / sp.pi) / wide, Use(b_claim, ((sigma, wide),))),
                     (2 ** (-J) * L1(sigma), Fold(l1)))
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim),
        parts=(Chain(lemma, steps_lemma), Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Chain(c_claim, steps_c)),
        definitions=(smooth_shifted, smooth, change, l1),
        hypotheses=(sup,),
        facts=(triangle, bounded, translation),
        twin=TWIN,
    )
