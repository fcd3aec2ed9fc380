"""The orbit engine: compare ``f(g·x)`` with ``ρ(g)·f(x)`` for many group elements at once, soundly.

Every check goes through :func:`evaluate`; a single-element check is an
orbit of one.  What it guarantees:

- **Protected evidence.**  The layer gets a fresh copy of every input and the
  reference output is copied (see :mod:`._layer_calls`).
- **A function of its input.**  The reference ``f(x)`` is computed twice
  before the orbit and once after it; outputs that change are randomness or
  hidden state, and the check stops with a :class:`LayerError` that says so.
- **Batching only where it is valid.**  Elements are stacked into chunks
  (the fast path), and every chunk also carries ``x`` itself, the *anchor*,
  whose rows must reproduce the reference.  A layer whose output for one
  sample depends on the rest of the batch (batch statistics, a branch on the
  batch size or on a sample's position) fails that, and the orbit is
  evaluated again one element per call, each on a batch of exactly the
  input's samples — what the claim means for a function of whole batches.  A
  layer that refuses larger batches is evaluated the same way.
- **Per-element tolerances and an arbiter** (see :mod:`._tolerance`): exact
  mode demands bitwise equality; float mode judges every output element
  against its own bound, and re-evaluates every element with a non-zero error
  in a validated twin of another precision.
- **Memory.**  Chunks are sized from a memory budget and halved on
  out-of-memory; everything stays on the device the input lives on.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import torch

from ._actions import Action, CircularShift, Identity
from ._errors import InvalidArgument, LayerError, NotAFunction, OutputShapeMismatch, describe_value, require_spatial
from ._layer_calls import ProtectedLayer, cast_twin, twin_input
from ._hints import TRAIN_MODE, batch_dependent_in_training, hints_for
from ._measurement import (
    Measurement,
    OrbitResult,
    describe_layer,
    unravel,
)
from ._orbit_inputs import apply_all, apply_each
from ._output_actions import OutputAction, Trivial
from ._reproduction import reproduction
from ._safety import evaluation_mode
from ._tolerance import (PrecisionRegime, exact_mode_obstacle, precision_regime, resolve_mode, shrink_factor,
                         unit_roundoff)

#: called as ``progress(done, total)`` after each chunk of work: the library never prints, the caller draws
ProgressCallback = Callable[[int, int], None]

DEFAULT_MEMORY_BUDGET = 512 * 2**20  # bytes per chunk; small enough for a laptop, large enough to batch well

#: elements per chunk on a CPU.  Throughput there peaks when a chunk's activations stay in cache: on 2 cores,
#: per-element time at batch 1/8/32/64/256/1024 was 2.66/2.02/0.70/1.11/1.80/2.54 ms for the ResNet-18-like
#: (64×64) and 0.71/0.34/0.25/0.23/0.42/0.59 ms for the small CNN (32×32).  A timing-driven search over sizes
#: was tried and dropped: on a shared 2-core VM its choice swung with noise.  GPUs take the memory budget.
CPU_CHUNK = 32


# ----------------------------------------------------------------------------- arguments


def _interior_mask(shape, margin, device):
    """Boolean mask of the output (1, C, *S) that is True at distance ≥ margin from every border."""
    mask = torch.ones((1,) + tuple(shape[1:]), dtype=torch.bool, device=device)
    if margin is None:
        return mask
    if len(shape) - 2 != len(margin):
        raise InvalidArgument(
            f"margin={margin!r} needs a spatial output with {len(margin)} spatial axes, but the output has shape "
            f"{tuple(shape)}; a flat output has no border to keep away from (drop the margin)"
        )
    for axis, m in enumerate(margin):
        n = shape[2 + axis]
        if 2 * m >= n:
            raise InvalidArgument(
                f"margin={margin!r} leaves no interior on an output of spatial shape {tuple(shape[2:])}; "
                f"each margin must be smaller than half the output size"
            )
        index = [slice(None)] * len(shape)
        index[2 + axis] = slice(0, m)
        mask[tuple(index)] = False
        index[2 + axis] = slice(n - m, n)
        mask[tuple(index)] = False
    return mask


def normalise_margin(margin, spatial_rank):
    if margin is None or margin == 0:
        return None
    if isinstance(margin, int) and not isinstance(margin, bool):
        margin = (margin,) * spatial_rank
    try:
        margin = tuple(int(m) for m in margin)
    except (TypeError, ValueError):
        raise InvalidArgument(f"margin={margin!r} must be an int or one int per spatial axis") from None
    if len(margin) != spatial_rank or any(m < 0 for m in margin):
        raise InvalidArgument(f"margin={margin!r} must be {spatial_rank} non-negative int(s), one per spatial axis")
    return margin if any(margin) else None


def _per_element_bytes(x, y0):
    # the transformed input, its output, the expected output and the difference, plus activations;
    # activations are unknown for a black box, so we budget four more copies of the larger tensor.
    per_sample_in = x.numel() * x.element_size()
    per_sample_out = y0.numel() * y0.element_size()
    return 2 * per_sample_in + 3 * per_sample_out + 4 * max(per_sample_in, per_sample_out)


def chunk_limit(x, y0, count, memory_budget):
    """Elements per chunk: bounded by the memory budget everywhere, by CPU_CHUNK on a CPU."""
    limit = max(1, min(count, memory_budget // max(1, _per_element_bytes(x, y0))))
    return min(limit, CPU_CHUNK) if x.device.type == "cpu" else limit


def _is_oom(exc):
    while exc is not None:
        if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
            return True
        exc = exc.__cause__
    return False


# ----------------------------------------------------------------------------- judging differences


def _work_dtype(t):
    """The dtype differences of ``t`` are taken in: float32 for half and single precision, float64 otherwise
    (integers and booleans exactly)."""
    real = {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(t.dtype, t.dtype)
    return torch.float32 if real in (torch.float16, torch.bfloat16, torch.float32) else torch.float64


def _difference(a, b):
    """|a − b| per element, in :func:`_work_dtype` (a difference of two half-precision values is exact there)."""
    dtype = _work_dtype(a) if a.is_floating_point() or a.is_complex() else torch.float64
    if a.is_complex() or b.is_complex():
        return (a - b).abs().to(dtype)
    return (a.to(dtype) - b.to(dtype)).abs()


def _channel_scale(a, b, spatial_rank):
    """max(|a|, |b|) per (row, sample, channel) over the spatial axes, kept broadcastable (float64); per
    element for flat outputs."""
    if spatial_rank:
        dims = tuple(range(a.dim() - spatial_rank, a.dim()))
        return torch.maximum(_max_magnitude(a, dims), _max_magnitude(b, dims))
    return torch.maximum(a.abs().double(), b.abs().double())


def _max_magnitude(t, dims):
    if t.is_complex():
        return t.abs().amax(dim=dims, keepdim=True).double()
    if not t.is_floating_point():
        t = t.double()
    # max and −min: two reductions, no full-size temporary (faster than abs().amax() on a CPU)
    return torch.maximum(t.amax(dim=dims, keepdim=True), -t.amin(dim=dims, keepdim=True)).double()


def _bound(scale, terms, u, smallest_normal, stored=None, floor=None):
    """τ = 2·γ_n·scale + 2·n·u·λ (as ``scale``'s shape, broadcastable), ``terms`` one count per row; inf where
    vacuous.  The second term is the absolute error of gradual underflow (Higham §2.4: a product in the
    subnormal range errs by up to u·λ, λ the smallest normal number of the precision of unit roundoff u).

    ``stored``: the dtype the compared outputs are stored in.  When it is narrower than the computation (a
    float32 layer that returns ``.half()``), each side is rounded once more at the end, by at most
    ``u_s·(1 + γ_n)·scale`` (and ``u_s·λ_s`` in its subnormal range) — one rounding, not n: the accumulation
    ran in the computation's precision.

    ``floor``: the scale the computation's rounding may reach (see ``_Evaluation.floor``), which raises the
    ``γ_n`` term only; the final cast rounds the compared values themselves, so its term keeps ``scale``."""
    if u <= 0:
        return torch.zeros_like(scale)
    nu = terms.double() * u
    g = torch.where(nu < 1, nu / (1 - nu), torch.full_like(nu, float("inf")))
    underflow = 2.0 * terms.double() * u * smallest_normal
    u_stored = _stored_roundoff(stored, u)
    shape = (-1,) + (1,) * (scale.dim() - 1)
    g = g.reshape(shape)
    computed = scale if floor is None else torch.maximum(scale, floor.to(scale.device))
    cast_underflow = 2.0 * u_stored * _smallest_normal(stored) if u_stored else 0.0
    # the cast rounds the computed value, which may be off by γ_n·computed: hence (1 + γ_n)·scale + γ_n·computed
    bound = (2.0 * g * computed + 2.0 * u_stored * (scale + g * computed) + underflow.reshape(shape)
             + cast_underflow)
    # a vacuous γ_n stays vacuous on a zero scale: inf·0 would be NaN, a tolerance no report can state
    return torch.where(torch.isinf(g), torch.full_like(bound, float("inf")), bound)


def _stored_roundoff(stored, u):
    """The unit roundoff of the final cast to ``stored``, or 0 when ``stored`` is no narrower than ``u``."""
    if stored is None or not (stored.is_floating_point or stored.is_complex):
        return 0.0
    u_stored = unit_roundoff(stored)
    return u_stored if u_stored > u else 0.0


def _computation_dtype(f, x, y):
    """The precision the layer's arithmetic runs in, as far as a black box shows it: the coarsest of the input's
    and the floating parameters' whenever the output's dtype differs from it.  A narrower output (``.half()``
    at the end) is one more rounding after a computation in that precision; a wider one (``.double()``, a
    complex128 spectrum of float32 arithmetic) never makes the arithmetic before it finer."""
    real = {torch.complex64: torch.float32, torch.complex128: torch.float64}
    if not (y.is_floating_point() or y.is_complex()) or not (x.is_floating_point() or x.is_complex()):
        return y.dtype
    dtypes = [real.get(x.dtype, x.dtype)]
    if isinstance(f, torch.nn.Module):
        dtypes += [real.get(t.dtype, t.dtype) for t in list(f.parameters()) + list(f.buffers())
                   if t.is_floating_point() or t.is_complex()]
    coarsest = max(dtypes, key=unit_roundoff)
    return y.dtype if unit_roundoff(coarsest) == unit_roundoff(y.dtype) else coarsest



def _smallest_normal(dtype):
    """λ of a floating dtype (complex: of its real part); TF32 keeps float32's exponent range."""
    real = {torch.complex64: torch.float32, torch.complex128: torch.float64}.get(dtype, dtype)
    return torch.finfo(real).tiny if real.is_floating_point else 0.0


@dataclass
class _Twin:
    """A second precision for the verdict: wider (the arbiter) or narrower (the amplifier of a float64 layer)."""

    layer: ProtectedLayer | None
    dtype: torch.dtype
    u: float
    wider: bool
    reason: str = ""  # why there is no twin
    reference: torch.Tensor | None = None
    valid: bool = True  # stays True while every point agrees with the layer within rounding
    disagreement: float = 0.0  # the largest disagreement found, relative to the bound
    used: bool = False

    def describe(self):
        name = str(self.dtype).replace("torch.", "")
        if self.layer is None:
            return f"unavailable: {self.reason}"
        if not self.valid:
            return (f"unavailable: the {name} twin is not the same function as the layer (they differ by "
                    f"{self.disagreement:.3g}× the rounding bound)")
        return f"{name} twin" + ("" if self.wider else " (an amplifier: rounding grows as precision falls)")


class _Rows:
    """Verdicts for rows of comparisons (one row per group element, or the anchor), reduced per row."""

    def __init__(self, count):
        zeros = torch.zeros(count, dtype=torch.float64)
        self.errors, self.tolerances, self.scales = zeros.clone(), zeros.clone(), zeros.clone()
        self.where = torch.zeros(count, dtype=torch.long)
        self.own = torch.zeros(count, dtype=torch.bool)
        self.arbitrated = torch.zeros(count, dtype=torch.bool)
        self.twin_error = torch.full((count,), float("nan"), dtype=torch.float64)
        self.twin_threshold = torch.full((count,), float("nan"), dtype=torch.float64)
        self.raised: dict[int, str] = {}
        self.call_batch = torch.zeros(count, dtype=torch.long)  # the batch size of the call that evaluated a row

    def store(self, start, reduced):
        stop = start + reduced["errors"].shape[0]
        for key, value in reduced.items():
            getattr(self, key)[start:stop] = value.cpu()

    def violated(self, twin):
        arbiter_ok = twin is not None and twin.layer is not None and twin.valid and twin.used
        flags = self.arbitrated if arbiter_ok else self.own
        flags = flags.clone()
        for index in self.raised:
            flags[index] = True
        return flags


def _reduce(diff, bound, scale, own, arbitrated, twin_error, twin_threshold):
    """Per row of (R, ...) tensors: the largest error, and the output element that decides the verdict.

    A row without a violation reports its largest difference; a violated row the element where the verdict
    is clearest (the largest ratio of the deciding error to its threshold).  ``bound``, ``scale`` and
    ``twin_threshold`` may be broadcastable (one value per sample and channel); the twin's tensors are None
    when it did not run.
    """
    rows = diff.shape[0]
    d = diff.reshape(rows, -1)
    o = own.reshape(rows, -1)
    errors, decisive = d.max(dim=1)
    own_rows = o.any(dim=1)
    arbiter_rows = own_rows.clone() if arbitrated is None else arbitrated.reshape(rows, -1).any(dim=1)
    tiny = torch.finfo(torch.float64).tiny
    for i in torch.nonzero(own_rows | arbiter_rows).flatten().tolist():
        if arbitrated is not None and arbiter_rows[i]:
            a, te = arbitrated[i], twin_error[i].double()
            tt = twin_threshold[i].expand_as(te)
            decisive[i] = (te / tt.clamp_min(tiny)).masked_fill(~a, -1.0).reshape(-1).argmax()
        elif own_rows[i]:
            ratio = diff[i].double() / bound[i].expand_as(diff[i]).clamp_min(tiny)
            decisive[i] = ratio.masked_fill(~own[i], -1.0).reshape(-1).argmax()
    nan = torch.full((rows,), float("nan"), dtype=torch.float64)
    return {"errors": errors.double(), "tolerances": _pick(bound, decisive, diff), "scales": _pick(scale, decisive, diff),
            "where": decisive, "own": own_rows, "arbitrated": arbiter_rows,
            "twin_error": nan if twin_error is None else _pick(twin_error, decisive, diff),
            "twin_threshold": nan if twin_threshold is None else _pick(twin_threshold, decisive, diff)}


def _pick(t, flat_index, like):
    """t at each row's flat index into ``like``'s per-row layout, for t full-size or one value per (sample,
    channel) (the trailing size-1 axes broadcast): no full-size copy is made."""
    rows = like.shape[0]
    if t.numel() == like.numel():
        return t.reshape(rows, -1).gather(1, flat_index[:, None])[:, 0].double()
    spread = math.prod(like.shape[1:]) // max(1, t[0].numel())
    return t.reshape(rows, -1).gather(1, (flat_index // spread)[:, None])[:, 0].double()


#: the probes that tell rounding from a different code path, and how much larger their disagreement must be for
#: a layer/twin disagreement to count as rounding: rounding grows by u_probe/u_f32 (2^13 for float16, 2^16 for
#: bfloat16); we demand 2^6 and 2^8, leaving an allowance of 2^7 and 2^8 for how differently precisions round
PROBES = ((torch.float16, 2.0**6), (torch.bfloat16, 2.0**8))
#: the growth every other probe that runs must show: a different code path shows none (its disagreement stays
#: the same), while rounding that a clamp or an epsilon caps in one precision still grows a few times
PARTIAL_GROWTH = 2.0**2
#: the rounding floor covers FLOOR_NOISE_FACTOR·√n times the noise measured between f(c·x) and c·f(x) (n values
#: per sample): that residual keeps the layer's order of operations, while an orbit reorders every sum, whose
#: rounding then differs by up to √n times more (a random walk against one step); the factor 8 covers the two
#: calls an orbit error compares and the largest of many elements against one sample
FLOOR_NOISE_FACTOR = 8.0
#: elements whose own inputs (zero-fill checks) are measured per call for the rounding floor
FLOOR_CHUNK = 16


def _anchor_action(rho):
    """ρ for the anchor row: the identity, written as a zero shift when every ρ is a circular shift (so the
    expected rows are built in one windowed copy)."""
    if rho and all(type(r) is CircularShift for r in rho):
        return CircularShift((0,) * len(rho[0].shifts))
    return Identity()


def _swap_first(t, n):
    """``t`` with its first two blocks of ``n`` rows exchanged (its own inverse): the anchor sits second."""
    if t.shape[0] < 2 * n:
        return t
    return torch.cat([t[n:2 * n], t[:n], t[2 * n:]])


class _BatchCoupled(Exception):
    """The anchor's rows inside a chunk differ from the reference: batching is not valid for this layer."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


# ----------------------------------------------------------------------------- one evaluation


@contextmanager
def _tf32_off():
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


class _Evaluation:
    """One check of one input batch against a list of (element, ρ(element)) pairs."""

    def __init__(self, f, x, elements, rho, sources, *, margin, mode, terms, torch_compile, label):
        self.f, self.x, self.elements, self.rho, self.sources = f, x, elements, rho, sources
        self.layer = ProtectedLayer(f, label=label)
        self.y0 = self.layer(x, "f(x)", keep=True)
        self.mask = _interior_mask(self.y0.shape, margin, x.device)
        self.masked = not bool(self.mask.all())
        self.exact = mode == "exact" or not (self.y0.is_floating_point() or self.y0.is_complex())
        self.regime = precision_regime(_computation_dtype(f, x, self.y0), x.device)
        if self.regime.reason.startswith("TF32"):
            # TF32 rounds only convolutions and matrix products: a layer without them computes in float32's own
            # precision, and TF32's wider bound would hide a float32-sized defect.  Its output with TF32 off
            # must then be bitwise the same.
            with _tf32_off():
                plain = self.layer(x, "f(x) with TF32 off")
            if plain.shape == self.y0.shape and torch.equal(plain, self.y0):
                self.regime = PrecisionRegime(torch.float32, unit_roundoff(torch.float32),
                                              "float32 on cuda (TF32 is allowed, but this layer's result is the "
                                              "same without it)")
        if _stored_roundoff(self.y0.dtype, self.regime.unit_roundoff):
            stored = str(self.y0.dtype).replace("torch.", "")
            self.regime = dataclasses.replace(self.regime, reason=f"{self.regime.reason}, output stored in {stored} "
                                                                  f"(one more rounding)")
        self.terms = terms
        self.spatial_rank = self.y0.dim() - 2 if self.y0.dim() >= 3 else 0
        # a layer that cancels large inputs to a small output still rounds at the inputs' size: the bounds
        # take the larger of the output's magnitude and the input sample's as their scale
        magnitude = x.abs().reshape(x.shape[0], -1).amax(dim=1).double()
        self.input_scale = magnitude.reshape((1, -1) + (1,) * (self.y0.dim() - 1))
        self._floor: torch.Tensor | None = None
        self.rho_terms = torch.tensor([r.rounding_steps(tuple(self.y0.shape)) for r in rho], dtype=torch.float64)
        self.compiled = torch.compile(f, dynamic=False) if torch_compile else None
        self.twin: _Twin | None = None
        self.probes: dict = {}  # narrow copies (float16, bfloat16), built on first need
        self.probed = False  # whether it was needed to accept the twin
        self.notes: list[str] = []

    # --- calling the layer, its twin --------------------------------------------------------------

    def forward(self, inputs, what, pad_to=0):
        if self.compiled is None:
            return self.layer(inputs, what)
        count = inputs.shape[0]
        if pad_to > count:  # the last chunk is short: pad it to the compiled batch size rather than recompile
            inputs = torch.cat([inputs, inputs[-1:].expand(pad_to - count, *inputs.shape[1:])])
        try:
            return self.compiled(inputs.clone())[:count]
        except Exception as exc:  # compiling can fail where the eager layer works: then check eagerly
            outputs = self.layer(inputs, what)[:count]  # raises the layer's own error if it has one
            warnings.warn(f"torch.compile failed ({type(exc).__name__}: {str(exc)[:200]}); checking eagerly",
                          RuntimeWarning, stacklevel=6)
            self.compiled = None
            return outputs

    def twin_layer(self) -> _Twin:
        """The twin, built on first need: float64 for a narrower layer, float32 (an amplifier) for float64."""
        if self.twin is not None:
            return self.twin
        # the twin is wider than the computation (float64 for float32 arithmetic, whatever the output's dtype);
        # only float64 arithmetic gets a narrower one, the float32 amplifier
        real = {torch.complex128: torch.float64, torch.complex64: torch.float32}.get(self.regime.dtype,
                                                                                   self.regime.dtype)
        target = torch.float32 if real == torch.float64 else torch.float64
        u = unit_roundoff(target)
        wider = u < self.regime.unit_roundoff
        twin, reason = cast_twin(self.f, target)
        layer = None if twin is None else ProtectedLayer(twin, label="the twin")
        self.twin = _Twin(layer, target, u, wider, reason)
        if layer is not None:
            try:
                reference = layer(twin_input(self.x, target), "the twin's f(x)", keep=True)
                if reference.shape != self.y0.shape:
                    raise LayerError(f"its output has shape {tuple(reference.shape)}, the layer's {tuple(self.y0.shape)}")
                self.twin.reference = reference
                # a twin whose output is stored narrower than it computes (the layer's final cast, kept by the
                # twin) ignores a fine change because of that cast: its bound allows for the cast instead
                stored_narrow = _stored_roundoff(reference.dtype, u) > 0
                if wider and not stored_narrow and self._ignores_fine_detail(layer, target, reference):
                    self.twin = _Twin(None, target, u, wider, (
                        f"the {str(target).replace('torch.', '')} twin computes in the layer's precision: its "
                        f"output ignores a change of its input below "
                        f"{str(self.regime.dtype).replace('torch.', '')} resolution"))
                    return self.twin
                self.validate(self.y0.unsqueeze(0), reference.unsqueeze(0),
                              lambda layer, dtype: layer(twin_input(self.x, dtype), "the probe's f(x)").unsqueeze(0))
            except LayerError as exc:
                self.twin = _Twin(None, target, u, wider, f"the {str(target).replace('torch.', '')} twin fails: "
                                                          f"{str(exc)[:200]}")
        return self.twin

    def _ignores_fine_detail(self, layer, dtype, reference) -> bool:
        """Whether the wider twin rounds to the layer's precision inside (``x.float()`` in its code), so that its
        errors say nothing about whether a difference shrinks with precision.

        Such a twin's output has its steps exactly where the layer's precision rounds: it is bitwise unchanged
        when every input value moves by less than half a unit in the last place of that precision (times
        1 ± 2⁻³⁰, and times 1 ± 0.45·u: at most 0.45 units, which round back), and changed when every value
        moves by one unit (times 1 ± 1.5·u, which rounds to the neighbour) in one of three random directions, or
        up by a few units (times 1 + 8.5·u: a long sum's rounding cancels random signs, and may absorb one unit).  A piecewise-constant front end (a quantiser) has its steps elsewhere: on a coarse grid it
        ignores the one-unit move too; on a grid as fine as the layer's precision it sees the sub-unit move.
        Either way it is kept as the arbiter."""
        x = twin_input(self.x, dtype)
        u = self.regime.unit_roundoff
        if not bool(x.any()) or u <= 2.0**-30:
            return False

        def ignores(step, seed, what):
            # seed None: every value up (a mean's rounding sees that; random signs cancel in a long sum)
            signs = torch.ones_like(x) if seed is None else \
                torch.randint(0, 2, x.shape, generator=torch.Generator().manual_seed(seed)).to(x.device, dtype)
            try:
                moved = layer(x * (1 + step * (2 * signs - 1)), what)
            except LayerError:
                return False
            return moved.shape == reference.shape and bool(torch.equal(moved, reference))

        below = ignores(2.0**-30, 0, "the twin on a finely changed input") and ignores(
            0.45 * u, 0, "the twin on an input moved by less than half a unit")
        return below and not (ignores(8.5 * u, None, "the twin on an input moved up by a few units") and all(
            ignores(1.5 * u, seed, "the twin on an input moved by one unit") for seed in (1, 2, 3)))

    def probe_layer(self, dtype):
        """A copy of the layer in a narrow ``dtype``: a third precision, to tell rounding from a code path."""
        if dtype not in self.probes:
            probe, _ = cast_twin(self.f, dtype)
            self.probes[dtype] = None if probe is None else ProtectedLayer(probe, label=f"the {dtype} probe")
        return self.probes[dtype]

    def validate(self, outputs, outputs_twin, outputs_in):
        """Is the twin the same function as the layer?  Where they differ by more than the narrower precision's
        rounding bound, the difference must grow as the precision falls — a float16 (or bfloat16) probe
        differs from the wider of the two by 2⁶ (2⁸) times more, or has lost half the output — as rounding does
        and a different code path does not.

        ``outputs_in(layer, dtype)`` evaluates the same points with another copy of the layer.
        """
        twin = self.twin
        assert twin is not None  # validate runs only once the twin exists
        u_narrow = self.regime.unit_roundoff if twin.wider else twin.u
        wide = outputs_twin if twin.wider else outputs
        gap = _difference(outputs_twin, outputs) if twin.wider else _difference(outputs, outputs_twin)
        terms = torch.full((outputs.shape[0],), float(self.terms))
        narrow = self.regime.dtype if twin.wider else twin.dtype
        bound = _bound(_channel_scale(outputs, outputs_twin, self.spatial_rank), terms, u_narrow,
                       _smallest_normal(narrow), stored=(outputs if twin.wider else outputs_twin).dtype,
                       floor=self.floor())
        beyond = gap > bound
        if not bool(beyond.any()):
            return
        suspect = self.slice_max(beyond.double()).bool()
        # one probe must show the full growth, and every probe that runs some growth: one probe can lose
        # everything for reasons of its own (float16 underflows where bfloat16 does not), its rounding can be
        # capped by a clamp or an epsilon, and a code path taken by some precisions only is seen by another
        full, partial = False, True
        for dtype, growth in PROBES:
            probe = self.probe_layer(dtype)
            if probe is None:
                continue
            try:
                probed = outputs_in(probe, dtype)
            except (LayerError, RuntimeError):
                continue  # no path in that precision (an FFT in half precision, an overflow): try the next
            # rounding cannot destroy more than everything: a probe that lost half the output's magnitude has
            # grown as far as rounding can — provided the layer itself lost little next to it (2⁻⁶ of what the
            # probe lost): a layer on the probes' code path loses as much as they do, rounding does not.  A probe
            # whose output vanished altogether (content below its resolution next to a bias) has lost it to
            # rounding whatever the layer lost; so where the wider output is exactly zero (a bias minus its
            # own mean) there is nothing to grow, and the layer's residue is its rounding
            lost = self.slice_max(_difference(wide, probed).double())
            half = 0.5 * self.slice_max(wide.abs().double())
            grown = self.slice_max(gap.double())
            vanished = self.slice_max(probed.abs().double()) == 0
            saturated = (lost >= half) & ((grown <= lost / PROBES[0][1]) | vanished | (half == 0))
            full = full or bool(((lost >= growth * grown) | saturated | ~suspect).all())
            partial = partial and bool(((lost >= PARTIAL_GROWTH * grown) | saturated | ~suspect).all())
        if full and partial:
            self.probed = True
            return
        tiny = torch.finfo(torch.float64).tiny
        twin.valid = False
        twin.disagreement = max(twin.disagreement, float((gap.double() / bound.clamp_min(tiny)).max()))

    # --- judging rows of comparisons --------------------------------------------------------------

    def slice_max(self, t):
        """max over the spatial axes per (row, sample, channel); flat outputs per feature (a loud feature's
        rounding noise says nothing about a quiet one's)."""
        if self.spatial_rank == 0:
            return t
        return t.amax(dim=tuple(range(t.dim() - self.spatial_rank, t.dim())), keepdim=True)

    def floor(self):
        """Per sample, the scale a layer's rounding noise may reach: a layer that cancels large inputs to a small
        output still rounds at the inputs' size, one that scales its input down (a unit conversion) does not.
        Measured, not assumed: f(c·x) − c·f(x) for c = 17/16 and c = 15/16 is, summed, rounding noise — the
        factors scramble every rounding, and the sum cancels the first-order change of a layer that is not
        homogeneous (a bias) — so the floor is what the rounding bound needs to cover 8·√n times that noise
        (see FLOOR_NOISE_FACTOR), and never more than the input's magnitude (which a layer far from homogeneous
        gets)."""
        if self._floor is not None:
            return self._floor
        dims = tuple(range(1, self.y0.dim()))
        out_scale = _max_magnitude(self.y0, dims).reshape(self.input_scale.shape)
        floor = self.input_scale
        nu = self.terms * self.regime.unit_roundoff
        if not self.exact and nu < 1 and bool((self.input_scale > out_scale).any()):
            try:
                noise = torch.zeros_like(out_scale)
                # measured on every input the check compares: x itself, or for a zero-fill check each element's
                # own input (x cut to a window), whose rounding can differ from x's
                n = self.x.shape[0]
                for inputs, reference in self._floor_inputs():
                    per_input = self._rounding_noise(inputs, reference).reshape(-1, n).amax(dim=0)
                    noise = torch.maximum(noise, per_input.reshape(noise.shape))
                needed = FLOOR_NOISE_FACTOR * math.sqrt(self.terms) * noise / (2 * nu / (1 - nu))
                floor = torch.minimum(self.input_scale, torch.maximum(needed, out_scale))
            except LayerError:
                pass  # the layer refuses the scaled input: keep the input's magnitude
        self._floor = floor
        return floor

    def _floor_inputs(self):
        """(inputs, f(inputs) or None) with x's samples last: x itself, or every element's own input, batched."""
        if self.sources is None:
            yield self.x, self.y0
            return
        count = len(self.elements)
        for start in range(0, count, FLOOR_CHUNK):
            yield self.sources(list(range(start, min(count, start + FLOOR_CHUNK)))).flatten(0, 1), None

    def _rounding_noise(self, inputs, reference):
        """Per input sample, |f(17/16·x) + f(15/16·x) − 2·f(x)| at its largest, less what a final cast to a
        narrower output dtype can contribute (that rounding is bounded on its own, by the compared values)."""
        if reference is None:
            reference = self.layer(inputs, "f(x), for the rounding floor")

        def size(t):
            return t.abs().reshape(t.shape[0], -1).amax(dim=1).double() if t.numel() else t.new_zeros(t.shape[0])

        calls = [(self.layer(inputs * c, "f(c·x), for the rounding floor"), c) for c in (17 / 16, 15 / 16)]
        noise = size(sum(y.double() - c * reference.double() for y, c in calls))
        u_stored = _stored_roundoff(reference.dtype, self.regime.unit_roundoff)
        if u_stored:
            cast = u_stored * (sum(size(y) for y, _ in calls) + 2 * size(reference))
            noise = (noise - cast).clamp_min(0)
        return noise

    def row_masks(self, rho):
        """Per row, where to compare on the interior: p and the position ρ(g) brought it from both inside the
        margin (zero padding keeps equivariance only where neither side saw the border).  None: everywhere."""
        if not self.masked:
            return None
        mask = self.mask.expand_as(self.y0).to(torch.float64)
        return torch.stack([self.mask.expand_as(self.y0) & r(mask).bool() for r in rho])

    def judge(self, outputs, expected, rho_terms, rows_in, mask=None):
        """Verdicts for rows of outputs against expected ones (each (R, N, ...)); ``mask`` (R, N, ...) limits
        the comparison to the interior.

        ``rows_in(layer, dtype)`` computes the same rows — outputs and expected outputs — with another
        copy of the layer in another precision, when the verdict needs the twin.
        """
        diff = _difference(outputs, expected)
        if mask is not None:
            diff.masked_fill_(~mask, 0)
        scale = _channel_scale(outputs, expected, self.spatial_rank)
        terms = self.terms + rho_terms
        bound = torch.zeros_like(scale) if self.exact else _bound(scale, terms,
                                                                   self.regime.unit_roundoff,
                                                                   _smallest_normal(self.regime.dtype),
                                                                   stored=outputs.dtype, floor=self.floor())
        own = diff > bound.to(diff.dtype)
        twin_error = twin_threshold = arbitrated = None
        if not self.exact:
            twin = self.twin_layer()
            needed = bool(diff.any()) if twin.wider else bool(own.any())
            if needed and twin.layer is not None:
                twin.used = True
                out_twin, expected_twin = rows_in(twin.layer, twin.dtype)
                self.validate(outputs, out_twin, lambda layer, dtype: rows_in(layer, dtype)[0])
                twin_diff = _difference(out_twin, expected_twin)
                if mask is not None:
                    twin_diff.masked_fill_(~mask, 0)
                if twin.wider:
                    tau_hi = _bound(_channel_scale(out_twin, expected_twin, self.spatial_rank), terms,
                                    twin.u, _smallest_normal(twin.dtype), stored=out_twin.dtype, floor=self.floor())
                    e_hi, e_lo = twin_diff, diff
                    kappa = shrink_factor(twin.u, self.regime.unit_roundoff)
                else:
                    e_hi, e_lo, tau_hi = diff, twin_diff, bound
                    kappa = shrink_factor(self.regime.unit_roundoff, twin.u)
                # the narrower precision's rounding, per sample and channel — seen in its orbit error and in how far
                # it is from the wider precision's outputs — bounds the wider one's rounding by κ of it anywhere in
                # that slice (rounding noise is not local)
                noise = torch.maximum(self.slice_max(e_lo.double()),
                                      self.slice_max(_difference(outputs, out_twin).double()))
                twin_threshold = torch.maximum(tau_hi, kappa * noise)
                # the twin arbitrates the layer's differences; where the layer agrees bitwise there is nothing to
                # arbitrate (the twin's own rounding may still differ between batch sizes)
                arbitrated = (e_hi.double() > twin_threshold) & (diff > 0)
                twin_error = twin_diff
        return _reduce(diff, bound, scale, own, arbitrated, twin_error, twin_threshold)

    def _rows_in(self, elements, rho, sources, layer, dtype, with_anchor):
        """Outputs and expected outputs of ``elements`` (and the anchor) computed by ``layer`` in ``dtype``."""
        x = twin_input(self.x, dtype)
        shape = tuple(self.y0.shape)
        k = len(elements)
        twin = self.twin
        known = twin.reference if twin is not None and layer is twin.layer else None
        if sources is None:
            anchor = (_anchor_action(elements),) if with_anchor else ()
            batch = apply_all(anchor + elements + anchor, x).flatten(0, 1)
            out = layer(_swap_first(batch, shape[0]) if with_anchor else batch, "f(g·x) in another precision")
            out = _swap_first(out, shape[0]) if with_anchor else out
            reference = known if known is not None else layer(x, "f(x) in another precision")
            rows = out.reshape(k + 2 * len(anchor), *shape)
            rho_anchor = (_anchor_action(rho),) if with_anchor else ()
            expected = apply_all(rho_anchor + rho + rho_anchor, reference)
            return rows, expected
        sources = twin_input(sources, dtype)
        n = shape[0]
        moved = apply_each(elements, sources).flatten(0, 1)
        parts = ([x] if with_anchor else []) + [moved, sources.flatten(0, 1)] + ([x] if with_anchor else [])
        full = layer(_swap_first(torch.cat(parts), n) if with_anchor else torch.cat(parts),
                     "f(g·x) in another precision")
        full = _swap_first(full, n) if with_anchor else full
        out = full[n:] if with_anchor else full
        rows = out[: k * n].reshape(k, *shape)
        refs = out[k * n: 2 * k * n].reshape(k, *shape)
        expected = torch.stack([r(ref) for r, ref in zip(rho, refs)])
        if with_anchor:
            reference = known if known is not None else layer(x, "f(x) in another precision")
            rows = torch.cat([full[:n].unsqueeze(0), rows, full[-n:].unsqueeze(0)])
            expected = torch.cat([reference.unsqueeze(0), expected, reference.unsqueeze(0)])
        return rows, expected

    def check_repeat(self, what="a second call", previous=None):
        """f(x) again (or an earlier pass's f(x), ``previous``) must give the reference.

        A difference above the layer's own rounding bound is never rounding; a smaller one is forgiven only
        when the twin's repeated calls differ far less (non-deterministic reduction order in a kernel shrinks
        with precision; noise does not).
        """
        again = previous if previous is not None else self.layer(self.x, f"f(x) ({what})")

        def rows_in(layer, dtype):
            x = twin_input(self.x, dtype)
            return layer(x, "f(x)").unsqueeze(0), layer(x, "f(x) again").unsqueeze(0)

        rows = self.judge(again.unsqueeze(0), self.y0.unsqueeze(0), torch.zeros(1), rows_in)
        arbiter_ok = self.twin is not None and self.twin.layer is not None and self.twin.valid and self.twin.used
        changed = bool(rows["own"][0]) or (arbiter_ok and not self.exact and bool(rows["arbitrated"][0]))
        if changed:
            drift = float(rows["errors"][0])
            raise NotAFunction(
                f"the layer is not a function of its input: {what} on the same input gave a different output "
                f"(max difference {drift:.3g}, more than rounding explains). "
                + (TRAIN_MODE if batch_dependent_in_training(self.f) else
                   "Seed or remove randomness (dropout, sampling, noise) and hidden state (counters, caches) "
                   "before checking.")
            )

    # --- the three ways through the orbit ---------------------------------------------------------

    def batched(self, rows, memory_budget, progress):
        """The fast path: chunks of elements as one batch, with the anchor x in every chunk."""
        count = len(self.elements)
        chunk = chunk_limit(self.x, self.y0, count, memory_budget)
        start = 0
        while start < count:
            stop = min(count, start + chunk)
            try:
                reduced, anchor = self._chunk(start, stop, chunk)
            except LayerError as exc:
                if chunk > 1 and _is_oom(exc):
                    chunk //= 2  # out of memory: halve the chunk and try again
                    if self.x.device.type == "cuda":
                        torch.cuda.empty_cache()
                    continue
                raise
            rows.store(start, reduced)
            if anchor is not None:
                raise _BatchCoupled(anchor)
            if progress is not None:
                progress(stop, count)
            start = stop

    def _chunk(self, start, stop, pad_to):
        elements, rho = self.elements[start:stop], self.rho[start:stop]
        k, n = len(elements), self.x.shape[0]
        sources = None if self.sources is None else self.sources(list(range(start, stop)))
        # the anchor x rides along in every chunk twice, second and last (a layer that couples a sample with its
        # neighbours on one side only still moves one of them; one that lets the first sample decide for the
        # batch decides on an element of the orbit), built in the same copy as the orbit
        if sources is None:
            anchor = (_anchor_action(elements),)
            inputs = _swap_first(apply_all(anchor + elements + anchor, self.x).flatten(0, 1), n)
        else:
            moved = apply_each(elements, sources)
            inputs = _swap_first(torch.cat([self.x, moved.flatten(0, 1), sources.flatten(0, 1), self.x]), n)
        what = lambda: f"f(g·x) for g in {list(elements)!r}"[:200]  # noqa: E731 - written only on error
        try:
            padded = (pad_to + (0 if sources is None else pad_to)) * n + 2 * n  # compiled batch size
            outputs = _swap_first(self.forward(inputs, what, padded), n)
        except LayerError as exc:
            if _is_oom(exc) or inputs.shape[0] <= n:
                raise
            raise _BatchCoupled(f"the layer raised on a batch of {inputs.shape[0]} inputs although it accepts "
                                f"{n}: {str(exc)[:200]}") from exc
        out_shape = tuple(self.y0.shape[1:])
        if tuple(outputs.shape[1:]) != out_shape:
            raise OutputShapeMismatch(
                f"f(g·x) has shape {tuple(outputs.shape[1:])} per sample but f(x) has shape {out_shape}; the "
                f"layer's output shape depends on how the input was transformed"
            )
        with_anchor = (_anchor_action(rho),) + rho + (_anchor_action(rho),)
        if sources is None:
            all_out = outputs.reshape(k + 2, n, *out_shape)  # the anchors' rows are the first and the last
            all_expected = apply_all(with_anchor, self.y0)
        else:
            refs = outputs[(k + 1) * n: (2 * k + 1) * n].reshape(k, n, *out_shape)
            all_out = torch.cat([outputs[: (k + 1) * n], outputs[-n:]]).reshape(k + 2, n, *out_shape)
            all_expected = torch.cat([self.y0.unsqueeze(0), torch.stack([r(ref) for r, ref in zip(rho, refs)]),
                                      self.y0.unsqueeze(0)])
        if tuple(all_expected.shape[2:]) != out_shape:
            raise OutputShapeMismatch(
                f"f(g·x) has shape {out_shape} per sample but ρ(g)·f(x) has shape {tuple(all_expected.shape[2:])}; "
                f"the layer's output shape depends on how the input was transformed"
            )
        terms = torch.cat([torch.zeros(1), self.rho_terms[start:stop], torch.zeros(1)])

        def rows_in(layer, dtype):
            return self._rows_in(elements, rho, sources, layer, dtype, with_anchor=True)

        masks = self.row_masks(with_anchor)
        reduced = self.judge(all_out, all_expected, terms, rows_in, masks)
        anchors = [0, k + 1]
        moved = [a for a in anchors if bool(reduced["own"][a]) or bool(reduced["arbitrated"][a])]
        anchor_why = None
        if moved:
            anchor_why = (f"f(x) computed within a batch of {inputs.shape[0]} differs from f(x) computed alone "
                          f"(max difference {max(float(reduced['errors'][a]) for a in moved):.3g})")
        kept = {key: value[1:-1] for key, value in reduced.items()}
        kept["call_batch"] = torch.full((k,), inputs.shape[0], dtype=torch.long)
        return kept, anchor_why

    def uniform(self, rows, progress):
        """One element per call, each on a batch of exactly the input's samples: valid for any layer."""
        count = len(self.elements)
        for i, (g, r) in enumerate(zip(self.elements, self.rho)):
            source = self.x if self.sources is None else self.sources([i])[0]
            try:
                out = self.layer(g(source), lambda: f"f(g·x) for g = {g!r}")
                reference = self.y0 if self.sources is None else self.layer(source, "f(x)")
            except LayerError as exc:
                if _is_oom(exc):
                    raise
                rows.raised[i] = f"f(g·x) raised where f(x) did not, at g = {g!r}: {str(exc)[:300]}"
                rows.own[i] = rows.arbitrated[i] = True
                continue
            expected = r(reference)
            if out.shape != expected.shape:
                raise OutputShapeMismatch(
                    f"f(g·x) has shape {tuple(out.shape[1:])} per sample but ρ(g)·f(x) has shape "
                    f"{tuple(expected.shape[1:])}; the layer's output shape depends on how the input was transformed"
                )

            def rows_in(layer, dtype, g=g, r=r, source=source):
                src = twin_input(source, dtype)
                out_t = layer(g(src), "f(g·x) in another precision")
                return out_t.unsqueeze(0), r(layer(src, "f(x) in another precision")).unsqueeze(0)

            rows.store(i, self.judge(out.unsqueeze(0), expected.unsqueeze(0), self.rho_terms[i:i + 1], rows_in,
                                     self.row_masks((r,))))
            rows.call_batch[i] = source.shape[0]
            if progress is not None:
                progress(i + 1, count)


# ----------------------------------------------------------------------------- the public entry


def evaluate(
    f,
    x,
    elements,
    *,
    output_action: OutputAction,
    claim: str,
    group=None,
    margin=None,
    mode="auto",
    terms=None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    progress: ProgressCallback | None = None,
    torch_compile=False,
    sources: Callable[[list[int]], torch.Tensor] | None = None,
    label="the layer",
    arbiter=True,
) -> OrbitResult:
    """Compare ``f(g·x)`` with ``ρ(g)·f(x)`` for every element; return an :class:`OrbitResult`.

    ``sources`` (optional) gives each element its own input batch: ``sources(indices)`` returns the batches
    of the elements at those positions, shaped (k, *x.shape); then ``f(g·s_g)`` is compared with
    ``ρ(g)·f(s_g)`` (zero-fill shifts of content that the shift keeps inside).  ``torch_compile=True`` runs the orbit's chunks through
    ``torch.compile(f)``; the reference f(x) stays eager, so the anchor cross-checks the compiled layer
    against the layer itself.  ``arbiter=False`` skips the twin: errors are measured, but float-mode
    verdicts rest on the worst-case bound alone (for benchmarks and error maps, never for a verdict).
    """
    if not callable(f):
        raise InvalidArgument(f"f={describe_value(f)} must be callable (a torch.nn.Module or a function)")
    spatial_rank = require_spatial(x, "x")
    if not (x.is_floating_point() or x.is_complex()):
        raise InvalidArgument(
            f"x has dtype {x.dtype}; it must be floating (for exact mode use integer-valued float tensors, "
            f"e.g. x.float())"
        )
    if not isinstance(memory_budget, int) or isinstance(memory_budget, bool) or memory_budget <= 0:
        raise InvalidArgument(f"memory_budget={memory_budget!r} must be a positive number of bytes")
    if not isinstance(torch_compile, bool):
        raise InvalidArgument(f"torch_compile={torch_compile!r} must be True or False")
    if progress is not None and not callable(progress):
        raise InvalidArgument(f"progress={describe_value(progress)} must be None or a callable progress(done, total)")
    elements = tuple(elements)
    if not elements:
        raise InvalidArgument("elements is empty; give at least one group element")
    for g in elements:
        if not isinstance(g, Action):
            raise InvalidArgument(f"elements holds {describe_value(g)}; each must be a group element (an Action)")
        g.validate(x.shape, "x")
    if sources is not None and not callable(sources):
        raise InvalidArgument("sources must be a callable sources(indices) -> (k, *x.shape) tensor")
    margin = normalise_margin(margin, spatial_rank)
    terms = terms if terms is not None else max(1, x[0].numel())
    if not isinstance(terms, int) or isinstance(terms, bool) or terms < 1:
        raise InvalidArgument(f"terms={terms!r} must be a positive int (the number of accumulated terms)")
    rho = tuple(output_action(g) for g in elements)
    requested = mode
    mode = resolve_mode(mode, x, f, elements + rho)  # element inputs are x with content removed: alike
    notes: tuple[str, ...] = ()
    obstacle = exact_mode_obstacle(x, f) if mode == "exact" else None
    if obstacle is not None:  # TF32 or autocast round integer data: exact mode would raise false alarms
        mode, notes = "float", (f"exact mode is not exact here ({obstacle}); checked in float mode",)

    with evaluation_mode():
        try:
            return _run(f, x, elements, rho, sources, output_action, claim, group, margin, mode, terms,
                        memory_budget, progress, torch_compile, label, fall_back=requested == "auto",
                        arbiter=arbiter, notes=notes)
        except _NeedsFloat as exact_pass:
            # integer-valued data, yet not bitwise reproducible: some operation is inexact (an FFT, a division,
            # integers beyond 2^24); judge by the float tolerance model and its arbiter instead
            return _run(f, x, elements, rho, sources, output_action, claim, group, margin, "float", terms,
                        memory_budget, progress, torch_compile, label, fall_back=False, arbiter=arbiter,
                        previous=exact_pass.reference, notes=notes)


#: set by :func:`one_element_per_call`: every evaluation calls the layer once per group element
_ONE_PER_CALL: ContextVar[bool] = ContextVar("one_element_per_call", default=False)


@contextmanager
def one_element_per_call():
    """Within this block, every orbit is evaluated one group element per call, on a batch of exactly the
    input's samples — for a layer whose outputs inside a batched chunk differ from its outputs alone even
    though the anchor rows agree (batch coupling that spares the anchors)."""
    token = _ONE_PER_CALL.set(True)
    try:
        yield
    finally:
        _ONE_PER_CALL.reset(token)


class _NeedsFloat(Exception):
    """Exact mode met an inexact operation (a difference where integers should agree bitwise)."""

    def __init__(self, reference):
        super().__init__()
        self.reference = reference


def _run(f, x, elements, rho, sources, output_action, claim, group, margin, mode, terms, memory_budget, progress,
         torch_compile, label, fall_back, arbiter, previous=None, notes=()):
    """One pass in one mode; with ``fall_back``, exact mode gives way to float mode at the first difference."""
    evaluation = _Evaluation(f, x, elements, rho, sources, margin=margin, mode=mode, terms=terms,
                             torch_compile=torch_compile, label=label)
    evaluation.notes.extend(notes)
    if not arbiter:
        evaluation.twin = _Twin(None, torch.float64, 0.0, True, "switched off (arbiter=False)")
    y0 = evaluation.y0
    if y0.dim() >= 3 and y0.dim() != x.dim() and not isinstance(output_action, Trivial):  # invariance: any rank
        raise InvalidArgument(
            f"f(x) has shape {tuple(y0.shape)}, x {tuple(x.shape)}: an output action compares them axis by axis "
            f"as (N, C, *spatial), so the output needs a channel axis and as many spatial axes as the input; if "
            f"the layer drops the channel axis, wrap it so that it returns y.unsqueeze(1)")
    for r in rho:
        try:
            r.validate(y0.shape, "f(x)")
        except InvalidArgument as exc:
            if y0.dim() < 3:  # a flat output: the claim was mistaken for another (a usage error)
                raise InvalidArgument(f"ρ(g) = {r!r} cannot act on the output of f: {exc}. The output is flat: "
                                      f"translation-equivariance needs a spatial output — did you mean "
                                      f"invariance?") from None
            # a spatial output the claimed output action cannot move (a smaller output): the claim fails
            raise OutputShapeMismatch(f"ρ(g) = {r!r} cannot act on the output of f (shape "
                                      f"{tuple(y0.shape)}): {exc}") from None
    fall_back = fall_back and mode == "exact" and (y0.is_floating_point() or y0.is_complex())
    try:
        evaluation.check_repeat()
        if previous is not None:  # the exact pass's reference: a layer must not change between passes
            evaluation.check_repeat("the first pass (in exact mode)", previous=previous)
    except LayerError:
        if fall_back:
            raise _NeedsFloat(y0) from None
        raise
    rows = _Rows(len(elements))
    reshapes = any(g.output_spatial_shape(tuple(x.shape[2:])) != tuple(x.shape[2:]) for g in elements)
    try:
        if reshapes or _ONE_PER_CALL.get():  # inputs of another size cannot share a batch with x; or asked for
            raise _BatchCoupled(None)
        evaluation.batched(rows, memory_budget, progress)
        how = "batched"
    except _BatchCoupled as coupled:
        if fall_back and coupled.why is not None:
            raise _NeedsFloat(y0) from None
        if coupled.why is not None:
            evaluation.notes.append(
                f"{coupled.why}: the layer couples the samples of a batch (or limits its size), so every group "
                f"element was evaluated on its own call, on a batch of exactly the input's {x.shape[0]} sample(s)")
        rows = _Rows(len(elements))
        evaluation.uniform(rows, progress)
        how = "one element per call"
    if fall_back and bool((rows.errors > 0).any()):
        raise _NeedsFloat(y0)
    evaluation.check_repeat("a call after the orbit")
    if evaluation.layer.mutates_input:
        evaluation.notes.append("the layer writes into its input; every call got its own copy, so the evidence "
                                "is unaffected")
    return _result(evaluation, rows, output_action, claim, group, margin, how)


def _result(evaluation, rows, output_action, claim, group, margin, how):
    x, y0, elements, rho = evaluation.x, evaluation.y0, evaluation.elements, evaluation.rho
    twin = evaluation.twin
    violated = rows.violated(twin)
    if evaluation.exact:
        arbiter = "none needed: exact comparison (bitwise)"
    elif twin is None or (twin.layer is not None and not twin.used):
        arbiter = "not needed: every difference was zero"
    else:
        arbiter = twin.describe()
    arbiter_ok = twin is not None and twin.layer is not None and twin.valid and twin.used
    mode = "exact" if evaluation.exact else "float"
    if not evaluation.exact and not arbiter_ok:
        vacuous = torch.isinf(rows.tolerances) & (rows.errors > 0)
        if bool(vacuous.any()):
            raise LayerError(
                f"cannot judge in {evaluation.regime.reason}: its rounding bound is vacuous for inputs of "
                f"{evaluation.terms} values (n·u ≥ 1) and no validated twin is available ({arbiter}); check in a "
                f"wider dtype or on smaller inputs"
            )
    notes = tuple(evaluation.notes)
    layer_name = describe_layer(evaluation.f)

    def measure(i):
        def reproduce() -> str:  # on demand: serialising weights and inputs costs more than the measurement
            return reproduction(evaluation.f, _source_of(evaluation, i), elements[i], output_action, margin=margin,
                                mode=mode)

        location = unravel(int(rows.where[i]), tuple(y0.shape)) if rows.errors[i] > 0 or i in rows.raised else None
        twin_error = float(rows.twin_error[i])
        return Measurement(
            claim=claim, layer=layer_name, element=elements[i], output_element=rho[i],
            max_error=float(rows.errors[i]), tolerance=float(rows.tolerances[i]), mode=mode, location=location,
            output_shape=tuple(y0.shape), input_shape=tuple(x.shape), dtype=str(x.dtype).replace("torch.", ""),
            device=str(x.device), margin=margin, violated=bool(violated[i]), scale=float(rows.scales[i]),
            twin_error=None if math.isnan(twin_error) or not arbiter_ok else twin_error,
            twin_threshold=None if math.isnan(twin_error) or not arbiter_ok else float(rows.twin_threshold[i]),
            arbiter=arbiter, regime=evaluation.regime.reason, evaluation=how,
            notes=notes + ((rows.raised[i],) if i in rows.raised else ()),
            hints=hints_for(evaluation.f, x, y0, location, margin, bool(violated[i]), elements[i], output_action),
            reproducer=reproduce,
        )

    return OrbitResult(group if group is not None else list(elements), elements, rows.errors, rows.tolerances,
                       measure, violated=violated, arbiter=arbiter, notes=notes, call_batches=rows.call_batch)


def describe_claim(output_action):
    """The label every report starts with: invariance, or equivariance with its ρ."""
    if isinstance(output_action, Trivial):
        return "invariance f(g·x) = f(x)"
    return f"equivariance f(g·x) = ρ(g)·f(x) with ρ = {output_action!r}"


def _source_of(evaluation, i):
    """The input element ``i`` acted on: x, or its own input (zero-fill shifts)."""
    return evaluation.x if evaluation.sources is None else evaluation.sources([i])[0]
