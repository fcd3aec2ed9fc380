r"""A linear map commutes with the cyclic shift if its matrix is circulant — and, checked for small sizes, only then.

**Why it matters.** A question often asked: if a large dense network can
represent a convolution, why doesn't it get translation equivariance for free?
Because being able to represent it is not being it: equivariance is the
constraint $AP = PA$, which forces the $N^2$ free weights of a dense layer down
to the $N$ of a circulant (a circular convolution). Nothing in training
enforces that constraint; weight sharing builds it in, and data augmentation
can only encourage it (Theorem 16).

**Proof in words.** Multiplying by the cyclic shift $P$ on the right reads
column $j + 1$; on the left, row $i - 1$. For a circulant $A_{ij} = c_{(i-j) \bmod N}$
both are $c$ at index $i - j - 1$, so $AP = PA$, and $Ax$ is the circular
convolution $c \circledast x$. Conversely, solving the linear system $AP - PA = 0$
for a matrix of free symbols leaves exactly a circulant; a general proof needs
an induction on the diagonals, so this direction is checked for each size
separately. Finally a generic dense matrix does not commute with $P$.

**References.** Gray, *Toeplitz and Circulant Matrices: A Review*, §3; Davis,
*Circulant Matrices* (1979), ch. 3.
"""

import sympy as sp

from ._core import Chain, Claim, Fold, Instances, Param, Rule, Step, Theorem, Twin, Unfold, Witness, derive, notation

i, j = sp.symbols("i j", integer=True)
N = sp.Symbol("N", integer=True, positive=True)
c, x = sp.Function("c"), sp.Function("x")

TWIN = Twin(
    test="tests/proofs/test_proof_twins.py::test_circulant_layers_commute_with_the_shift_and_dense_ones_do_not",
    text="The twin builds `convnet_invariances.models.CirculantLinear` (a dense layer whose weight is circulant) and checks with the "
         "props engine that it commutes with every circular shift of random integer signals, and that its "
         "weight equals the `torch.roll` of its first column. Its negative half builds `convnet_invariances.models.DenseLinear` "
         "with generic integer weights and expects the same check to find a shift it does not commute with.",
)


def shift_matrix(size):
    """P with (Px)_i = x_{i-1 mod N}: a one in row i, column i - 1."""
    return sp.Matrix(size, size, lambda r, s: 1 if r == (s + 1) % size else 0)


def circulant(column):
    size = len(column)
    return sp.Matrix(size, size, lambda r, s: column[(r - s) % size])


class CirculantOf(sp.Function):
    """``circ(c_0, …, c_{N-1})``: the circulant matrix of a column, shown unevaluated until ``doit()``."""

    def doit(self, **hints):
        return circulant(list(self.args))

    def _latex(self, printer):
        return r"\mathrm{circ}\left(%s\right)" % ", ".join(printer._print(arg) for arg in self.args)


def theorem() -> Theorem:
    A = notation("Entry", r"A_{{{0}, {1}}}", 2)
    AP = notation("AP", r"(AP)_{{{0}, {1}}}", 2)
    PA = notation("PA", r"(PA)_{{{0}, {1}}}", 2)
    right = Rule("multiplying by $P$ on the right", AP(i, j), A(i, sp.Mod(j + 1, N)), "definition", (i, j),
                 text="$P$ has a single one in column $j$, at row $j + 1$ (indices modulo $N$).")
    left = Rule("multiplying by $P$ on the left", PA(i, j), A(sp.Mod(i - 1, N), j), "definition", (i, j),
                text="Row $i$ of $P$ has a single one, in column $i - 1$.")
    circ = Rule("a circulant matrix", A(i, j), c(sp.Mod(i - j, N)), "definition", (i, j),
                text="One vector $c$ of $N$ weights, read along the diagonals.")
    a = Claim("(a)", "A circulant matrix commutes with the cyclic shift $P$, entry by entry: {formula}.",
              AP(i, j), PA(i, j))
    steps_a = derive(
        AP(i, j),
        (A(i, sp.Mod(j + 1, N)), Unfold(right)),
        (c(sp.Mod(i - j - 1, N)), Unfold(circ), "$(i - (j + 1) \\bmod N) \\bmod N = (i - j - 1) \\bmod N$"),
        (A(sp.Mod(i - 1, N), j), Fold(circ)),
        (PA(i, j), Fold(left)),
    )

    Ax = notation("Ax", r"(Ax)_{{{0}}}", 1)
    CircConv = notation("CircConv", r"(c \circledast x)_{{{0}}}", 1)
    product = Rule("the matrix-vector product", Ax(i), sp.Sum(A(i, j) * x(j), (j, 0, N - 1)), "definition", (i,))
    conv = Rule("circular convolution", CircConv(i), sp.Sum(c(sp.Mod(i - j, N)) * x(j), (j, 0, N - 1)),
                "definition", (i,))
    b = Claim("(b)", "A circulant matrix acts as a circular convolution with its first column: {formula}.",
              Ax(i), CircConv(i))
    steps_b = derive(Ax(i), (product.rhs, Unfold(product)),
                     (sp.Sum(c(sp.Mod(i - j, N)) * x(j), (j, 0, N - 1)), Unfold(circ)), (CircConv(i), Fold(conv)))

    size = sp.Symbol("N", integer=True)

    def only_if(N):
        matrix = sp.Matrix(N, N, lambda r, s: sp.Symbol(f"a_{r}_{s}"))
        shift = shift_matrix(N)
        solution = sp.solve(list(matrix * shift - shift * matrix), list(matrix), dict=True)
        solved = matrix.subs(solution[0]) if solution else matrix
        return solved, CirculantOf(*[solved[r, 0] for r in range(N)])

    scope = (Param(size, 1, 8, trivial=(1, 2)),)
    cc = Claim("(c)", "Conversely, the general solution $A$ of the linear system $AP - PA$ (every entry zero), "
                      "for a matrix of free symbols, is the circulant built from its own first column, {scope}.",
               scope=scope)

    generic = sp.Matrix(2, 2, sp.symbols("a_0_0 a_0_1 a_1_0 a_1_1"))
    d = Claim("(d)", "A generic dense matrix does not commute with the shift: {formula} for some weights.",
              generic * shift_matrix(2), shift_matrix(2) * generic, "!=")
    witness = Witness(tuple((symbol, 1 if index == 0 else 0) for index, symbol in enumerate(generic)))
    return Theorem(
        title=__doc__.strip().splitlines()[0],
        doc=__doc__,
        statement=(a, b, cc, d),
        parts=(Chain(a, steps_a), Chain(b, steps_b), Instances(cc, only_if, scope, ((size, 4),)),
               Chain(d, (Step(d.lhs, d.rhs, witness, "a single non-zero weight, in the corner"),))),
        definitions=(right, left, circ, product, conv),
        twin=TWIN,
    )
