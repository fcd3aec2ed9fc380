r"""Scattering: invariance up to $2^J$, and why wavelets are stable to deformations where the Fourier modulus is not.

**Why it matters.** The scattering transform (Mallat, 2012) is the CNN that
theory fully explains: wavelet correlations, a modulus, and a final low-pass
average, with fixed filters. Two of its properties answer questions people ask
about CNNs. (1) It is translation *equivariant* before the last average and
*insensitive* to translations after it, by $|t|\,\|\phi_J'\|_1$ (Theorem 10) —
invariance "up to $2^J$". (2) It is stable to small deformations, which the
Fourier modulus — exactly translation invariant — is not: a dilation by $1 + \epsilon$
moves a frequency-$\xi$ component by $\epsilon\xi$, which at high frequency is far
more than a fixed-bandwidth Fourier bin, but always the same fraction of a
wavelet's bandwidth, which grows with $\xi$. How far this can be checked here:
the composition and the bound are derived; the deformation statement is
checked exactly for Gaussian frequency bumps (the shape of a Morlet wavelet's
spectrum), not for general deformations — Mallat's theorem bounds those by
$C\,\|x\|\,(2^{-J}\|\tau\|_\infty + \|\nabla\tau\|_\infty + \dots)$ with a proof beyond this checker.

**Proof in words.** Each stage commutes with circular shifts — correlations by
Theorem 1, the modulus because it is pointwise (Theorem 5) — so substituting
each equivariance in turn moves the shift through the cascade. The last average
then obeys Theorem 10's bound. For the deformation part, sympy integrates the
squared difference of two Gaussian bumps of width $b$ centred at $\xi$ and
$(1 + \epsilon)\xi$; relative to the bump's energy it is $1 - e^{-\epsilon^2\xi^2/(4b^2)}$: it
tends to one (total change) as $\xi$ grows when $b$ is fixed, and equals
$1 - e^{-\epsilon^2/(4\beta^2)} \le \epsilon^2/(4\beta^2)$ for every $\xi$ when $b = \beta\xi$.

**References.** Mallat, "Group invariant scattering", CPAM 2012, §2–3; Bruna &
Mallat, "Invariant scattering convolution networks", TPAMI 2013, §2.
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
    Theorem,
    Twin,
    Unfold,
    Use,
    derive,
    notation,
)

t, X, Y, u = sp.symbols("t X Y u")
xs = sp.Symbol("x")
omega = sp.Symbol("omega", real=True)
xi, b, beta, eps, L = sp.symbols("xi b beta epsilon L", positive=True)
z = sp.Symbol("z", nonnegative=True)

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_scattering_is_shift_and_deformation_stable_where_fourier_is_not",
    text="The twin runs `convnet_invariances.models.Scattering2d` (side 32, J = 2) on a random image: a circular shift by "
         "multiples of $2^J$ moves the coefficients by the shift divided by $2^J$ (to float64 rounding), and a "
         "one-pixel shift changes them by less than half their norm. It then dilates an oscillating Gaussian "
         "pattern by 5 % and checks that the scattering coefficients change by a smaller fraction than the "
         "Fourier modulus (`convnet_invariances.models.FourierMagnitude`) does — the deformation statement, measured.",
)


def theorem() -> Theorem:
    Act = notation("Shift", r"S_{{{0}}} {1}", 2)
    C1 = notation("Wavelet1", r"\left({0} \star \psi_1\right)")
    C2 = notation("Wavelet2", r"\left({0} \star \psi_2\right)")
    Mod = notation("Modulus", r"\left|{0}\right|")
    Low = notation("LowPass", r"\left({0} \star \phi_J\right)")
    U = notation("Cascade", r"U[p]\,{0}")
    S = notation("Scattering", r"S_J[p]\,{0}")
    hypotheses = tuple(
        Rule(name, op(Act(t, X)), Act(t, op(X)), "hypothesis", (t, X), text=text)
        for name, op, text in (
            ("$\\psi_1$ commutes with shifts", C1, "Theorem 1 (circular correlation)."),
            ("$\\psi_2$ commutes with shifts", C2, "Theorem 1."),
            ("the modulus commutes with shifts", Mod, "Theorem 5 (a): it is pointwise."),
            ("$\\phi_J$ commutes with shifts", Low, "Theorem 1."),
        ))
    wavelet1, wavelet2, modulus, lowpass = hypotheses
    cascade = Rule("the second-order cascade", U(X), Mod(C2(Mod(C1(X)))), "definition", (X,),
                   text="Path $p = (\\psi_1, \\psi_2)$; every path has the same form.")
    scattering = Rule("the scattering coefficient", S(X), Low(U(X)), "definition", (X,))
    cascade_claim = Claim("Lemma 1", "The cascade is shift-equivariant: {formula}.", U(Act(t, xs)),
                          Act(t, U(xs)), hypotheses=(wavelet1, wavelet2, modulus), variables=(t,), lemma=True)
    steps_cascade = derive(
        U(Act(t, xs)),
        (Mod(C2(Mod(C1(Act(t, xs))))), Unfold(cascade)),
        (Mod(C2(Mod(Act(t, C1(xs))))), Use(wavelet1)),
        (Mod(C2(Act(t, Mod(C1(xs))))), Use(modulus)),
        (Mod(Act(t, C2(Mod(C1(xs))))), Use(wavelet2)),
        (Act(t, Mod(C2(Mod(C1(xs))))), Use(modulus)),
        (Act(t, U(xs)), Fold(cascade)),
    )
    a_claim = Claim("(a)", "Every scattering coefficient is shift-equivariant before subsampling: {formula}.",
                    S(Act(t, xs)), Act(t, S(xs)), hypotheses=hypotheses)
    steps_a = derive(S(Act(t, xs)), (Low(U(Act(t, xs))), Unfold(scattering)),
                     (Low(Act(t, U(xs))), Use(cascade_claim)), (Act(t, Low(U(xs))), Use(lowpass)),
                     (Act(t, S(xs)), Fold(scattering)))

    At = notation("At", r"{0}({1})", 2)
    Sup = notation("Sup", r"\|{0}\|_\infty")
    averaging = Rule("Theorem 10 (a)", sp.Abs(At(Low(Act(t, Y)), u) - At(Low(Y), u)), sp.Abs(t) * L * Sup(Y), "fact",
                     (t, Y, u), relation="<=",
                     text="With $L = \\|\\phi_J'\\|_1$, which is $2^{-J}\\sqrt{2/\\pi}/\\sigma$ for the Gaussian of "
                          "width $\\sigma 2^J$ (Theorem 10 (b), (c)).")
    b_claim = Claim("(b)", "After the average, a shift by $t$ changes every coefficient by at most {formula} — "
                           "small for shifts small against $2^J$.",
                    sp.Abs(At(S(Act(t, xs)), u) - At(S(xs), u)), sp.Abs(t) * L * Sup(U(xs)),
                    "<=", hypotheses=(wavelet1, wavelet2, modulus))
    steps_b = derive(
        b_claim.lhs,
        (sp.Abs(At(Low(U(Act(t, xs))), u) - At(Low(U(xs)), u)), Unfold(scattering)),
        (sp.Abs(At(Low(Act(t, U(xs))), u) - At(Low(U(xs)), u)), Use(cascade_claim)),
        (b_claim.rhs, Bound((Instance(averaging, ((Y, U(xs)),)),))),
    )

    # deformations: a dilation moves a frequency bump by εξ
    Distance = notation("Distance", r"D({0}, {1})", 2)
    Energy = notation("Energy", r"E({0})")

    def bump(centre, width):
        return sp.exp(-(omega - centre) ** 2 / (2 * width**2))

    distance = Rule("the squared distance between a bump and its dilated copy", Distance(xi, b),
                    sp.Integral((bump(xi, b) - bump((1 + eps) * xi, b)) ** 2, (omega, -sp.oo, sp.oo)),
                    "definition", (xi, b), text="A Gaussian bump of width $b$ at frequency $\\xi$, and the same bump "
                                                "after dilating the signal by $1 + \\epsilon$.")
    energy = Rule("the energy of a bump", Energy(b), sp.Integral(bump(xi, b) ** 2, (omega, -sp.oo, sp.oo)),
                  "definition", (b,))
    relative = 1 - sp.exp(-eps**2 * xi**2 / (4 * b**2))
    c_claim = Claim("(c)", "Relative to the energy of the two bumps, the squared distance is {formula}.",
                    Distance(xi, b) / (2 * Energy(b)), relative, variables=(xi, b))
    steps_c = derive(
        Distance(xi, b) / (2 * Energy(b)),
        (distance.rhs / (2 * Energy(b)), Unfold(distance)),
        (distance.rhs / (2 * energy.rhs), Unfold(energy)),
        (relative, Algebra(), "sympy integrates the Gaussians"),
    )
    d_claim = Claim("(d)", "With a fixed bandwidth — a Fourier-modulus bin — a small dilation changes a "
                           "high-frequency component completely: {formula}.",
                    sp.Limit(Distance(xi, b) / (2 * Energy(b)), xi, sp.oo), sp.Integer(1))
    steps_d = derive(d_claim.lhs, (sp.Limit(relative, xi, sp.oo), Use(c_claim)),
                     (sp.Integer(1), Algebra(), "$e^{-\\epsilon^2\\xi^2/(4b^2)} \\to 0$"))
    wavelet_relative = 1 - sp.exp(-eps**2 / (4 * beta**2))
    e_claim = Claim("(e)", "With a bandwidth proportional to the frequency — a wavelet — the change is the same "
                           "at every frequency: {formula}.", Distance(xi, beta * xi) / (2 * Energy(beta * xi)),
                    wavelet_relative)
    steps_e = derive(e_claim.lhs, (wavelet_relative, Use(c_claim, ((b, beta * xi),)), "$\\xi$ cancels"))
    below = Rule("$1 - e^{-z} \\le z$", 1 - sp.exp(-z), z, "fact", (z,), relation="<=",
                 text="For $z \\ge 0$ (convexity of the exponential).")
    f_claim = Claim("(f)", "… and small: {formula}, of order $\\epsilon^2$.",
                    Distance(xi, beta * xi) / (2 * Energy(beta * xi)), eps**2 / (4 * beta**2), "<=")
    steps_f = derive(f_claim.lhs, (wavelet_relative, Use(e_claim)),
                     (eps**2 / (4 * beta**2), Bound((Instance(below, ((z, eps**2 / (4 * beta**2)),)),))))
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim, e_claim, f_claim),
        parts=(Chain(cascade_claim, steps_cascade), Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Chain(c_claim, steps_c), Chain(d_claim, steps_d), Chain(e_claim, steps_e), Chain(f_claim, steps_f)),
        definitions=(cascade, scattering, distance, energy),
        hypotheses=hypotheses,
        facts=(averaging, below),
        twin=TWIN,
    )
