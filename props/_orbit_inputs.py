"""Building orbits: ``g·x`` for many group elements at once, as one batch.

Circular shifts are windows of the input tiled twice (one indexed copy);
other pixel permutations (rot90, flips, zero-fill shifts) are one index
gather; anything else (interpolations, scalings) is applied element by
element.  Every result is contiguous in (G, N, C, *S) order: convolutions run
several percent slower on permuted views.
"""

from __future__ import annotations

import functools
import math

import torch

from ._actions import CircularShift, Identity


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


def apply_each(elements, sources):
    """``g_i·s_i`` for every element and its own input batch: sources (G, N, C, *S) -> (G, N, C, *S).

    One batched gather when every element is a pixel permutation (zero fill included), a loop otherwise.
    """
    g, n, c, *spatial = sources.shape
    index = _source_index(tuple(elements), tuple(spatial), sources.device) \
        if all(e.output_spatial_shape(tuple(spatial)) == tuple(spatial) for e in elements) else None
    if index is None:
        return torch.stack([e._apply(s) for e, s in zip(elements, sources)])
    flat = sources.reshape(g, n, c, -1)
    if bool((index < 0).any()):  # zero-fill: read from an extra zero column
        flat = torch.cat([flat, flat.new_zeros(g, n, c, 1)], dim=3)
        index = torch.where(index < 0, torch.full_like(index, flat.shape[3] - 1), index)
    out = flat.gather(3, index[:, None, None, :].expand(g, n, c, index.shape[1]))
    return out.reshape(sources.shape)
