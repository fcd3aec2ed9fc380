"""Group actions on batches of signals laid out as (N, C, L) or (N, C, H, W).

An :class:`Action` is one group element ``g`` acting as ``x ↦ g·x`` on every
signal of a batch at once.  Every action has an inverse, composes with others
(``g @ h`` applies ``h`` first) and a short repr, because the repr is what a
falsifying example prints.

Actions that permute pixels (circular shifts, rot90, flips, transposes) or
permute-and-zero them (zero-fill shifts) also expose :meth:`Action.source_index`,
the flat index each output pixel is read from; the orbit engine uses it to
build a whole orbit with one gather instead of a Python loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

import torch
import torch.nn.functional as F

from ._errors import InvalidArgument, describe_value, require_spatial


def _spatial_dims(x):
    return tuple(range(2, x.dim()))


def _int_tuple(value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise InvalidArgument(f"{name}={value!r} must be an int or a tuple of ints, one per spatial axis") from None
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise InvalidArgument(f"{name}={value!r} must be a non-empty tuple of ints, one per spatial axis")
    return items


def _float_tuple(value, name):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),)
    try:
        items = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}={value!r} must be a number or a tuple of numbers, one per spatial axis") from None
    if not items:
        raise InvalidArgument(f"{name}={value!r} must not be empty")
    return items


class Action:
    """One group element acting on batches of signals.

    Subclasses implement ``_apply``, ``inverse`` and ``__repr__``; they may
    override ``validate`` (which shapes they can act on), ``compose`` (to
    simplify products within their own group), ``source_index`` and
    ``rounding_steps``.

    >>> g = CircularShift((0, 1)) @ rot90()   # rot90 first, then the shift
    >>> g, g.inverse()
    (shift(0, 1)∘rot90, rot270∘shift(0, -1))
    """

    #: spatial rank the action needs (1 or 2), or None for any.
    spatial_rank: int | None = None

    def __call__(self, x):
        require_spatial(x, "x")
        self.validate(x.shape, "x")
        return self._apply(x)

    def _apply(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def validate(self, shape, name="x"):
        """Raise :class:`InvalidArgument` when this action cannot act on signals of ``shape``."""
        shape = tuple(shape)
        if len(shape) not in (3, 4):
            raise InvalidArgument(
                f"{name} has shape {shape} (rank {len(shape)}); {self!r} acts on (N, C, L) or (N, C, H, W) tensors"
            )
        if self.spatial_rank is not None and len(shape) - 2 != self.spatial_rank:
            layout = "(N, C, L)" if self.spatial_rank == 1 else "(N, C, H, W)"
            raise InvalidArgument(f"{name} has shape {shape}, but {self!r} acts on {layout} tensors")

    def inverse(self) -> Action:  # pragma: no cover - abstract
        raise NotImplementedError

    def compose(self, other: Action) -> Action:
        """The product ``self ∘ other``: apply ``other`` first, then ``self``."""
        if not isinstance(other, Action):
            raise InvalidArgument(f"other={describe_value(other)} must be an Action")
        if isinstance(other, Identity):
            return self
        return Composed((self, other))

    def __matmul__(self, other):
        return self.compose(other)

    def source_index(self, spatial_shape):
        """Flat source index of every output pixel (-1 where the output is zero), or None.

        Only actions that move pixels without changing their values return an
        index; the orbit engine falls back to calling the action otherwise.
        """
        return None

    def output_spatial_shape(self, spatial_shape):
        """Spatial shape of ``g·x`` for ``x`` of the given spatial shape."""
        return tuple(spatial_shape)

    def rounding_steps(self, shape):
        """How many roundings one output value of this action goes through (0 for pixel permutations).

        Float-mode tolerances add this to the layer's fan-in when the action is
        an output action ρ(g), because ρ(g)·f(x) is then computed inexactly too.
        """
        return 0

    @property
    def is_identity(self):
        return False

    def code(self, prefix: str = "ci.") -> str:
        """A Python expression that builds this action (``prefix`` names the imported package).

        >>> rot90(1).code(), (CircularShift((0, 1)) @ flip()).code("")
        ('ci.Dihedral(1, False)', 'Composed((CircularShift((0, 1)), Dihedral(0, True),))')
        """
        raise NotImplementedError(f"{type(self).__name__} has no code() for reproductions")

    #: False for actions that interpolate or transform (rotation, sub-pixel shift, averaging): they round,
    #: so a claim involving them can never be checked bitwise.
    exact_arithmetic = True


@dataclass(frozen=True, repr=False)
class Identity(Action):
    """The neutral element; also the output action of an invariant map.

    >>> Identity() @ rot90()
    rot90
    """

    def _apply(self, x):
        return x

    def validate(self, shape, name="x"):
        """The identity acts on tensors of any shape (invariant layers often return flat vectors)."""

    def __call__(self, x):
        return x

    def inverse(self):
        return self

    def compose(self, other):
        if not isinstance(other, Action):
            raise InvalidArgument(f"other={describe_value(other)} must be an Action")
        return other

    def source_index(self, spatial_shape):
        return torch.arange(math.prod(spatial_shape))

    @property
    def is_identity(self):
        return True

    def __repr__(self):
        return "identity"

    def code(self, prefix="ci."):
        return f"{prefix}Identity()"


@dataclass(frozen=True, repr=False)
class Composed(Action):
    """A product of actions, applied right to left like function composition.

    >>> import torch
    >>> g = Composed((CircularShift((1,)), flip()))
    >>> g(torch.arange(4.).view(1, 1, 4))
    tensor([[[0., 3., 2., 1.]]])
    """

    factors: tuple

    def _apply(self, x):
        for factor in reversed(self.factors):
            x = factor(x)
        return x

    def validate(self, shape, name="x"):
        shape = tuple(shape)
        for factor in reversed(self.factors):
            factor.validate(shape, name)
            shape = shape[:2] + factor.output_spatial_shape(shape[2:])

    def inverse(self):
        # (a∘b)⁻¹ = b⁻¹∘a⁻¹
        return Composed(tuple(f.inverse() for f in reversed(self.factors)))

    def compose(self, other):
        if isinstance(other, Identity):
            return self
        tail = other.factors if isinstance(other, Composed) else (other,)
        return Composed(self.factors + tail)

    def source_index(self, spatial_shape):
        # index of the composition = inner index gathered through the outer index
        shape = tuple(spatial_shape)
        index = None
        for factor in reversed(self.factors):
            step = factor.source_index(shape)
            if step is None:
                return None
            if index is None:
                index = step
            else:
                safe = step.clamp(min=0)
                index = torch.where(step >= 0, index[safe], torch.full_like(step, -1))
            shape = factor.output_spatial_shape(shape)
        return index

    def output_spatial_shape(self, spatial_shape):
        return reduce(lambda s, f: f.output_spatial_shape(s), reversed(self.factors), tuple(spatial_shape))

    def rounding_steps(self, shape):
        return sum(f.rounding_steps(shape) for f in self.factors)

    def __repr__(self):
        return "∘".join(repr(f) for f in self.factors)

    def code(self, prefix="ci."):
        return f"{prefix}Composed(({', '.join(f.code(prefix) for f in self.factors)},))"


def _grid_index(spatial_shape):
    """Integer coordinates of every pixel, one tensor per axis, flattened in C order."""
    grids = torch.meshgrid(*[torch.arange(n) for n in spatial_shape], indexing="ij")
    return [g.reshape(-1) for g in grids]


def _flat(coords, spatial_shape):
    flat = torch.zeros_like(coords[0])
    for c, n in zip(coords, spatial_shape):
        flat = flat * n + c
    return flat


class _Shift(Action):
    """What every translation shares: one shift component per spatial axis, negated by the inverse."""

    shifts: tuple

    def __init__(self, shifts: tuple) -> None:  # pragma: no cover - replaced by each dataclass subclass
        raise NotImplementedError

    def _check_arity(self, shape, name):
        if len(shape) - 2 != len(self.shifts):
            raise InvalidArgument(
                f"{name} has {len(shape) - 2} spatial axes (shape {tuple(shape)}), but {self!r} "
                f"has {len(self.shifts)} shift component(s); give one shift per spatial axis"
            )

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        self._check_arity(shape, name)

    def inverse(self):
        return type(self)(tuple(-s for s in self.shifts))

    def compose(self, other):
        if type(other) is type(self) and len(other.shifts) == len(self.shifts):
            return type(self)(tuple(a + b for a, b in zip(self.shifts, other.shifts)))
        return super().compose(other)

    @property
    def is_identity(self):
        return not any(self.shifts)


@dataclass(frozen=True, repr=False)
class CircularShift(_Shift):
    """Circular translation (``torch.roll``): content leaving one side re-enters on the other.

    ``CircularShift((dy, dx))`` moves content by ``dy`` rows down and ``dx``
    columns right; use a 1-tuple for (N, C, L) signals.

    >>> import torch
    >>> CircularShift((1,))(torch.arange(4.).view(1, 1, 4))
    tensor([[[3., 0., 1., 2.]]])
    """

    shifts: tuple

    def __post_init__(self):
        object.__setattr__(self, "shifts", _int_tuple(self.shifts, "shifts"))

    def _apply(self, x):
        return torch.roll(x, self.shifts, _spatial_dims(x))

    def source_index(self, spatial_shape):
        if len(spatial_shape) != len(self.shifts):
            return None
        coords = [(c - s) % n for c, s, n in zip(_grid_index(spatial_shape), self.shifts, spatial_shape)]
        return _flat(coords, spatial_shape)

    def __repr__(self):
        return f"shift({', '.join(map(str, self.shifts))})"

    def code(self, prefix="ci."):
        return f"{prefix}CircularShift({self.shifts!r})"


@dataclass(frozen=True, repr=False)
class ZeroShift(_Shift):
    """Zero-fill translation: content moves, vacated pixels become zero, content pushed out is lost.

    It is a group action only on signals whose content stays inside (an
    object on an empty background); on those, ``ZeroShift(-t)`` undoes
    ``ZeroShift(t)``.

    >>> import torch
    >>> ZeroShift((1,))(torch.arange(1., 5.).view(1, 1, 4))
    tensor([[[0., 1., 2., 3.]]])
    """

    shifts: tuple

    def __post_init__(self):
        object.__setattr__(self, "shifts", _int_tuple(self.shifts, "shifts"))

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        for axis, (s, n) in enumerate(zip(self.shifts, shape[2:])):
            if abs(s) >= n:
                raise InvalidArgument(
                    f"shifts={self.shifts!r}: |{s}| on spatial axis {axis} is not smaller than the input size {n}; "
                    f"a zero-fill shift must satisfy |shift| < size (it would push all content out)"
                )

    def _apply(self, x):
        out = torch.zeros_like(x)
        src, dst = [slice(None)] * 2, [slice(None)] * 2
        for s, n in zip(self.shifts, x.shape[2:]):
            src.append(slice(max(0, -s), n - max(0, s)))
            dst.append(slice(max(0, s), n - max(0, -s)))
        out[tuple(dst)] = x[tuple(src)]
        return out

    def compose(self, other):
        return Action.compose(self, other)  # zero-fill shifts do not add up in general: content may be lost

    def source_index(self, spatial_shape):
        if len(spatial_shape) != len(self.shifts):
            return None
        coords = [c - s for c, s in zip(_grid_index(spatial_shape), self.shifts)]
        inside = reduce(torch.logical_and, [(c >= 0) & (c < n) for c, n in zip(coords, spatial_shape)])
        clamped = [c.clamp(0, n - 1) for c, n in zip(coords, spatial_shape)]
        return torch.where(inside, _flat(clamped, spatial_shape), torch.full_like(coords[0], -1))

    def __repr__(self):
        return f"zero_shift({', '.join(map(str, self.shifts))})"

    def code(self, prefix="ci."):
        return f"{prefix}ZeroShift({self.shifts!r})"


@dataclass(frozen=True, repr=False)
class Dihedral(Action):
    """An element of D4 acting on the last two axes: ``rot90^k``, after a left-right flip if ``reflect``.

    Build them with :func:`rot90`, :func:`flip` and :func:`transpose`.  Odd
    ``k`` (and transposes) need square inputs: on an H×W input with H≠W they
    would change the shape, so they are not a symmetry of that input space.
    On (N, C, L) signals only the flip (``k=0, reflect=True``) acts.

    >>> Dihedral(1, True), Dihedral(1) @ Dihedral(0, True) == Dihedral(1, True)
    (rot90∘flip_w, True)
    """

    k: int = 0
    reflect: bool = False

    def __post_init__(self):
        if not isinstance(self.k, int) or isinstance(self.k, bool):
            raise InvalidArgument(f"k={self.k!r} must be an int (number of quarter turns)")
        object.__setattr__(self, "k", self.k % 4)
        object.__setattr__(self, "reflect", bool(self.reflect))

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        if len(shape) == 3 and self.k != 0:
            raise InvalidArgument(f"{self!r} rotates 2-D images; {name} has shape {tuple(shape)} (a 1-D signal)")
        if len(shape) == 4 and self.k % 2 == 1 and shape[-2] != shape[-1]:
            raise InvalidArgument(
                f"{name} has shape {tuple(shape)}: {self!r} needs a square input (H == W), "
                f"because on a {shape[-2]}×{shape[-1]} input it changes the shape; crop or pad {name} to a square"
            )

    def _apply(self, x):
        if self.reflect:
            x = torch.flip(x, (-1,))
        if self.k:
            x = torch.rot90(x, self.k, (-2, -1))
        return x

    def inverse(self):
        return self if self.reflect else Dihedral(-self.k, False)

    def compose(self, other):
        if isinstance(other, Dihedral):
            # r^a f^p r^b f^q = r^(a + (-1)^p b) f^(p+q), since f r f = r^-1
            k = self.k + (-other.k if self.reflect else other.k)
            return Dihedral(k, self.reflect != other.reflect)
        return super().compose(other)

    def source_index(self, spatial_shape):
        if self.k == 0 and not self.reflect:
            return torch.arange(math.prod(spatial_shape))
        if len(spatial_shape) == 1:
            (n,) = spatial_shape
            return (n - 1 - torch.arange(n)) if self.reflect else None
        h, w = spatial_shape
        index = torch.arange(h * w).view(h, w)
        return self._apply(index[None, None])[0, 0].reshape(-1)

    @property
    def is_identity(self):
        return self.k == 0 and not self.reflect

    def code(self, prefix="ci."):
        return f"{prefix}Dihedral({self.k}, {self.reflect})"

    def __repr__(self):
        names = {0: "identity", 1: "rot90", 2: "rot180", 3: "rot270"}
        if not self.reflect:
            return names[self.k]
        return "flip_w" if self.k == 0 else f"{names[self.k]}∘flip_w"


def rot90(k=1):
    """Rotation by ``k`` quarter turns counter-clockwise (``torch.rot90(x, k, (-2, -1))``).

    >>> import torch
    >>> rot90(1)(torch.tensor([[[[1., 2.], [3., 4.]]]]))
    tensor([[[[2., 4.],
              [1., 3.]]]])
    """
    return Dihedral(k, False)


def flip(axis="w"):
    """Mirror image: ``axis="w"`` flips left-right (last axis), ``axis="h"`` flips up-down.

    >>> flip("h")
    rot180∘flip_w
    """
    if axis == "w":
        return Dihedral(0, True)
    if axis == "h":
        return Dihedral(2, True)
    raise InvalidArgument(f"axis={axis!r} must be 'w' (left-right flip) or 'h' (up-down flip)")


def transpose():
    """Reflection about the main diagonal, ``x[..., i, j] ↦ x[..., j, i]`` (square inputs).

    >>> transpose()
    rot90∘flip_w
    """
    return Dihedral(1, True)


def _check_factor(factor):
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        raise InvalidArgument(f"factor={factor!r} must be a positive int")


@dataclass(frozen=True, repr=False)
class _ScaleByFactor(Action):
    """What Upscale and Downscale share: a positive integer factor; two of a kind compose by product."""

    factor: int

    def __post_init__(self):
        _check_factor(self.factor)

    def compose(self, other):
        if type(other) is type(self):
            return type(self)(self.factor * other.factor)
        return super().compose(other)

    @property
    def is_identity(self):
        return self.factor == 1

    def __repr__(self):
        return f"{type(self).__name__.lower()}({self.factor})"

    def code(self, prefix="ci."):
        return f"{prefix}{type(self).__name__}({self.factor})"


@dataclass(frozen=True, repr=False)
class Upscale(_ScaleByFactor):
    """Integer up-scaling by nearest-neighbour repetition of every pixel ``factor`` times per axis.

    Its inverse is :class:`Downscale` (a left inverse: ``Downscale(s)(Upscale(s)(x)) == x``).

    >>> import torch
    >>> Upscale(2)(torch.tensor([[[1., 2.]]]))
    tensor([[[1., 1., 2., 2.]]])
    """

    def _apply(self, x):
        for dim in _spatial_dims(x):
            x = torch.repeat_interleave(x, self.factor, dim=dim)
        return x

    def inverse(self):
        return Downscale(self.factor)

    def output_spatial_shape(self, spatial_shape):
        return tuple(n * self.factor for n in spatial_shape)


@dataclass(frozen=True, repr=False)
class Downscale(_ScaleByFactor):
    """Integer down-scaling by averaging ``factor``-sized blocks (sizes must be divisible by ``factor``).

    Its inverse is :class:`Upscale` (a right inverse on block-constant signals).

    >>> import torch
    >>> Downscale(2)(torch.tensor([[[1., 3., 2., 2.]]]))
    tensor([[[2., 2.]]])
    """

    exact_arithmetic = False

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        bad = [n for n in shape[2:] if n % self.factor]
        if bad:
            raise InvalidArgument(
                f"{name} has spatial shape {tuple(shape[2:])}: {self!r} needs every spatial size divisible by {self.factor}"
            )

    def _apply(self, x):
        pool = F.avg_pool1d if x.dim() == 3 else F.avg_pool2d
        return pool(x, self.factor, self.factor)

    def inverse(self):
        return Upscale(self.factor)

    def output_spatial_shape(self, spatial_shape):
        return tuple(n // self.factor for n in spatial_shape)

    def rounding_steps(self, shape):
        return self.factor ** (len(shape) - 2)  # a sum of factor^d values and one division


@dataclass(frozen=True, repr=False)
class SubpixelShift(_Shift):
    """Translation by a real amount through the Fourier phase ``e^{-2πi k·t/N}``.

    Exact (up to rounding) on band-limited periodic signals, i.e. those with
    no energy at the Nyquist frequency; for an integer shift it equals
    :class:`CircularShift` on such signals.

    >>> import torch
    >>> x = torch.cos(2 * torch.pi * torch.arange(8.) / 8).view(1, 1, 8).double()
    >>> torch.allclose(SubpixelShift((0.5,))(x), torch.cos(2 * torch.pi * (torch.arange(8.) - 0.5) / 8).double())
    True
    """

    exact_arithmetic = False

    shifts: tuple

    def __post_init__(self):
        object.__setattr__(self, "shifts", _float_tuple(self.shifts, "shifts"))

    def _apply(self, x):
        dims = _spatial_dims(x)
        spectrum = torch.fft.fftn(x, dim=dims)
        real_dtype = x.dtype if x.is_floating_point() else torch.float32
        phase = torch.zeros((), dtype=real_dtype, device=x.device)
        for axis, (t, n) in enumerate(zip(self.shifts, x.shape[2:])):
            k = torch.fft.fftfreq(n, d=1.0 / n, dtype=real_dtype, device=x.device)
            shape = [1] * len(dims)
            shape[axis] = n
            phase = phase + (-2 * math.pi * t / n) * k.view(shape)
        return torch.fft.ifftn(spectrum * torch.polar(torch.ones_like(phase), phase), dim=dims).real

    def rounding_steps(self, shape):
        # forward and inverse FFT (about 2·log2 N roundings each, Higham §24.1) plus the phase product
        return 4 * sum(max(1, math.ceil(math.log2(n))) for n in shape[2:]) + 8

    def __repr__(self):
        return f"subpixel_shift({', '.join(f'{t:g}' for t in self.shifts)})"

    def code(self, prefix="ci."):
        return f"{prefix}SubpixelShift({self.shifts!r})"


@dataclass(frozen=True, repr=False)
class Rotation(Action):
    """Continuous rotation by ``degrees`` counter-clockwise about the image centre.

    Bilinear interpolation, zeros outside the image; square inputs only.  Only
    approximate: its inverse undoes it up to interpolation error, which falls
    with resolution on smooth images.

    >>> import torch
    >>> x = torch.randn(1, 1, 6, 6)
    >>> torch.allclose(Rotation(90)(x), rot90()(x), atol=1e-6)
    True
    """

    exact_arithmetic = False

    degrees: float

    def __post_init__(self):
        try:
            object.__setattr__(self, "degrees", float(self.degrees))
        except (TypeError, ValueError):
            raise InvalidArgument(f"degrees={self.degrees!r} must be a number") from None

    spatial_rank = 2

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        if shape[-2] != shape[-1]:
            raise InvalidArgument(f"{name} has shape {tuple(shape)}: {self!r} needs a square input (H == W)")

    def _apply(self, x):
        theta = math.radians(self.degrees)
        c, s = math.cos(theta), math.sin(theta)
        # affine_grid maps output coordinates to input coordinates, so it takes the inverse rotation;
        # the y axis points down in image coordinates, hence the sign pattern.
        matrix = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=x.dtype, device=x.device)
        grid = F.affine_grid(matrix.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def rounding_steps(self, shape):
        return 8  # bilinear weights and a 4-term weighted sum

    def inverse(self):
        return Rotation(-self.degrees)

    def compose(self, other):
        if isinstance(other, Rotation):
            return Rotation(self.degrees + other.degrees)
        return super().compose(other)

    @property
    def is_identity(self):
        return self.degrees % 360 == 0

    def __repr__(self):
        return f"rotation({self.degrees:g}°)"

    def code(self, prefix="ci."):
        return f"{prefix}Rotation({self.degrees!r})"


@dataclass(frozen=True, repr=False)
class ChannelCycle(Action):
    """Cyclic permutation of orientation channels: channels are laid out as (C, group_size).

    Rotating a P4 feature map by ``rot90^k`` moves the response of orientation
    ``r`` to orientation ``r + k``; this action is that permutation alone.

    >>> import torch
    >>> ChannelCycle(1)(torch.arange(4.).view(1, 4, 1, 1)).flatten()
    tensor([3., 0., 1., 2.])
    """

    steps: int
    group_size: int = 4

    def validate(self, shape, name="x"):
        super().validate(shape, name)
        if shape[1] % self.group_size:
            raise InvalidArgument(
                f"{name} has {shape[1]} channels: {self!r} needs the channel count divisible by {self.group_size} "
                f"(channels laid out as (C, {self.group_size}) orientations)"
            )

    def _apply(self, x):
        n, c = x.shape[:2]
        grouped = x.reshape(n, c // self.group_size, self.group_size, *x.shape[2:])
        return torch.roll(grouped, self.steps, dims=2).reshape(x.shape)

    def inverse(self):
        return ChannelCycle(-self.steps, self.group_size)

    @property
    def is_identity(self):
        return self.steps % self.group_size == 0

    def __repr__(self):
        return f"cycle_channels({self.steps % self.group_size}/{self.group_size})"

    def code(self, prefix="ci."):
        return f"{prefix}ChannelCycle({self.steps}, {self.group_size})"
