"""The shared notation page, rendered as ``notation.md`` beside the theorem documents."""

NOTATION = r"""# Notation

Every theorem document uses these conventions; a document's own definitions
are listed at the top of its checked derivation.

## Signals, images and the actions on them

- A **signal** is $x[n]$, $n \in \mathbb{Z}$, or $x[n]$, $n = 0, \dots, N - 1$ (a signal
  on $\mathbb{Z}/N$). A signal on $\mathbb{Z}/N$ is read as an $N$-periodic signal on
  $\mathbb{Z}$: $x[n + N] = x[n]$. This is the hypothesis "periodicity", and it is
  what circular padding means.
- An **image** is $x[c, n_1, n_2]$ with channel $c$; a kernel is $K[c, k_1, k_2]$.
- The **shift** $S_t$: $(S_t x)[n] = x[n - t]$ — the content moves by $+t$. On
  $\mathbb{Z}/N$ this is `torch.roll(x, t)`. A *zero-fill* shift instead puts zeros
  in the vacated samples.
- **Subsampling** $D_s$: $(D_s x)[n] = x[sn]$ (stride $s$).
- **rot90** rotates by 90° counter-clockwise, as `torch.rot90`; on the plane,
  $R(q_1, q_2) = (-q_2, q_1)$ and $(\mathrm{rot}\,x)(p) = x(R^{-1}p)$.
- **Equivariant**: $f(g \cdot x) = \rho(g) \cdot f(x)$ for a group action $g \cdot x$ on
  inputs and $\rho(g)$ on outputs. **Invariant**: $\rho(g)$ is the identity.

## Operations

- **Correlation** (what deep-learning libraries call convolution):
  $(K \star x)[n] = \sum_k K[k]\, x[n + k]$. $K \circledast x$ is the circular version on
  $\mathbb{Z}/N$; $K \star_0 x$ the zero-padded one.
- **DFT**: $\hat x[k] = \sum_{n=0}^{N-1} x[n]\,\omega^{kn}$ with $\omega = e^{-2\pi i/N}$, a
  primitive $N$-th root of unity ($\omega^N = 1$). **Fourier transform** on the line:
  $\hat f(\xi) = \int f(u)\, e^{-2\pi i u \xi}\, du$. **Mellin transform**:
  $\mathcal{M}[f](s) = \int_0^\infty f(x)\, x^{s-1}\, dx$.
- **Pooling**: $\max_i a_i$ over a window; global pooling over every position.

## How to read a checked derivation

- A **general** claim is proved with symbolic sizes ($N$, $t$, $k$, …): it holds for
  every value the symbols' assumptions allow (integers, positive, …) and the
  conditions it states.
- A claim **verified on instances** says so in its statement, with the parameter
  ranges that were run, e.g. "verified for $1 \le N \le 6$". It is evidence, not a proof.
- Each step names its **move**: *unfold/recognise a definition*, *re-index a sum*
  ($m = n - t$), *split* or *merge* ranges of a sum, *exchange two sums*,
  *polyphase split* ($n = sm + j$), *substitute* in an integral, *use a hypothesis*
  (periodicity, a root of unity, an equivariance), *use a lemma* proved above,
  *algebra* (sympy simplifies the difference to 0), a *bound* (what is used is named,
  and the remainder must be non-negative), or a *witness* (values at which two sides
  differ, respecting every assumption).
- **Facts taken as known** are standard results (the triangle inequality, Minkowski's
  inequality, …) that a document lists and uses but does not derive.
- $a := b$ defines $a$. Sums $\sum_{n=a}^{b}$ follow sympy's convention; every split or
  merge of a range states and checks that the ranges are in order.
"""
