r"""rot90 and correlation; P4 group correlations are rot90-equivariant.

**Why it matters.** Weight sharing over positions gives translation
equivariance (Theorem 1) but says nothing about rotations: rotating the input
of a correlation is the same as rotating the output of a correlation with the
*inversely rotated* kernel, which is a different layer unless the kernel is
itself symmetric. Group convolutions (Cohen & Welling, 2016) share weights over
rotations too: one rotated copy of the kernel per orientation; then a rotation
of the input rotates every output map and cycles the orientation channels —
the regular representation of the rotation group C4.

**Proof in words.** With $R$ the rotation by 90° and $(\mathrm{rot}\,x)(p) = x(R^{-1}p)$,
the correlation $\sum_q K(q)\, x(R^{-1}(p + q))$ becomes, after the substitution
$q = Rq'$ (a bijection of the offsets), $\sum_{q'} K(Rq')\, x(R^{-1}p + q')$: the
correlation of $x$ with the kernel $q' \mapsto K(Rq') = (\mathrm{rot}^{-1}K)(q')$, read
at $R^{-1}p$. If $K(Rq) = K(q)$ that kernel is $K$ itself. For the lifting layer
the $r$-th kernel rotated back is the $(r-1)$-th, so the same substitution turns
orientation $r$ of $\mathrm{lift}(\mathrm{rot}\,x)$ into orientation $r - 1$ of
$\mathrm{lift}(x)$, read at $R^{-1}p$. The array version (`torch.rot90` on a periodic
grid, which rotates about the grid's centre) is checked case by case.

**References.** Cohen & Welling, "Group equivariant convolutional networks",
ICML 2016, §6; Dieleman, De Fauw & Kavukcuoglu, "Exploiting cyclic symmetry in
convolutional neural networks", ICML 2016.
"""

import sympy as sp

from ._core import (
    Chain,
    Claim,
    Fold,
    Instances,
    Param,
    Reindex,
    Rule,
    Shown,
    Step,
    Swap,
    Theorem,
    Twin,
    Unfold,
    Use,
    Witness,
    derive,
    notation,
)

p1, p2, q1, q2, a, b, w1, w2, r = sp.symbols("p1 p2 q1 q2 a b w1 w2 r", integer=True)
K, x = sp.Function("K"), sp.Function("x")
oo = sp.oo

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_rot90_moves_the_kernel_and_p4_lifting_cycles_orientations",
    text="The twin checks, bitwise on integer images and kernels, that correlating `torch.rot90(x)` with a kernel "
         "equals `torch.rot90` of the correlation of $x$ with the kernel rotated by $-90°$; that a kernel equal "
         "to its own rotations gives a layer the suite's orbit engine certifies as C4-equivariant; and, with "
         "`convnet_invariances.models.P4Lifting`, that rotating the input rotates each orientation map and cycles the orientations "
         "(`regular_c4_action`). Its negative half expects a generic kernel to fail the plain rotation check.",
)


def _double(body, first=q1, second=q2):
    return sp.Sum(body, (first, -oo, oo), (second, -oo, oo))


# --- the array version: torch.rot90 on a periodic N×N grid ---

def _rot_grid(image):
    """torch.rot90(image, 1) on a square list of lists: out[i][j] = image[j][N-1-i]."""
    n = len(image)
    return [[image[j][n - 1 - i] for j in range(n)] for i in range(n)]


def _rot_kernel(kernel, times):
    for _ in range(times % 4):
        kernel = _rot_grid(kernel)
    return kernel


def _correlate(kernel, image):
    n, radius = len(image), len(kernel) // 2
    return [[sum(kernel[u + radius][v + radius] * image[(i + u) % n][(j + v) % n]
                 for u in range(-radius, radius + 1) for v in range(-radius, radius + 1))
             for j in range(n)] for i in range(n)]


def _symbols(name, n):
    return [[sp.Symbol(f"{name}_{i}_{j}") for j in range(n)] for i in range(n)]


def _flat(grid):
    return [value for row in grid for value in row]


