"""The audit: point the suite at any ``torch.nn.Module`` and get a verdict per claim, with evidence.

Verdicts:

- ``holds``: every element of the claim's group, on every example input,
  within the tolerance model (bitwise in exact mode);
- ``subgroup``: holds on shifts in ``stride·Z^d`` (the largest subgroup found);
- ``interior``: holds at distance ≥ margin from the border (the smallest margin found);
- ``approximate``: a continuous symmetry (rotation, scaling) that is not exact,
  with its relative error below 10% — a reporting convention, never a pass for
  a finite-group claim;
- ``violated``: a counterexample, shrunk to few non-zero input values;
- ``error``: the layer raised, returned NaN/inf, or is non-deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ._claims import ZERO_FILL_SHIFT, Claim, check_claim, claim_output_action, zero_border
from ._errors import InvalidArgument, LayerError, OutputShapeMismatch, describe_value
from ._layer_calls import call_layer
from ._orbit import evaluate
from ._safety import untouched

#: continuous symmetries whose relative error is below this are reported as "approximate" (a convention for
#: reporting, documented in the README; it never makes a claim hold)
APPROXIMATE_BELOW = 0.10
SHRINK_BUDGET = 200  # forward-pair evaluations spent shrinking one counterexample


@dataclass
class ClaimResult:
    """The verdict on one claim, with the evidence the JSON report carries.

    >>> ClaimResult("rot90-invariant", "holds").to_dict()["verdict"]
    'holds'
    """

    claim: str
    verdict: str
    max_error: float = 0.0
    tolerance: float = 0.0
    relative_error: float = 0.0
    subgroup: int | None = None
    margin: int | None = None
    counterexample: dict | None = None
    message: str = ""
    errors_by_element: dict = field(default_factory=dict)
    error_map: list | None = None  # translations: max error over inputs at every (dy, dx), for the heatmap

    @property
    def ok(self):
        return self.verdict in ("holds", "subgroup", "interior")

    def to_dict(self):
        return {"claim": self.claim, "verdict": self.verdict, "max_error": self.max_error,
                "tolerance": self.tolerance, "subgroup": self.subgroup, "margin": self.margin,
                "counterexample": self.counterexample}


@dataclass
class AuditReport:
    """All verdicts for one target.  ``ok`` is True when every *stated* claim holds.

    >>> import torch
    >>> import convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (2, 6, 6), ["translation-invariant"])
    >>> report.ok, report.results[0].verdict
    (True, 'holds')
    """

    target: str
    input_shape: tuple
    seed: int
    results: list
    stated: bool = True
    metrics: dict = field(default_factory=dict)

    @property
    def ok(self):
        return all(r.ok for r in self.results) if self.stated else not any(r.verdict == "error" for r in self.results)

    def to_dict(self):
        data = {"target": self.target, "input_shape": list(self.input_shape), "seed": self.seed,
                "claims": [r.to_dict() for r in self.results]}
        if self.metrics:
            data["metrics"] = self.metrics
        return data

    def table(self):
        """A plain-text summary table for the terminal."""
        rows = [("claim", "verdict", "max error", "tolerance", "detail")]
        for r in self.results:
            detail = (f"stride {r.subgroup}" if r.verdict == "subgroup" else f"margin {r.margin}" if r.verdict == "interior"
                      else f"relative {r.relative_error:.2g}" if r.verdict == "approximate"
                      else (r.counterexample or {}).get("group_element", "") if r.verdict == "violated"
                      else r.message[:60] if r.verdict == "error" else "")
            rows.append((r.claim, r.verdict, f"{r.max_error:.3g}", f"{r.tolerance:.3g}", str(detail)))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return f"{self.target}  input {tuple(self.input_shape)}  seed {self.seed}\n" + "\n".join(lines)

    def report(self):
        """The table followed by the full evidence of every violated or erroring claim."""
        parts = [self.table()]
        for r in self.results:
            if r.verdict in ("violated", "error") and r.message:
                parts.append(f"\n{r.claim}: {r.verdict}\n{r.message}")
        for name, value in self.metrics.items():
            parts.append(f"{name}: {value}")
        return "\n".join(parts)


# ----------------------------------------------------------------------------- inputs


def example_inputs(input_shape, claim, examples, seed, dtype, device):
    """Integer-valued inputs in [-3, 3] (exact mode when the weights allow); zero-fill claims get content
    in the centre with the widest empty border that leaves at least 2 pixels of content."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(examples):
        x = torch.randint(-3, 4, (1,) + tuple(input_shape), generator=generator).to(dtype)
        if claim.boundary == "zero":
            x = zero_border(x, max(ZERO_FILL_SHIFT, (min(input_shape[1:]) - 2) // 2))
        batches.append(x.to(device))
    return batches


def _relative(result, module, x):
    """Largest ‖f(g·x) − ρ(g)·f(x)‖∞ relative to ‖f(x)‖∞ over the result's elements."""
    with torch.no_grad():
        scale = float(call_layer(module, x, "f(x)").abs().max())
    return float(result.errors.max()) / scale if scale > 0 else float(result.errors.max())


# ----------------------------------------------------------------------------- shrinking


def shrink_counterexample(module, x, measurement, claim, rho, budget=SHRINK_BUDGET):
    """Greedy delta debugging: zero out blocks of input values (then single values) while the violation remains.

    Every accepted step is re-checked, so the result always fails the claim.
    Returns the shrunk input.
    """
    g = measurement.element
    margin = claim.margin or None

    def fails(candidate):
        try:
            result = evaluate(module, candidate, (g,), output_action=rho, claim=str(claim), margin=margin,
                              mode=measurement.mode)
        except (LayerError, InvalidArgument):
            return False
        return not result.holds

    best, spent = x.clone(), 0
    flat = best.view(-1)
    chunk = max(1, flat.numel() // 2)
    while chunk >= 1 and spent < budget:
        nonzero = torch.nonzero(flat).flatten().tolist()
        changed = False
        for start in range(0, len(nonzero), chunk):
            if spent >= budget:
                break
            candidate = best.clone()
            candidate.view(-1)[nonzero[start:start + chunk]] = 0
            spent += 1
            if fails(candidate):
                best, flat, changed = candidate, candidate.view(-1), True
        if not changed:
            chunk //= 2
    for index in torch.nonzero(flat).flatten().tolist():  # then smaller magnitudes: ±1
        if spent >= budget:
            break
        candidate = best.clone()
        candidate.view(-1)[index] = torch.sign(candidate.view(-1)[index])
        spent += 1
        if not torch.equal(candidate, best) and fails(candidate):
            best = candidate
    return best


def reproduction(x, g, claim):
    """A copy-paste reproduction: the (sparse) input built explicitly, then the assert."""
    nonzero = torch.nonzero(x).tolist()
    shape = ", ".join(map(str, x.shape))
    dtype = str(x.dtype)  # "torch.float32": valid Python in the reproduction line
    if len(nonzero) <= 12:
        sets = "; ".join(f"x[{', '.join(map(str, i))}] = {float(x[tuple(i)]):g}" for i in nonzero)
        build = f"x = torch.zeros({shape}, dtype={dtype}){'; ' + sets if sets else ''}"
    else:
        build = f"x = <the {len(nonzero)}-value input from the JSON report, shape ({shape})>"
    return f"{build}; convnet_invariances.check_claim(layer, x, {str(claim)!r}).measurement()  # fails at g = {g!r}"


# ----------------------------------------------------------------------------- verdicts


def _verdict_for(module, claim, inputs, *, shrink=True):
    """Check one claim on every example input; return a ClaimResult with verdict holds/violated/approximate/error."""
    worst, worst_x, worst_result = None, None, None
    errors_by_element: dict[str, float] = {}
    error_map = None
    try:
        for x in inputs:
            result = check_claim(module, x, claim)
            for g, e in zip(result.elements, result.errors.tolist()):
                errors_by_element[repr(g)] = max(errors_by_element.get(repr(g), 0.0), e)
            grid = result.error_map()
            if grid is not None:
                error_map = grid if error_map is None else torch.maximum(error_map, grid)
            m = result.measurement()
            if worst is None or (not m.holds and (worst.holds or m.max_error > worst.max_error)):
                worst, worst_x, worst_result = m, x, result
    except OutputShapeMismatch as exc:
        return ClaimResult(str(claim), "violated", message=str(exc))  # a failed claim, not a broken layer
    except (LayerError, InvalidArgument) as exc:
        return ClaimResult(str(claim), "error", message=str(exc))
    if worst is None or worst_x is None or worst_result is None:
        raise InvalidArgument("inputs is empty; give at least one example input")
    relative = _relative(worst_result, module, worst_x)
    base = dict(max_error=worst.max_error, tolerance=worst.tolerance, relative_error=relative,
                errors_by_element=errors_by_element,
                error_map=None if error_map is None else error_map.tolist())
    if worst.holds:
        return ClaimResult(str(claim), "holds", **base)
    continuous = claim.symmetry in ("rotation", "scale") and not all(
        g.exact_arithmetic for g in worst_result.elements)
    if continuous and relative < APPROXIMATE_BELOW:
        return ClaimResult(str(claim), "approximate", **base)
    rho = claim_output_action(claim, tuple(worst_x.shape), tuple(call_layer(module, worst_x[:1], "f(x)").shape))
    small = shrink_counterexample(module, worst_x, worst, claim, rho) if shrink else worst_x
    measurement = evaluate(module, small, (worst.element,), output_action=rho, claim=str(claim),
                           margin=claim.margin or None, mode=worst.mode).measurement(0)
    counterexample = {"group_element": repr(worst.element), "input_shape": list(small.shape),
                      "nonzero_inputs": int(torch.count_nonzero(small)),
                      "reproduce": reproduction(small, worst.element, claim)}
    return ClaimResult(str(claim), "violated", counterexample=counterexample, message=measurement.report(), **base)


def _strongest_translation(module, input_shape, relation, inputs, spatial_output):
    """Full group, else the largest non-trivial subgroup sZ^d, else the smallest interior margin (on the
    subgroup of the layer's own downsampling factor), else violated."""
    full = _verdict_for(module, Claim("translation", relation), inputs)
    if full.verdict in ("holds", "error"):
        return full
    sizes = input_shape[1:]
    for stride in range(2, min(sizes)):  # stride = size would be the trivial subgroup {0}: vacuous
        if all(n % stride == 0 for n in sizes):
            result = _verdict_for(module, Claim("translation", relation, stride=stride), inputs, shrink=False)
            if result.verdict == "holds":
                result.verdict, result.subgroup = "subgroup", stride
                return result
    if relation == "equivariant" and spatial_output:
        out_sizes = call_layer(module, inputs[0], "f(x)").shape[2:]
        factor = sizes[0] // out_sizes[0] if out_sizes and sizes[0] % out_sizes[0] == 0 else 1
        for margin in range(1, (min(out_sizes) - 1) // 2 + 1):
            try:
                claim = Claim("translation", relation, stride=factor, margin=margin)
                result = _verdict_for(module, claim, inputs, shrink=False)
            except InvalidArgument:
                break
            if result.verdict == "holds":
                result.verdict, result.margin = "interior", margin
                result.subgroup = factor if factor > 1 else None
                return result
    return full


def infer_profile(module, input_shape, *, examples=2, seed=0, dtype=torch.float32, device="cpu", progress=None):
    """Test the whole catalogue; for each symmetry and relation, the strongest statement that holds."""
    probe = example_inputs(input_shape, Claim("translation", "invariant"), 1, seed, dtype, device)[0]
    spatial_output = call_layer(module, probe, "f(x)").dim() >= 3
    relations = ("equivariant", "invariant") if spatial_output else ("invariant",)
    plan = [(s, r) for s in ("translation", "translation-zero", "rot90", "flip", "scale", "rotation") for r in relations]
    square = len(input_shape) == 3 and input_shape[1] == input_shape[2]
    results = []
    for done, (symmetry, relation) in enumerate(plan):
        if progress is not None:
            progress(done, len(plan))
        if symmetry in ("rot90", "rotation") and not square:
            continue
        if symmetry == "translation":
            inputs = example_inputs(input_shape, Claim("translation", relation), examples, seed, dtype, device)
            results.append(_strongest_translation(module, input_shape, relation, inputs, spatial_output))
            continue
        claim = Claim("translation", relation, boundary="zero") if symmetry == "translation-zero" else Claim(symmetry, relation)
        inputs = example_inputs(input_shape, claim, examples, seed, dtype, device)
        result = _verdict_for(module, claim, inputs)
        if symmetry == "rot90" and relation == "equivariant" and result.verdict == "violated":
            regular = _verdict_for(module, Claim("rot90", "equivariant", channels="regular"), inputs, shrink=False)
            if regular.verdict == "holds":
                result = regular
        results.append(result)
    return results


def _validate(module, input_shape, examples, seed):
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(
            f"module={describe_value(module)} must be a torch.nn.Module (wrap a function with a small Module subclass)"
        )
    try:
        shape = tuple(int(n) for n in input_shape)
    except (TypeError, ValueError):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints, no batch axis") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W) or (C, L): positive ints, no batch axis")
    if not isinstance(examples, int) or examples < 1:
        raise InvalidArgument(f"examples={examples!r} must be a positive int")
    if not isinstance(seed, int):
        raise InvalidArgument(f"seed={seed!r} must be an int")
    return shape


def audit(module, input_shape, claims=None, *, dtype=None, examples=2, seed=0, device=None, progress=None, name=None):
    """Verify ``claims`` (names such as ``"translation-equivariant[stride=2]"``) on ``module``, or infer its profile.

    The module is run in eval mode without gradients, on a copy when
    ``device`` differs from where it lives, and every parameter, buffer,
    training flag, requires_grad flag and RNG state is restored afterwards.
    ``input_shape`` excludes the batch axis.

    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    >>> report = audit(conv, (1, 6, 6), ["translation-equivariant", "rot90-equivariant"])
    >>> [r.verdict for r in report.results]
    ['holds', 'violated']
    """
    shape = _validate(module, input_shape, examples, seed)
    parsed = [Claim.parse(c) for c in claims] if claims else None
    parameters = list(module.parameters()) + list(module.buffers())
    home = parameters[0].device if parameters else torch.device("cpu")
    device = torch.device(device) if device is not None else home
    dtype = dtype or next((p.dtype for p in parameters if p.is_floating_point()), torch.float32)
    label = name or type(module).__name__
    with untouched(module):
        target = module if device == home else _copy_to(module, device)
        try:
            call_layer(target, example_inputs(shape, Claim("translation", "invariant"), 1, seed, dtype, device)[0], "f(x)")
        except LayerError as exc:
            results = [ClaimResult(str(c), "error", message=str(exc)) for c in (parsed or [Claim("translation", "invariant")])]
            return AuditReport(label, shape, seed, results, stated=bool(parsed))
        if parsed:
            results = []
            for done, claim in enumerate(parsed, start=1):
                results.append(_verdict_for(target, claim, example_inputs(shape, claim, examples, seed, dtype, device)))
                if progress is not None:
                    progress(done, len(parsed))
        else:
            results = infer_profile(target, shape, examples=examples, seed=seed, dtype=dtype, device=device,
                                    progress=progress)
        metrics = {}
        out = call_layer(target, example_inputs(shape, Claim("translation", "invariant"), 1, seed, dtype, device)[0], "f(x)")
        if out.dim() == 2 and len(shape) == 3:
            metrics = consistency(target, input_shape=shape, seed=seed, dtype=dtype, device=device)
    return AuditReport(label, shape, seed, results, stated=bool(parsed), metrics=metrics)


def _copy_to(module, device):
    import copy

    return copy.deepcopy(module).to(device)


def consistency(module, inputs=None, *, input_shape=None, pairs=1, max_shift=None, seed=0, dtype=torch.float32,
                device="cpu"):
    """Zhang (2019)'s consistency: the share of inputs whose argmax agrees between two random circular shifts,
    and the mean relative invariance error ‖f(S_a x) − f(S_b x)‖ / ‖f(S_b x)‖.

    ``inputs`` is an (N, C, H, W) tensor; without it, 32 smooth random images of ``input_shape`` are made.

    >>> import torch
    >>> metrics = consistency(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), input_shape=(3, 8, 8))
    >>> metrics["consistency"], metrics["mean_relative_error"] < 1e-6
    (1.0, True)
    """
    generator = torch.Generator().manual_seed(seed)
    if inputs is None:
        if input_shape is None:
            raise InvalidArgument("give inputs=(N, C, H, W) tensor or input_shape=(C, H, W)")
        c, h, w = input_shape
        coarse = torch.rand((32, c, max(2, h // 4), max(2, w // 4)), generator=generator)
        inputs = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
        raise InvalidArgument(f"inputs={describe_value(inputs)} must be an (N, C, H, W) tensor")
    inputs = inputs.to(dtype=dtype, device=device)
    h, w = inputs.shape[-2:]
    max_shift = max_shift or max(1, min(h, w) // 4)
    agree, errors = 0, []
    with torch.no_grad():
        for _ in range(pairs):
            a = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
            b = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
            ya = module(torch.roll(inputs, a, (-2, -1)))
            yb = module(torch.roll(inputs, b, (-2, -1)))
            agree += int((ya.argmax(dim=1) == yb.argmax(dim=1)).sum())
            errors.append(float(((ya - yb).norm(dim=1) / yb.norm(dim=1).clamp_min(1e-12)).mean()))
    return {"consistency": agree / (pairs * inputs.shape[0]), "mean_relative_error": sum(errors) / len(errors),
            "inputs": int(inputs.shape[0])}
