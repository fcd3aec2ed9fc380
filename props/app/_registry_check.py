"""Check a registry entry's stated profile, line by line, with the audit.

Entries are duck-typed (``name``, ``build(**overrides)``, ``input_shape``,
``exact_dtype``, ``tags``, ``profile`` of lines with ``symmetry``,
``relation``, ``status``, ``stride``, ``margin``, ``rate``, ``sweep``).
Each line is checked as:

- exact: the audit's falsification search finds no violation (or a
  certificate proves it), honouring the entry's stated assumption (APS: no
  ties between polyphase norms);
- subgroup: it holds on ``stride·Z^d`` and fails just outside (a shift by 1);
- interior: it holds at the stated margin and fails one pixel closer to the border;
- approximate: the error falls over the sweep as the stated rate says (a plot is written);
- none: the audit finds a counterexample — a violation, never an error.

Every check raises :class:`ProfileMismatch` when the entry does not behave as stated.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import torch

from .._actions import CircularShift
from .._audit import ClaimResult, audit
from .._claims import claim_checks
from .._errors import InvalidArgument, InvarianceError
from .._vocabulary import Claim
from ._plots import comparison_plot, rate_plot



class ProfileMismatch(InvarianceError, AssertionError):
    """A registry entry does not behave as its profile says.

    >>> from convnet_invariances.models import REGISTRY
    >>> try:
    ...     refute(REGISTRY["global_max_pool"], "translation-invariant")
    ... except ProfileMismatch as mismatch:
    ...     print(str(mismatch)[:62])
    global_max_pool: no counterexample to translation-invariant: t
    """


#: input batches the audit searches per profile line: fewer than a user's default, since the registry's layers
#: are small and their profiles are checked line by line (make audit stays within its time budget)
REGISTRY_EXAMPLES = 8


def expect(condition, message):
    if not condition:
        raise ProfileMismatch(message)


def claim_of(line):
    """The claim a models profile line states (status qualifiers included)."""
    return Claim.parse(line.claim)


def module_in(entry, dtype, **overrides):
    module = entry.build(**overrides).eval()
    return module.to(dtype)


def has_polyphase_ties(module, x):
    """Whether some sub-layer reports a tie in an input-dependent selection (APS's stated exception).

    Protocol: a layer whose output depends on an argmax over candidates (APS
    picks the polyphase component of largest norm) may define
    ``selection_has_ties(x) -> bool``; ties are where its exactness claim is void.

    >>> import torch
    >>> from convnet_invariances.models import APS
    >>> has_polyphase_ties(APS(), torch.ones(1, 1, 4, 4)), has_polyphase_ties(APS(), torch.arange(16.).view(1, 1, 4, 4))
    (True, False)
    """
    ties = []

    def record(layer, args):
        ties.append(bool(layer.selection_has_ties(args[0])))

    with contextlib.ExitStack() as hooks, torch.no_grad():  # a hook handle removes itself on exit
        for m in module.modules():
            if hasattr(m, "selection_has_ties"):
                hooks.enter_context(m.register_forward_pre_hook(record))
        module(x)
    return any(ties)


def stated_assumption(entry):
    """The precondition an entry's exact lines state, as ``assume(x) -> bool`` (or None): APS entries are exact
    on inputs without ties between polyphase norms."""
    if "aps" not in entry.tags:
        return None
    module = module_in(entry, entry.exact_dtype or torch.float64)
    return lambda x: not has_polyphase_ties(module, x.to(entry.exact_dtype or torch.float64))


def tie_free_inputs(entry, line, seed):
    """Integer inputs for the line's entry (float64); for APS entries, the first seed from ``seed`` on whose
    inputs no polyphase norms tie.

    >>> from convnet_invariances.models import REGISTRY
    >>> entry = REGISTRY["aps"]
    >>> tie_free_inputs(entry, entry.line("translation"), 0).shape
    torch.Size([2, 2, 8, 8])
    """
    assume = stated_assumption(entry)
    dtype = entry.exact_dtype or torch.float64
    for attempt in range(seed, seed + 50):
        generator = torch.Generator().manual_seed(attempt)
        x = torch.randint(-3, 4, (2,) + tuple(entry.input_shape), generator=generator).to(dtype)
        if assume is None or assume(x):
            return x
    raise ProfileMismatch(f"{entry.name}: 50 input draws all had polyphase ties")


def audit_claim(entry, claim, examples=REGISTRY_EXAMPLES):
    """The audit's verdict on one claim about a registry entry (its stated assumption honoured)."""
    dtype = entry.exact_dtype or torch.float64
    layout = "CL" if len(entry.input_shape) == 2 else None
    report = audit(module_in(entry, dtype), entry.input_shape, [claim], layout=layout, examples=examples,
                   dtype=dtype, assume=stated_assumption(entry), name=entry.name)
    return report.results[0]


def check_holds(entry, line, examples=REGISTRY_EXAMPLES):
    """The line's claim is kept: the audit finds no violation (or certifies it)."""
    result = audit_claim(entry, line.claim, examples)
    expect(result.verdict in ("holds", "certified"),
           f"{entry.name}: {line.claim} should hold, but the audit says {result.verdict}\n{result.message}")
    return result


def refute(entry, claim, examples=REGISTRY_EXAMPLES):
    """A counterexample to ``claim`` on the entry (a violation found by the audit, not an error): the audit's
    :class:`~convnet_invariances.ClaimResult`.

    A claim the entry's input shape cannot carry at all (rot90 on a 1-D signal) is ``inapplicable``: the line
    ``none`` is then true for want of a group, and says so; the layer raising, returning NaN or being random
    never counts as a refutation.

    >>> from convnet_invariances.models import REGISTRY
    >>> refute(REGISTRY["conv3x3_zeros"], "translation-equivariant").verdict
    'violated'
    >>> refute(REGISTRY["mellin_magnitude_1d"], "rot90-invariant").verdict
    'inapplicable'
    """
    claim = Claim.parse(claim)
    try:
        result = audit_claim(entry, claim, examples)
    except InvalidArgument as reason:
        return ClaimResult(str(claim), "inapplicable", message=f"{claim} cannot be stated on this input: {reason}")
    if result.verdict != "violated":
        raise ProfileMismatch(f"{entry.name}: no counterexample to {claim}: the audit says {result.verdict!r}"
                              + (f" ({result.message[:300]})" if result.message else "")
                              + ("; an error is not a counterexample" if result.verdict == "error" else ""))
    return result


def output_matches_some_shift(module, x, g):
    """Whether f(g·x) equals a circular shift of f(x) (for some output shift)."""
    with torch.no_grad():
        target, reference = module(g(x)), module(x)
    sizes = reference.shape[2:]
    for offsets in torch.cartesian_prod(*[torch.arange(n) for n in sizes]).reshape(-1, len(sizes)).tolist():
        if torch.equal(target, torch.roll(reference, offsets, tuple(range(2, reference.dim())))):
            return True
    return False


def check_subgroup(entry, line):
    result = check_holds(entry, line)
    result.verdict, result.subgroup = "subgroup", line.stride
    if line.relation == "invariant":
        refute(entry, Claim("translation", "invariant"))
    else:
        x = tie_free_inputs(entry, line, 5)
        module = module_in(entry, x.dtype)
        one_step = CircularShift((0,) * (x.dim() - 3) + (1,))
        expect(not output_matches_some_shift(module, x, one_step),
               f"{entry.name}: f({one_step!r}·x) is a shift of f(x); the subgroup {line.stride}Z^d is not the largest")
    return result


def check_interior(entry, line):
    result = check_holds(entry, line)
    result.verdict, result.margin = "interior", line.margin
    closer = Claim(line.symmetry, line.relation, margin=line.margin - 1)
    refute(entry, closer)
    return result


def smooth_input(symmetry, side, dims, channels, dtype=torch.float64, seed=0):
    """Inputs for rate measurements: band-limited periodic content for translations, a centred blob otherwise.

    >>> x = smooth_input("translation", 16, 2, 3)
    >>> tuple(x.shape), x.dtype
    ((1, 3, 16, 16), torch.float64)
    """
    generator = torch.Generator().manual_seed(seed)
    grid = torch.meshgrid(*[torch.arange(side, dtype=dtype) for _ in range(dims)], indexing="ij")
    if symmetry == "translation":
        x = torch.zeros((channels,) + (side,) * dims, dtype=dtype)
        for _ in range(3):
            freq = torch.randint(-2, 3, (dims,), generator=generator)
            phase = float(torch.rand((), generator=generator)) * 2 * math.pi
            x += torch.cos(sum(2 * math.pi * k * g / side for k, g in zip(freq.tolist(), grid)) + phase)
        return x.unsqueeze(0)
    centre = (side - 1) / 2
    if dims == 1:  # a bump well inside the log-resampling window
        position, width = side / 4, side / 16
        return torch.exp(-((grid[0] - position) ** 2) / (2 * width**2)).view(1, 1, side).expand(1, channels, side).clone()
    r2 = sum((g - centre) ** 2 for g in grid)
    blob = torch.exp(-r2 / (2 * (side / 10) ** 2))
    off = torch.exp(-((grid[0] - centre - side / 8) ** 2 + (grid[1] - centre) ** 2) / (2 * (side / 16) ** 2))
    return (blob + 0.5 * off).expand(1, channels, side, side).clone()


def relative_error(a, b):
    return float((a - b).norm() / b.norm())


def measure_rate(entry, line):
    """Relative invariance error at each value of the line's sweep (the worst over the elements the claim tries);
    returns (values, errors)."""
    parameter, values = line.sweep
    claim = claim_of(line)
    errors = []
    for value in values:
        side = value if parameter == "resolution" else entry.input_shape[-1]
        overrides = {"resolution": value} if parameter == "resolution" else {parameter: value}
        if parameter == "J":
            side = max(side, 2 ** (value + 2))
            overrides["resolution"] = side
        module = module_in(entry, torch.float64, **overrides)
        dims = len(entry.input_shape) - 1
        x = smooth_input(claim.symmetry, side, dims, entry.input_shape[0])
        if claim.symmetry == "translation":
            elements: tuple = (CircularShift((0,) * (dims - 1) + (1,)),)  # a one-pixel shift
        else:  # every rotation the claim tries, upscaling by 2: the worst of them is the error at this value
            elements = claim_checks(claim, tuple(x.shape[1:]))[0].elements
        with torch.no_grad():
            reference = module(x)
            errors.append(max(relative_error(module(g(x)), reference) for g in elements))
    return list(values), errors


def fitted_slope(values, errors, parameter):
    """Least-squares slope of the error against the sweep: log-log (base 2), or log2(error) per unit of J.

    The expected slope is -1 for both laws this project states (1/resolution and 2^-J).

    >>> round(fitted_slope([16, 32, 64], [0.4, 0.2, 0.1], "resolution"), 6)
    -1.0
    """
    xs = list(values) if parameter == "J" else [math.log2(v) for v in values]
    ys = [math.log2(e) for e in errors]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


#: the slope both stated laws predict (1/resolution, 2^-J), and the slowest fall this project accepts
EXPECTED_SLOPE = -1.0
SLOWEST_ACCEPTED = -0.5


def write_rate_plot(entry, line, values, errors, plot_dir=None):
    """The error over the sweep with the fitted and the expected rate beside it, written to ``plot_dir``
    (None: not written)."""
    if plot_dir is None:
        return None
    png = rate_plot(values, errors, line.sweep[0], line.rate, f"{entry.name}: {line.claim}",
                    fitted_slope(values, errors, line.sweep[0]), EXPECTED_SLOPE)
    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    path = plot_dir / f"{entry.name}-{line.symmetry}{'-zero' if line.boundary == 'zero' else ''}.png"
    if png:
        path.write_bytes(png)
    return path


def slope_words(slope: float, expected: float = EXPECTED_SLOPE) -> str:
    """The fitted slope against the expected one, and what the difference means.

    >>> slope_words(-0.62)
    'fitted slope -0.62 against -1 expected: the error falls slower than the expected law (by 0.38)'
    """
    difference = slope - expected
    if abs(difference) <= 0.1:
        verdict = "as the expected law says"
    elif difference > 0:
        verdict = f"the error falls slower than the expected law (by {difference:.2f})"
    else:
        verdict = f"the error falls faster than the expected law (by {-difference:.2f})"
    return f"fitted slope {slope:.2f} against {expected:.0f} expected: {verdict}"


def check_approximate(entry, line, plot_dir=None):
    values, errors = measure_rate(entry, line)
    path = write_rate_plot(entry, line, values, errors, plot_dir)
    # the theory predicts a fall; demand it at every step and overall (a log-log slope below -1/2)
    for (v0, e0), (v1, e1) in zip(zip(values, errors), zip(values[1:], errors[1:])):
        expect(e1 < e0, f"{entry.name}: error rose from {e0:.3g} at {v0} to {e1:.3g} at {v1} (plot: {path})")
    slope = fitted_slope(values, errors, line.sweep[0])
    expect(slope < SLOWEST_ACCEPTED,
           f"{entry.name}: the error falls too slowly (fitted slope {slope:.2f}) for {line.rate} (plot: {path})")
    return values, errors, slope


def check_line(entry, line, plot_dir=None):
    """Check one profile line; raise :class:`ProfileMismatch` if the entry does not behave as stated.

    Returns the :class:`~convnet_invariances.ClaimResult` the line rests on: the audit's verdict (exact,
    subgroup, interior lines), the refutation (none lines), or the measured rate (approximate lines).

    >>> from convnet_invariances.models import REGISTRY
    >>> entry = REGISTRY["global_max_pool"]
    >>> check_line(entry, entry.line("translation")).verdict
    'certified'
    """
    if line.status == "exact":
        return check_holds(entry, line)
    if line.status == "subgroup":
        return check_subgroup(entry, line)
    if line.status == "interior":
        return check_interior(entry, line)
    if line.status == "approximate":
        values, errors, slope = check_approximate(entry, line, plot_dir)
        pairs = ", ".join(f"{e:.3g} at {v}" for v, e in zip(values, errors))
        sweep = {"parameter": line.sweep[0], "values": list(values), "relative_errors": list(errors),
                 "rate": line.rate, "fitted_slope": slope, "expected_slope": EXPECTED_SLOPE}
        return ClaimResult(line.claim, "approximate", relative_error=errors[-1], searched=sweep,
                           searched_summary=f"a sweep of {line.sweep[0]} over {', '.join(map(str, values))}",
                           message=(f"relative error {pairs} ({line.sweep[0]}): {slope_words(slope)} for {line.rate}; "
                                    f"a fall steeper than {SLOWEST_ACCEPTED} agrees with the line"))
    return refute(entry, line.claim)


#: the downsampling variants of the ResNet-18-like compared for shift sensitivity (Zhang 2019's pairs)
DOWNSAMPLING_VARIANTS = ("stride", "blurpool", "maxpool", "maxblurpool")


def downsampling_comparison(sides=(16, 32, 64), seeds=range(4)):
    """Mean relative logit error of the ResNet-18-like under a one-pixel shift, for each downsampling variant
    and input side, on smooth inputs: ``{variant: [error at each side]}``.

    Zhang's pairs: strided conv -> blur then stride; max-pool stride 2 -> dense max then blur and stride.

    >>> comparison = downsampling_comparison(sides=(16,), seeds=range(1))
    >>> sorted(comparison["errors"]), comparison["sides"]
    (['blurpool', 'maxblurpool', 'maxpool', 'stride'], [16])
    >>> comparison["errors"]["blurpool"][0] < comparison["errors"]["stride"][0]
    True
    """
    from ..models import ResNet18Like

    errors = {}
    for name in DOWNSAMPLING_VARIANTS:
        model = ResNet18Like(downsample=name).double().eval()
        per_side = []
        for side in sides:
            values = []
            for seed in seeds:
                x = smooth_input("translation", side, 2, 3, seed=seed)
                with torch.no_grad():
                    values.append(relative_error(model(CircularShift((0, 1))(x)), model(x)))
            per_side.append(sum(values) / len(values))
        errors[name] = per_side
    return {"sides": list(sides), "errors": errors}


def write_downsampling_plot(comparison, plot_dir):
    """The comparison as a log-log plot, written to ``plot_dir``; returns the path (None without matplotlib).

    >>> import tempfile
    >>> comparison = {"sides": [16, 32], "errors": {"stride": [0.2, 0.08], "blurpool": [0.07, 0.04]}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_downsampling_plot(comparison, folder)
    ...     path is None or path.stat().st_size > 1000
    True
    """
    png = comparison_plot(comparison["sides"], comparison["errors"], "input side (smooth inputs)",
                          "relative logit error, 1-pixel shift", "ResNet-18-like: shift sensitivity by downsampling")
    if png is None:
        return None
    plot_dir = Path(plot_dir)
    plot_dir.mkdir(parents=True, exist_ok=True)
    path = plot_dir / "resnet18-blurpool-vs-baselines.png"
    path.write_bytes(png)
    return path
