"""Measure/assert pairs for equivariance and invariance claims.

``*_error`` functions return numbers (a :class:`~convnet_invariances.Measurement` or an
:class:`~convnet_invariances.OrbitResult`); ``assert_*`` functions raise
:class:`~convnet_invariances.EquivarianceViolation` with the report, and hide their own
frames from pytest tracebacks.
"""

from __future__ import annotations

from ._actions import Action
from ._errors import EquivarianceViolation, InvalidArgument, describe_value, require_spatial
from ._groups import FiniteGroup
from ._orbit import DEFAULT_MEMORY_BUDGET, describe_claim, evaluate
from ._output_actions import OutputAction, Same, Trivial


def _output_action(output_action):
    if output_action is None:
        return Same()
    if not isinstance(output_action, OutputAction):
        raise InvalidArgument(
            f"output_action={describe_value(output_action)} must be an output action: same_action(), "
            f"trivial_action(), strided_action(s) or regular_c4_action()"
        )
    return output_action


def _element(g):
    if not isinstance(g, Action):
        raise InvalidArgument(
            f"g={describe_value(g)} must be a group element such as CircularShift((1, 0)), rot90(), flip(); "
            f"for a whole group use orbit_error"
        )
    return g


def equivariance_error(f, x, g, *, output_action=None, margin=None, mode="auto", terms=None):
    """Measure ``max |f(g·x) − ρ(g)·f(x)|`` at one group element.

    ``mode="exact"`` demands bitwise equality (use small integer inputs and
    weights); ``"float"`` uses the tolerance model of :mod:`convnet_invariances._tolerance`
    with a float64 re-run; ``"auto"`` (default) is exact when the input and the
    layer's parameters are integer-valued and falls back to float otherwise.
    ``margin`` restricts the comparison to the interior of the output.

    >>> import torch
    >>> conv = torch.nn.Conv1d(1, 1, 3, padding=1, padding_mode="circular", bias=False)
    >>> _ = conv.weight.data.copy_(torch.tensor([[[1., -2., 3.]]]))
    >>> x = torch.tensor([[[0., 1., 5., 2., 0., 0.]]])
    >>> equivariance_error(conv, x, CircularShift((2,))).max_error
    0.0
    """
    oa = _output_action(output_action)
    return evaluate(
        f, x, (_element(g),), output_action=oa, claim=describe_claim(oa), margin=margin, mode=mode, terms=terms
    ).measurement(0)


def assert_equivariant(f, x, g, *, output_action=None, margin=None, mode="auto", terms=None):
    """Raise :class:`EquivarianceViolation` unless ``f(g·x) = ρ(g)·f(x)``; return the measurement.

    >>> import torch
    >>> relu = torch.nn.ReLU()
    >>> assert_equivariant(relu, torch.randn(1, 2, 4, 4), rot90()).holds
    True
    """
    __tracebackhide__ = True
    measurement = equivariance_error(f, x, g, output_action=output_action, margin=margin, mode=mode, terms=terms)
    if not measurement.holds:
        raise EquivarianceViolation(measurement)
    return measurement


def invariance_error(f, x, g, *, margin=None, mode="auto", terms=None):
    """Measure ``max |f(g·x) − f(x)|`` at one group element.

    >>> import torch
    >>> global_max = lambda x: x.amax(dim=(-2, -1))
    >>> invariance_error(global_max, torch.randn(1, 3, 5, 5), CircularShift((2, 1))).max_error
    0.0
    """
    return equivariance_error(f, x, g, output_action=Trivial(), margin=margin, mode=mode, terms=terms)


def assert_invariant(f, x, g, *, margin=None, mode="auto", terms=None):
    """Raise :class:`EquivarianceViolation` unless ``f(g·x) = f(x)``; return the measurement.

    >>> import torch
    >>> pool = torch.nn.AdaptiveAvgPool2d(1)
    >>> assert_invariant(pool, torch.randint(-3, 4, (1, 2, 4, 4)).float(), flip("h")).holds
    True
    """
    __tracebackhide__ = True
    measurement = invariance_error(f, x, g, margin=margin, mode=mode, terms=terms)
    if not measurement.holds:
        raise EquivarianceViolation(measurement)
    return measurement


def orbit_error(
    f,
    x,
    group,
    *,
    output_action=None,
    margin=None,
    mode="auto",
    terms=None,
    memory_budget=DEFAULT_MEMORY_BUDGET,
    progress=None,
    torch_compile=False,
):
    """Check every element of a finite group in batched forward passes; return the error per element.

    The orbit is built with index gathers, evaluated in chunks that fit
    ``memory_budget`` bytes (halved on out-of-memory) on ``x``'s device.
    ``torch_compile=True`` runs the chunks through ``torch.compile(f)``: a one-off compile of seconds to a
    minute that pays for large orbits (tens of thousands of shifts) or many checks of one layer.

    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular", bias=False)
    >>> _ = conv.weight.data.copy_(torch.randint(-2, 3, conv.weight.shape).float())
    >>> result = orbit_error(conv, torch.randint(-3, 4, (1, 1, 6, 6)).float(), Translations((6, 6)))
    >>> len(result.errors), result.holds
    (36, True)
    """
    if not isinstance(group, FiniteGroup):
        raise InvalidArgument(
            f"group={describe_value(group)} must be a FiniteGroup such as Translations((H, W)), c4() or d4()"
        )
    oa = _output_action(output_action)
    require_spatial(x, "x")
    group.validate(x.shape, "x")
    return evaluate(
        f,
        x,
        group.elements(),
        output_action=oa,
        claim=describe_claim(oa),
        group=group,
        margin=margin,
        mode=mode,
        terms=terms,
        memory_budget=memory_budget,
        progress=progress,
        torch_compile=torch_compile,
    )


def assert_orbit(f, x, group, **options):
    """Raise :class:`EquivarianceViolation` (worst element) unless the claim holds on the whole orbit.

    Takes the same options as :func:`orbit_error` and returns its result.

    >>> import torch
    >>> assert_orbit(torch.nn.Tanh(), torch.randn(2, 1, 4, 4), d4()).holds
    True
    """
    __tracebackhide__ = True
    result = orbit_error(f, x, group, **options)
    if not result.holds:
        raise EquivarianceViolation(result.measurement())
    return result