def theorem() -> Theorem:
    RotX = notation("RotX", r"(\mathrm{{rot}}\,x)({0}, {1})", 2)
    RotInvK = notation("RotInvK", r"(\mathrm{{rot}}^{{-1}}K)({0}, {1})", 2)
    CorrRot = notation("CorrRot", r"(K \star \mathrm{{rot}}\,x)({0}, {1})", 2)
    CorrInv = notation("CorrInv", r"(\mathrm{{rot}}^{{-1}}K \star x)({0}, {1})", 2)
    RotCorrInv = notation("RotCorrInv", r"\mathrm{{rot}}(\mathrm{{rot}}^{{-1}}K \star x)({0}, {1})", 2)
    rot_x = Rule("rotating the image", RotX(p1, p2), x(p2, -p1), "definition", (p1, p2),
                 text="$(\\mathrm{rot}\\,x)(p) = x(R^{-1}p)$ with $R(q_1, q_2) = (-q_2, q_1)$.")
    rot_inv_k = Rule("the inversely rotated kernel", RotInvK(q1, q2), K(-q2, q1), "definition", (q1, q2),
                     text="$(\\mathrm{rot}^{-1}K)(q) = K(Rq)$.")
    corr_rot = Rule("the correlation of the rotated image", CorrRot(p1, p2),
                    _double(K(q1, q2) * RotX(p1 + q1, p2 + q2)), "definition", (p1, p2),
                    text="Kernels have finite support, so the sums are finite.")
    corr_inv = Rule("the correlation with the inversely rotated kernel", CorrInv(p1, p2),
                    _double(RotInvK(q1, q2) * x(p1 + q1, p2 + q2)), "definition", (p1, p2))
    rot_corr_inv = Rule("rotating that correlation", RotCorrInv(p1, p2), CorrInv(p2, -p1), "definition", (p1, p2))
    a_claim = Claim("(a)", "Rotating the input of a correlation rotates the output of the correlation with the "
                           "inversely rotated kernel: {formula}.", CorrRot(p1, p2), RotCorrInv(p1, p2))
    steps_a = derive(
        CorrRot(p1, p2),
        (corr_rot.rhs, Unfold(corr_rot)),
        (_double(K(q1, q2) * x(p2 + q2, -p1 - q1)), Unfold(rot_x)),
        (_double(K(-b, q2) * x(p2 + q2, -p1 + b), b, q2), Reindex(q1, -q1, b), "$q_1 = -b$"),
        (_double(K(-b, a) * x(p2 + a, -p1 + b), b, a), Reindex(q2, q2, a), "$q_2 = a$: together $q = Ra'$"),
        (_double(K(-b, a) * x(p2 + a, -p1 + b), a, b), Swap(b, a)),
        (_double(RotInvK(a, b) * x(p2 + a, -p1 + b), a, b), Fold(rot_inv_k)),
        (CorrInv(p2, -p1), Fold(corr_inv)),
        (RotCorrInv(p1, p2), Fold(rot_corr_inv)),
    )

    Corr = notation("Corr", r"(K \star x)({0}, {1})", 2)
    RotCorr = notation("RotCorr", r"\mathrm{{rot}}(K \star x)({0}, {1})", 2)
    corr = Rule("the correlation", Corr(p1, p2), _double(K(q1, q2) * x(p1 + q1, p2 + q2)), "definition", (p1, p2))
    rot_corr = Rule("rotating the correlation", RotCorr(p1, p2), Corr(p2, -p1), "definition", (p1, p2))
    symmetric = Rule("the kernel is fixed by rot90", K(-w2, w1), K(w1, w2), "hypothesis", (w1, w2),
                     text="$K(Rq) = K(q)$ for every offset $q$.")
    b_claim = Claim("(b)", "A kernel fixed by rot90 gives a rot90-equivariant correlation: {formula}.",
                    CorrRot(p1, p2), RotCorr(p1, p2), hypotheses=(symmetric,))
    steps_b = derive(
        CorrRot(p1, p2),
        (RotCorrInv(p1, p2), Use(a_claim)),
        (CorrInv(p2, -p1), Unfold(rot_corr_inv)),
        (_double(RotInvK(q1, q2) * x(p2 + q1, -p1 + q2)), Unfold(corr_inv)),
        (_double(K(-q2, q1) * x(p2 + q1, -p1 + q2)), Unfold(rot_inv_k)),
        (_double(K(q1, q2) * x(p2 + q1, -p1 + q2)), Use(symmetric)),
        (Corr(p2, -p1), Fold(corr)),
        (RotCorr(p1, p2), Fold(rot_corr)),
    )

    # (c) a generic kernel is not rot90-equivariant: a one-tap kernel off the centre
    c_lhs = _double(K(q1, q2) * x(p2 + q2, -p1 - q1))
    c_rhs = _double(K(q1, q2) * x(p2 + q1, -p1 + q2))
    c_claim = Claim("(c)", "A generic kernel is not: the rotated input's correlation differs from the rotated "
                           "correlation, {formula} for some kernel and image.", c_lhs, c_rhs, "!=")
    witness = Witness(((p1, 0), (p2, 0), (K, sp.Lambda((q1, q2), sp.KroneckerDelta(q1, 1) * sp.KroneckerDelta(q2, 0))),
                       (x, sp.Lambda((a, b), sp.KroneckerDelta(a, 0) * sp.KroneckerDelta(b, -1)))))

    # (d) P4 lifting: one rotated kernel per orientation r
    Kr = sp.Function("K")
    Lift = notation("Lift", r"\mathrm{{lift}}(x)({0}; {1}, {2})", 3)
    LiftRot = notation("LiftRot", r"\mathrm{{lift}}(\mathrm{{rot}}\,x)({0}; {1}, {2})", 3)
    rotated_copies = Rule("the orientations are rotated copies", Kr(r, -w2, w1), Kr(r - 1, w1, w2), "definition",
                          (r, w1, w2), text="$K_r = \\mathrm{rot}\\,K_{r-1}$, i.e. $K_r(Rq) = K_{r-1}(q)$; "
                                            "$K_{r+4} = K_r$.")
    lift = Rule("the lifting correlation", Lift(r, p1, p2), _double(Kr(r, q1, q2) * x(p1 + q1, p2 + q2)),
                "definition", (r, p1, p2))
    lift_rot = Rule("the lifting correlation of the rotated image", LiftRot(r, p1, p2),
                    _double(Kr(r, q1, q2) * RotX(p1 + q1, p2 + q2)), "definition", (r, p1, p2))
    d_claim = Claim("(d)", "P4 lifting: orientation $r$ of the lifted rotated image is orientation $r - 1$ of the "
                           "lifted image, rotated: {formula}.", LiftRot(r, p1, p2), Lift(r - 1, p2, -p1))
    steps_d = derive(
        LiftRot(r, p1, p2),
        (lift_rot.rhs, Unfold(lift_rot)),
        (_double(Kr(r, q1, q2) * x(p2 + q2, -p1 - q1)), Unfold(rot_x)),
        (_double(Kr(r, -b, q2) * x(p2 + q2, -p1 + b), b, q2), Reindex(q1, -q1, b)),
        (_double(Kr(r, -b, a) * x(p2 + a, -p1 + b), b, a), Reindex(q2, q2, a)),
        (_double(Kr(r, -b, a) * x(p2 + a, -p1 + b), a, b), Swap(b, a)),
        (_double(Kr(r - 1, a, b) * x(p2 + a, -p1 + b), a, b), Unfold(rotated_copies)),
        (Lift(r - 1, p2, -p1), Fold(lift)),
    )

    size = sp.Symbol("N", integer=True)

    def torch_convention(N):
        image, kernel = _symbols("x", N), _symbols("K", 3)
        return (Shown(r"K \star \mathrm{rot90}(x)", _flat(_correlate(kernel, _rot_grid(image)))),
                Shown(r"\mathrm{rot90}\left(\mathrm{rot90}^{-1}(K) \star x\right)",
                      _flat(_rot_grid(_correlate(_rot_kernel(kernel, 3), image)))))

    scope = (Param(size, 1, 5, trivial=(1, 2)),)
    e_claim = Claim("(e)", "The same identity for torch's rot90 on a periodic $N \\times N$ grid with a symbolic "
                           "$3 \\times 3$ kernel, {scope}.", scope=scope)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim, e_claim),
        parts=(Chain(a_claim, steps_a), Chain(b_claim, steps_b),
               Chain(c_claim, (Step(c_lhs, c_rhs, witness, "a one-tap kernel at offset $(1, 0)$"),)),
               Chain(d_claim, steps_d), Instances(e_claim, torch_convention, scope, ((size, 4),))),
        definitions=(rot_x, rot_inv_k, corr_rot, corr_inv, rot_corr_inv, corr, rot_corr, rotated_copies, lift,
                     lift_rot),
        hypotheses=(symmetric,),
        twin=TWIN,
    )
