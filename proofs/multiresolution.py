r"""Scale through multi-resolution input: upscaling by two shifts the levels of a pyramid by one.

**Why it matters.** A convolutional network has a fixed receptive field, so it is
not invariant to scaling; a question often asked is how to get some scale
invariance anyway. One answer is a multi-resolution input: run the same network
on every level of a pyramid $x, D_2 x, D_4 x, \dots$ and pool over levels. If the
input is upscaled by two (each sample repeated), level $l$ of the new pyramid is
level $l - 1$ of the old one, so a pool over levels sees the same features
except at the two ends of the pyramid: invariance to scalings by powers of two,
on the levels the pyramid covers. Downscaling loses information, so the
relation is one-way.

**Proof in words.** Upscaling repeats each sample: $(U_2 x)[m] = x[\lfloor m/2 \rfloor]$.
Subsampling it again reads $x[\lfloor 2n/2 \rfloor] = x[n]$, and averaging pairs
reads $(x[n] + x[n])/2$. A global average over $2N$ samples splits into the even
and odd samples (polyphase), each of which is $x$ again. Subsampling $l$ times
reads the upscaled signal at $2^l n$, which is $x$ at $2^{l-1}n$: level $l - 1$ of
$x$'s pyramid. Upscaling after subsampling is not the identity: a ramp is a
counterexample.

**References.** Burt & Adelson, "The Laplacian pyramid as a compact image code",
1983; Farabet et al., "Learning hierarchical features for scene labeling",
TPAMI 2013; Lindeberg, *Scale-Space Theory in Computer Vision* (1994).
"""

import sympy as sp

from ._core import (
    Algebra,
    Chain,
    Claim,
    Fold,
    Polyphase,
    Rule,
    Step,
    Theorem,
    Twin,
    Unfold,
    Witness,
    derive,
    notation,
)

n, m, j = sp.symbols("n m j", integer=True)
N, depth = sp.symbols("N l", integer=True, positive=True)
x = sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_upscaling_by_two_shifts_the_pyramid_by_one_level",
    text="The twin builds pyramids with `torch.nn.functional.avg_pool2d`, upscales integer images by two with "
         "`props.Upscale(2)` (each pixel repeated), and checks bitwise that level $l$ of the upscaled pyramid is "
         "level $l - 1$ of the original and that global average pooling is invariant to the upscaling. A small "
         "circular CNN applied to every level and max-pooled over the levels from one on gives, for the upscaled "
         "image, exactly the output it gives for the original pyramid; its negative half checks that the same "
         "CNN on a single level is not invariant to the upscaling.",
)


def theorem() -> Theorem:
    Up = notation("Up", r"(U_2 x)[{0}]")
    DownUp = notation("DownUp", r"(D_2 U_2 x)[{0}]")
    AverageUp = notation("AverageUp", r"(A_2 U_2 x)[{0}]")
    up = Rule("upscaling by repetition", Up(m), x(sp.floor(m / 2)), "definition", (m,),
              text="Nearest-neighbour upscaling: each sample twice.")
    down_up = Rule("subsampling the upscaled signal", DownUp(n), Up(2 * n), "definition", (n,))
    average_up = Rule("average pooling of the upscaled signal", AverageUp(n), (Up(2 * n) + Up(2 * n + 1)) / 2,
                      "definition", (n,), text="$A_2$ averages pairs: average pooling with window and stride 2.")
    a_claim = Claim("(a)", "Subsampling undoes upscaling: {formula}.", DownUp(n), x(n))
    steps_a = derive(DownUp(n), (Up(2 * n), Unfold(down_up)), (x(n), Unfold(up), "$\\lfloor 2n/2 \\rfloor = n$"))
    b_claim = Claim("(b)", "So does average pooling: {formula}.", AverageUp(n), x(n))
    steps_b = derive(AverageUp(n), ((Up(2 * n) + Up(2 * n + 1)) / 2, Unfold(average_up)),
                     (x(n), Unfold(up), "$\\lfloor (2n+1)/2 \\rfloor = n$"))

    Gap = notation("GlobalAverage", r"\mathrm{{avg}}({0})")
    signal = sp.Symbol("x")
    upscaled = notation("Upscaled", r"U_2 x")(signal)
    gap_up = Rule("global average pooling of the upscaled signal", Gap(upscaled),
                  sp.Sum(Up(m), (m, 0, 2 * N - 1)) / (2 * N), "definition")
    gap = Rule("global average pooling", Gap(signal), sp.Sum(x(n), (n, 0, N - 1)) / N, "definition")
    c_claim = Claim("(c)", "Global average pooling is invariant to upscaling by two: {formula}.", Gap(upscaled),
                    Gap(signal))
    steps_c = derive(
        Gap(upscaled),
        (gap_up.rhs, Unfold(gap_up)),
        (sp.Sum(x(sp.floor(m / 2)), (m, 0, 2 * N - 1)) / (2 * N), Unfold(up)),
        (sp.Sum(x(sp.floor((2 * n + j) / 2)), (n, 0, N - 1), (j, 0, 1)) / (2 * N), Polyphase(m, 2, j, n)),
        (sp.Sum(x(n), (n, 0, N - 1)) / N, Algebra(), "both phases read $x[n]$"),
        (Gap(signal), Fold(gap)),
    )

    Level = notation("LevelUp", r"(D_2^{{{0}}} U_2 x)[{1}]", 2)
    LevelX = notation("Level", r"(D_2^{{{0}}} x)[{1}]", 2)
    level = Rule("level $l$ of the pyramid of the upscaled signal", Level(depth, n), Up(2**depth * n), "definition",
                 (depth, n),
                 text="Subsampling $l$ times reads every $2^l$-th sample.")
    level_x = Rule("level $l$ of the pyramid of $x$", LevelX(depth, n), x(2**depth * n), "definition", (depth, n))
    d_claim = Claim("(d)", "For every level $l$ from one on, level $l$ of the upscaled signal's pyramid is level "
                           "$l - 1$ of the signal's: {formula}.", Level(depth, n), LevelX(depth - 1, n))
    steps_d = derive(Level(depth, n), (Up(2**depth * n), Unfold(level)),
                     (x(sp.floor(2**depth * n / 2)), Unfold(up)),
                     (LevelX(depth - 1, n), Fold(level_x), "$\\lfloor 2^l n / 2 \\rfloor = 2^{l-1}n$ for $l \\ge 1$"))

    e_claim = Claim("(e)", "The relation is one-way: upscaling after subsampling is not the identity, {formula} "
                           "for some signal.", x(2 * sp.floor(m / 2)), x(m), "!=")
    steps_e = (Step(e_claim.lhs, e_claim.rhs, Witness(((m, 1), (x, sp.Lambda(n, n)))),
                    "the ramp $x[n] = n$ at $m = 1$"),)
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a_claim, b_claim, c_claim, d_claim, e_claim),
        parts=(Chain(a_claim, steps_a), Chain(b_claim, steps_b), Chain(c_claim, steps_c), Chain(d_claim, steps_d),
               Chain(e_claim, steps_e)),
        definitions=(up, down_up, average_up, gap_up, gap, level, level_x),
        twin=TWIN,
    )
