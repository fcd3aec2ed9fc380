"""The orbit engine: evaluate ``f(g·x)`` against ``ρ(g)·f(x)`` for many group elements at once.

Every check goes through :func:`evaluate`; a single-element check is an
orbit of one.  The transformed inputs of a chunk of elements are built with
one index gather when the actions are pixel permutations (no Python loop per
element), pushed through ``f`` as one batch, and compared with the
transformed reference output in the same pass.  Chunks are sized from a
memory budget and halved on out-of-memory; everything stays on the device
the input lives on.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Callable

import torch

from ._actions import CircularShift, Identity
from ._errors import InvalidArgument, LayerError, OutputShapeMismatch, describe_value, require_spatial
from ._measurement import (
    PITFALL_BORDER,
    PITFALL_STRIDE,
    PITFALL_TRAIN_MODE,
    Measurement,
    OrbitResult,
    describe_layer,
    unravel,
)
from ._output_actions import Trivial
from ._tolerance import float_tolerance, resolve_mode

#: called as ``progress(done, total)`` after each chunk of work: the library never prints, the caller draws
ProgressCallback = Callable[[int, int], None]

DEFAULT_MEMORY_BUDGET = 512 * 2**20  # bytes per chunk; small enough for a laptop, large enough to batch well


# ----------------------------------------------------------------------------- calling the layer


def call_layer(f, x, what):
    """Call ``f(x)`` and turn every way it can fail into a :class:`LayerError` that says what was asked.

    ``what`` is a string or a function returning one: describing a chunk of elements costs more than
    a small forward, so it is only written when there is an error to report.
    """
    try:
        y = f(x)
    except Exception as exc:  # the user's layer may raise anything; we report it, never hide it
        what = what() if callable(what) else what
        raise LayerError(
            f"the layer raised {type(exc).__name__}: {exc} (while evaluating {what} on an input of shape "
            f"{tuple(x.shape)} and dtype {x.dtype})"
        ) from exc
    if not isinstance(y, torch.Tensor):
        what = what() if callable(what) else what
        raise LayerError(f"the layer returned {describe_value(y)} for {what}; it must return a torch.Tensor")
    if not torch.isfinite(y).all():
        what = what() if callable(what) else what
        first = [int(i) for i in torch.nonzero(~torch.isfinite(y))[0]] if y.dim() else []
        raise LayerError(
            f"the layer returned NaN or inf for {what}, first at output{first}; "
            f"checks need finite outputs (look for division by zero, log of 0, or overflow in {y.dtype})"
        )
    return y


def _float64_twin(f):
    """A float64 copy of ``f`` for the re-run that separates violations from rounding."""
    if isinstance(f, torch.nn.Module):
        return copy.deepcopy(f).to(torch.float64)
    return f


# ----------------------------------------------------------------------------- building orbits


def _batched_source_index(elements, spatial_shape, device):
    """Stack the flat source index of every element: (G, P), or None if some element is not a permutation."""
    if all(type(g) is CircularShift and len(g.shifts) == len(spatial_shape) for g in elements):
        # all circular shifts: one vectorised computation instead of one meshgrid per element
        shifts = torch.tensor([g.shifts for g in elements], device=device)  # (G, d)
        grids = torch.meshgrid(*[torch.arange(n, device=device) for n in spatial_shape], indexing="ij")
        flat = torch.zeros((len(elements), math.prod(spatial_shape)), dtype=torch.long, device=device)
        for axis, (grid, n) in enumerate(zip(grids, spatial_shape)):
            coord = (grid.reshape(1, -1) - shifts[:, axis : axis + 1]) % n
            flat = flat * n + coord
        return flat
    indices = [g.source_index(spatial_shape) for g in elements]
    if any(i is None for i in indices):
        return None
    return torch.stack(indices).to(device)


#: small indices are cached (at most 16 of at most 2^20 entries, 8 MiB each): Hypothesis checks the same small
#: orbit (C4, D4, a subgroup) example after example, and for a handful of elements building the index costs
#: more than gathering with it.
_CACHED_INDEX_ENTRIES = 2**20
_cached_source_index = functools.lru_cache(maxsize=16)(_batched_source_index)


def _source_index(elements, spatial_shape, device):
    elements = tuple(elements)
    if len(elements) * math.prod(spatial_shape) <= _CACHED_INDEX_ENTRIES:
        try:
            return _cached_source_index(elements, spatial_shape, device)
        except TypeError:  # an element that cannot be hashed (a user's action holding a tensor): no cache
            pass
    return _batched_source_index(elements, spatial_shape, device)


def _gather(x, index):
    """Apply G pixel permutations at once: x (N, C, *S), index (G, P) -> (G, N, C, *S)."""
    n, c, *spatial = x.shape
    flat = x.reshape(n, c, -1)
    if bool((index < 0).any()):  # zero-fill: read from an extra zero column
        flat = torch.cat([flat, flat.new_zeros(n, c, 1)], dim=2)
        index = torch.where(index < 0, torch.full_like(index, flat.shape[2] - 1), index)
    out = flat[:, :, index]  # (N, C, G, P)
    # contiguous in (G, N, C, P) order: convolutions on a permuted view run several percent slower
    return out.permute(2, 0, 1, 3).contiguous().reshape(index.shape[0], n, c, *spatial)


def _circular_windows(elements, x):
    """All circular shifts as windows of the input tiled 2× per axis: one indexed copy, no index arithmetic.

    Rolling by t reads x[(i − t) mod n], which is the tile read from (−t mod n) + i.
    """
    n, c, *spatial = x.shape
    tiled = x.repeat(1, 1, *([2] * len(spatial)))
    windows = tiled
    for axis, size in enumerate(spatial):
        windows = windows.unfold(2 + axis, size, 1)  # (N, C, *(size+1), *size): views, no copy
    starts = torch.tensor([[(-t) % s for t, s in zip(g.shifts, spatial)] for g in elements], device=x.device)
    # window starts first, so the indexed copy comes out contiguous as (G, N, C, *S): the layer then gets a
    # contiguous batch (convolutions on a permuted view run several percent slower)
    rank = len(spatial)
    windows = windows.permute(*range(2, 2 + rank), 0, 1, *range(2 + rank, 2 + 2 * rank))
    return windows[tuple(starts[:, axis] for axis in range(rank))]


def apply_all(elements, x):
    """``g·x`` for every element, stacked as (G, N, C, *S): one gather when possible, a loop otherwise."""
    if all(type(g) is CircularShift and len(g.shifts) == x.dim() - 2 for g in elements):
        return _circular_windows(elements, x)
    same_shape = all(g.output_spatial_shape(x.shape[2:]) == tuple(x.shape[2:]) for g in elements)
    if same_shape:
        if all(isinstance(g, Identity) for g in elements):
            return x.unsqueeze(0).expand(len(elements), *x.shape)
        index = _source_index(elements, tuple(x.shape[2:]), x.device)
        if index is not None:
            return _gather(x, index)
    return torch.stack([g._apply(x) for g in elements])


# ----------------------------------------------------------------------------- the evaluation


def _interior_mask(shape, margin, device):
    """Boolean mask of the output (1, C, *S) that is True at distance ≥ margin from every border."""
    mask = torch.ones((1,) + tuple(shape[1:]), dtype=torch.bool, device=device)
    if margin is None:
        return mask
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


#: elements per chunk on a CPU.  Throughput there peaks when a chunk's activations stay in cache: on 2 cores,
#: per-element time at batch 1/8/32/64/256/1024 was 2.66/2.02/0.70/1.11/1.80/2.54 ms for the ResNet-18-like
#: (64×64) and 0.71/0.34/0.25/0.23/0.42/0.59 ms for the small CNN (32×32).  A timing-driven search over sizes
#: was tried and dropped: on a shared 2-core VM its choice swung with noise.  GPUs take the memory budget.
CPU_CHUNK = 32


def chunk_limit(x, y0, count, memory_budget):
    """Elements per chunk: bounded by the memory budget everywhere, by CPU_CHUNK on a CPU."""
    limit = max(1, min(count, memory_budget // max(1, _per_element_bytes(x, y0))))
    return min(limit, CPU_CHUNK) if x.device.type == "cpu" else limit


def _is_oom(exc):
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


class _Comparison:
    """What one chunk needs to compare ``f(g·x)`` with ``ρ(g)·f(x)``; shared by every chunk."""

    def __init__(self, f, x, elements, rho, margin, need_scale=True, torch_compile=False):
        self.f, self.x, self.elements, self.rho = f, x, elements, rho
        self.need_scale = need_scale  # float mode needs max|output| for its tolerance; exact mode does not
        self.y0 = call_layer(f, x, "f(x)")  # the reference is always the layer itself, never a compiled copy
        self.mask = _interior_mask(self.y0.shape, margin, x.device)
        # torch.compile wraps f without touching it; the chunks then run compiled, at one batch size
        self.compiled = torch.compile(f, dynamic=False) if torch_compile else None

    def _forward(self, inputs, what, pad_to):
        if self.compiled is None:
            return call_layer(self.f, inputs, what)
        count = inputs.shape[0]
        if pad_to > count:  # the last chunk is short: pad it to the compiled batch size rather than recompile
            inputs = torch.cat([inputs, inputs[-1:].expand(pad_to - count, *inputs.shape[1:])])
        try:
            return self.compiled(inputs)[:count]
        except Exception as exc:  # compiling can fail where the eager layer works: then check eagerly
            outputs = call_layer(self.f, inputs, what)[:count]  # raises the layer's own error if it has one
            warnings.warn(f"torch.compile failed ({type(exc).__name__}: {str(exc)[:200]}); checking eagerly",
                          RuntimeWarning, stacklevel=4)
            self.compiled = None
            return outputs

    def chunk_errors(self, start, stop, pad_to=0):
        """Max |difference|, max |value| and argmax location for elements[start:stop]."""
        elements, rho = self.elements[start:stop], self.rho[start:stop]
        count, n = len(elements), self.x.shape[0]
        moved = apply_all(elements, self.x)
        inputs = moved.reshape(count * n, *moved.shape[2:])
        outputs = self._forward(inputs, lambda: f"f(g·x) for g in {list(elements)!r}"[:200], pad_to * n)
        expected = apply_all(rho, self.y0)
        if outputs.shape[1:] != expected.shape[2:] or outputs.shape[0] != count * n:
            raise OutputShapeMismatch(
                f"f(g·x) has shape {tuple(outputs.shape[1:])} per sample but ρ(g)·f(x) has shape "
                f"{tuple(expected.shape[2:])}; the layer's output shape depends on how the input was transformed"
            )
        outputs = outputs.reshape(expected.shape)
        mask = self.mask if self.mask.all() else self.mask & apply_all(rho, self.mask.float()).bool()
        diff = (outputs - expected).abs()
        interior_only = not bool(self.mask.all())
        if interior_only:
            diff = diff.masked_fill(~mask, 0)
        errors, where = diff.reshape(count, -1).max(dim=1)
        if self.need_scale:
            scale = torch.maximum(outputs.abs(), expected.abs())
            if interior_only:
                scale = scale.masked_fill(~mask, 0)
            scales = scale.reshape(count, -1).amax(dim=1).double().cpu()
        else:
            scales = torch.zeros(count, dtype=torch.float64)
        return errors.double().cpu(), scales, where.cpu()


def evaluate(
    f,
    x,
    elements,
    *,
    output_action,
    claim,
    group=None,
    margin=None,
    mode="auto",
    terms=None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    progress: ProgressCallback | None = None,
    rerun_in_float64=True,
    torch_compile=False,
):
    """Compare ``f(g·x)`` with ``ρ(g)·f(x)`` for every element; return an :class:`OrbitResult`.

    ``torch_compile=True`` runs the orbit's chunks through ``torch.compile(f)`` (the reference f(x) stays
    eager, so the identity element cross-checks the compiled layer against the layer itself).  Compiling
    takes seconds to a minute, once per layer and shape: it pays for large orbits and for many checks of
    the same layer, not for one small check.
    """
    if not callable(f):
        raise InvalidArgument(f"f={describe_value(f)} must be callable (a torch.nn.Module or a function)")
    spatial_rank = require_spatial(x, "x")
    if not (x.is_floating_point() or x.is_complex()):
        raise InvalidArgument(
            f"x has dtype {x.dtype}; it must be floating (for exact mode use integer-valued float tensors, "
            f"e.g. x.float())"
        )
    if not isinstance(memory_budget, int) or memory_budget <= 0:
        raise InvalidArgument(f"memory_budget={memory_budget!r} must be a positive number of bytes")
    if not isinstance(torch_compile, bool):
        raise InvalidArgument(f"torch_compile={torch_compile!r} must be True or False")
    elements = tuple(elements)
    if not elements:
        raise InvalidArgument("elements is empty; give at least one group element")
    for g in elements:
        g.validate(x.shape, "x")
    margin = normalise_margin(margin, spatial_rank)
    terms = terms if terms is not None else max(1, x[0].numel())
    rho = tuple(output_action(g) for g in elements)
    requested_mode, mode = mode, resolve_mode(mode, x, f, elements + rho)

    with torch.inference_mode():
        comparison = _Comparison(f, x, elements, rho, margin, need_scale=requested_mode != "exact",
                                 torch_compile=torch_compile)
        y0 = comparison.y0
        for g, r in zip(elements, rho):
            try:
                r.validate(y0.shape, "f(x)")
            except InvalidArgument as exc:
                flat = " The output is flat: translation-equivariance needs a spatial output — did you mean invariance?" \
                    if y0.dim() < 3 else ""
                raise InvalidArgument(f"ρ(g) = {r!r} cannot act on the output of f: {exc}.{flat}") from None
        # The layer must be a function of its input: a second call on x has to give f(x) again.  When the
        # orbit holds the identity, its element *is* that second call (judged below, once the mode is final);
        # otherwise it costs one more forward.
        identity = next((i for i, (g, r) in enumerate(zip(elements, rho)) if g.is_identity and r.is_identity),
                        None)
        if identity is None:
            again = call_layer(f, x, "f(x) (second call)")
            _require_deterministic(f, x, y0, float((again - y0).abs().max()), mode, terms)

        chunk = chunk_limit(x, y0, len(elements), memory_budget)
        errors = torch.empty(len(elements), dtype=torch.float64)
        scales = torch.empty(len(elements), dtype=torch.float64)
        where = torch.empty(len(elements), dtype=torch.long)
        start = 0
        while start < len(elements):
            stop = min(len(elements), start + chunk)
            try:
                errors[start:stop], scales[start:stop], where[start:stop] = comparison.chunk_errors(start, stop, chunk)
            except (LayerError, RuntimeError) as exc:
                if chunk > 1 and (_is_oom(exc) or (exc.__cause__ is not None and _is_oom(exc.__cause__))):
                    chunk //= 2  # out of memory: halve the chunk and try again
                    if x.device.type == "cuda":
                        torch.cuda.empty_cache()
                    continue
                raise
            if progress is not None:
                progress(stop, len(elements))
            start = stop

    if mode == "exact" and requested_mode == "auto" and bool((errors > 0).any()):
        # integer-valued data, yet not bitwise equal: some operation is inexact (an FFT, a division);
        # judge by the float tolerance model instead of crying wolf.  (Scales were computed: auto != exact.)
        mode = "float"
    if mode == "exact":
        tolerances = torch.zeros_like(errors)
    else:
        # the output action's own arithmetic (a phase ramp, an interpolation) rounds too: count its steps
        steps = [terms + r.rounding_steps(tuple(y0.shape)) for r in rho]
        tolerances = torch.tensor(
            [float_tolerance(s, n, y0.dtype) for s, n in zip(scales.tolist(), steps)], dtype=torch.float64
        )

    if identity is not None:
        with torch.inference_mode():
            _require_deterministic(f, x, y0, float(errors[identity]), mode, terms, batched=True)
    float64_errors = {}
    failing = torch.nonzero(errors > tolerances).flatten().tolist()
    if mode == "float" and failing and rerun_in_float64 and y0.dtype not in (torch.float64, torch.complex128):
        float64_errors = _rerun_in_float64(f, x, elements, failing, output_action, margin, terms, errors)

    def measure(i):
        location = unravel(int(where[i]), tuple(y0.shape)) if errors[i] > 0 else None
        rerun = float64_errors.get(i)
        return Measurement(
            claim=claim,
            layer=describe_layer(f),
            element=elements[i],
            output_element=rho[i],
            max_error=float(errors[i]),
            tolerance=float(tolerances[i]),
            mode=mode,
            location=location,
            output_shape=tuple(y0.shape),
            input_shape=tuple(x.shape),
            dtype=str(x.dtype).replace("torch.", ""),
            device=str(x.device),
            margin=margin,
            float64_error=None if rerun is None else rerun[0],
            float64_tolerance=None if rerun is None else rerun[1],
            hints=_hints(f, x, y0, location, margin, errors[i] > tolerances[i]),
            reproduce=_reproduction(elements[i], output_action, margin, mode),
        )

    return OrbitResult(group if group is not None else list(elements), elements, errors, tolerances, measure, float64_errors)


def _require_deterministic(f, x, y0, drift, mode, terms, batched=False):
    """Two evaluations of f on the same input must agree: bitwise in exact mode, within the tolerance model
    in float mode (a batch-size-dependent kernel may round differently; a random layer differs by far more).

    ``drift`` is how far the second evaluation was from ``y0``; ``batched`` says it was the identity element
    inside the orbit's batch.  Then a failure has two causes, told apart by one more call on x alone.
    """
    allowed = 0.0 if mode == "exact" else float_tolerance(float(y0.abs().max()), terms, y0.dtype)
    if drift <= allowed:
        return
    training = _batch_dependent_in_training(f)
    if batched and float((call_layer(f, x, "f(x) (second call)") - y0).abs().max()) <= allowed:
        causes = [PITFALL_TRAIN_MODE if training else
                  "the output for one sample depends on the rest of the batch (batch statistics): normalise "
                  "per sample instead"]
        if mode == "exact":
            causes.append("the arithmetic is not exact (float32 integers beyond 2^24, an FFT, a division), so "
                          "batched kernels round differently: use mode='float'")
        raise LayerError(
            f"f(x) computed alone and within a batch differ (max difference {drift:.3g}), although two calls "
            "on x alone agree. " + ("Either " + causes[0] + "; or " + causes[1] if len(causes) == 2 else causes[0])
        )
    raise LayerError(
        "the layer is non-deterministic: two calls on the same input gave different outputs "
        f"(max difference {drift:.3g}). "
        + (PITFALL_TRAIN_MODE if training else "Seed or remove randomness (dropout, sampling) before checking.")
    )


def _batch_dependent_in_training(f):
    """True for a module in training mode with layers that then mix the batch or draw randomness."""
    return isinstance(f, torch.nn.Module) and f.training and any(
        isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Dropout)) for m in f.modules())


SHRINK_FACTOR = 2.0**-20


def _rerun_in_float64(f, x, elements, failing, output_action, margin, terms, errors32):
    """Re-run the failing elements in float64; returns {index: (error, tolerance)}."""
    try:
        twin = _float64_twin(f)
        x64 = x.to(torch.complex128 if x.is_complex() else torch.float64)
        result = evaluate(
            twin, x64, [elements[i] for i in failing], output_action=output_action, claim="float64 re-run",
            margin=margin, mode="float", terms=terms, rerun_in_float64=False,
        )
    except Exception:
        return {}  # no re-run possible: the float32 verdict (violation) stands, which is the sound choice
    # Rounding shrinks by about u64/u32 = 2^-29 from float32 to float64; a real violation does not shrink.
    # 2^-20 sits between the two with a 2^9 allowance for how differently the two precisions round.
    return {
        i: (float(result.errors[k]), max(float(result.tolerances[k]), SHRINK_FACTOR * float(errors32[i])))
        for k, i in enumerate(failing)
    }


def _hints(f, x, y0, location, margin, violated):
    if not violated:
        return ()
    hints = []
    if _batch_dependent_in_training(f):
        hints.append(PITFALL_TRAIN_MODE)
    in_sizes, out_sizes = x.shape[2:], y0.shape[2:]
    if len(out_sizes) == len(in_sizes) and out_sizes and all(o and i % o == 0 and i // o > 1 for i, o in zip(in_sizes, out_sizes)):
        factors = {i // o for i, o in zip(in_sizes, out_sizes)}
        if len(factors) == 1:
            hints.append(PITFALL_STRIDE.format(factor=factors.pop()))
    has_interior = all(n >= 7 for n in y0.shape[2:])
    if location is not None and len(location) > 2 and has_interior and margin is None:
        dist = min(min(i, n - 1 - i) for i, n in zip(location[2:], y0.shape[2:]))
        if dist <= 1:
            hints.append(PITFALL_BORDER.format(where="on the border" if dist == 0 else "next to the border"))
    return tuple(hints)


def describe_claim(output_action):
    """The label every report starts with: invariance, or equivariance with its ρ."""
    if isinstance(output_action, Trivial):
        return "invariance f(g·x) = f(x)"
    return f"equivariance f(g·x) = ρ(g)·f(x) with ρ = {output_action!r}"


def _reproduction(g, output_action, margin, mode):
    extra = f", margin={margin!r}" if margin else ""
    if isinstance(output_action, Trivial):
        return f"convnet_invariances.assert_invariant(layer, x, {g!r}{extra}, mode={mode!r})"
    return f"convnet_invariances.assert_equivariant(layer, x, {g!r}, output_action={output_action!r}{extra}, mode={mode!r})"
