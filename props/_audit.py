"""The audit: point the suite at any ``torch.nn.Module`` and get a verdict per claim, with its evidence.

Verdicts (the words of :mod:`._vocabulary`):

- ``holds``: the falsification search (:mod:`._search`) found no violation;
  every verdict says what was searched — how many comparisons, over which
  group elements, inputs, domains and batch sizes;
- ``subgroup``: holds on shifts in ``stride·Z^d`` (the largest subgroup found);
- ``interior``: holds at distance ≥ margin from the output border (the smallest margin found);
- ``approximate``: a continuous symmetry (rotation) that is not exact, with
  relative error below 10% — a reporting convention, never a pass for a
  finite group;
- ``violated``: a counterexample, confirmed by a fresh call and shrunk to few
  non-zero input values;
- ``error``: the layer raised on the audited input, returned NaN/inf, or is
  not a function of its input (random, stateful).

Usage problems — a claim the input shape cannot carry (rot90 on a non-square
image, a stride that does not divide the size, a margin on a flat output) —
raise :class:`InvalidArgument` before anything runs.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import textwrap
from dataclasses import dataclass, field

import torch

from ._certificate import certify_translation_equivariance
from ._claims import Check, claim_checks, run_check, validate_output
from ._domains import InputCase, probe_batches
from ._errors import InvalidArgument, LayerError, NotAFunction, OutputShapeMismatch, describe_value
from ._layer_calls import call_layer
from ._intervals import bootstrap_interval, clopper_pearson_interval
from ._measuring import protected_model, require_int, require_model, require_samples
from ._orbit import ProgressCallback, one_element_per_call
from ._safety import (DEFAULT_CONTEXT, OTHER_CONTEXTS, audited_copy, current_context, evaluation_mode,
                      execution_context, is_lazy)
from ._reproduction import reproduction, reproduction_heading
from ._search import SearchOutcome, search
from ._tolerance import float_tolerance
from ._shrink import confirms, shrink
from ._attribution import find_culprit
from ._static import StaticAnalysis
from ._vocabulary import KEPT, Claim

#: continuous symmetries whose relative error is below this are reported as "approximate" (a convention for
#: reporting, documented in the README; it never makes a claim hold)
APPROXIMATE_BELOW = 0.10
#: input batches the search draws per claim by default: the whole portfolio of domains, then generated ones
DEFAULT_EXAMPLES = 22
#: the quick scans of profile inference (which subgroup, which margin) before the full search confirms one
SCAN_EXAMPLES = 4
LAYOUTS = ("CHW", "CL", "HW")


@dataclass
class ClaimResult:
    """The verdict on one claim, with the evidence the reports carry.

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
    searched: dict = field(default_factory=dict)
    searched_summary: str = ""
    largest: dict | None = None  # the largest error over everything searched, and where
    notes: tuple = ()
    errors_by_element: dict = field(default_factory=dict)
    error_map: dict | None = None  # shift groups: the largest error at every shift, {"origin", "values"}
    culprit: dict | None = None  # violated: the first layer that breaks it, {"layer", "verdict", "max_error"}

    @property
    def ok(self) -> bool:
        return self.verdict in KEPT

    def to_dict(self) -> dict:
        return {"claim": self.claim, "verdict": self.verdict, "max_error": self.max_error,
                "tolerance": self.tolerance, "subgroup": self.subgroup, "margin": self.margin,
                "counterexample": self.counterexample, "relative_error": self.relative_error,
                "largest": self.largest, "searched": self.searched, "message": self.message,
                "notes": list(self.notes), "culprit": self.culprit}


@dataclass
class AuditReport:
    """All verdicts for one target.  ``ok`` is True when every *stated* claim is kept.

    >>> import torch
    >>> import convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (2, 6, 6), ["translation-invariant"], examples=4)
    >>> report.ok, report.results[0].verdict
    (True, 'certified')
    """

    target: str
    input_shape: tuple
    seed: int
    results: list
    stated: bool = True
    metrics: dict = field(default_factory=dict)
    layout: str = "CHW"
    notes: tuple = ()

    @property
    def ok(self) -> bool:
        if self.stated:
            return all(r.ok for r in self.results)
        return not any(r.verdict == "error" for r in self.results)

    def to_dict(self) -> dict:
        data = {"target": self.target, "input_shape": list(self.input_shape), "seed": self.seed,
                "claims": [r.to_dict() for r in self.results], "layout": self.layout, "notes": list(self.notes),
                "stated": self.stated}
        if self.metrics:
            data["metrics"] = self.metrics
        return data

    def table(self) -> str:
        """A plain-text table: each claim's verdict, the largest error found (over everything searched), its
        relative size, the element where it sits, and the tolerance there."""
        rows = [("claim", "verdict", "largest error", "relative", "where", "tolerance", "detail")]
        for r in self.results:
            detail = (f"shifts in {r.subgroup}Z^d" if r.verdict == "subgroup"
                      else f"margin {r.margin}" if r.verdict == "interior"
                      else textwrap.shorten(r.message.splitlines()[0], 70, placeholder=" …")
                      if r.verdict == "error" and r.message else "")
            where = (r.largest or {}).get("group_element") or "—"
            measured = bool(r.largest)
            rows.append((r.claim, r.verdict, f"{r.max_error:.3g}" if measured else "—",
                         f"{r.relative_error:.3g}" if measured else "—", str(where),
                         f"{r.tolerance:.3g}" if measured else "—", detail))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return f"{self.target}  input {tuple(self.input_shape)}  seed {self.seed}\n" + "\n".join(lines)

    def report(self) -> str:
        """The table followed by the full evidence of every violated or erroring claim, with reproductions."""
        parts = [self.table()]
        if any(r.counterexample for r in self.results):
            parts.append("(largest error: over everything searched; each counterexample below is shrunk to a "
                         "simpler input, so its own error may be smaller)")
        for r in self.results:
            if r.verdict in ("violated", "error") and r.message:
                heading = "" if r.message.startswith(f"{r.claim}:") else f"{r.claim}: {r.verdict}\n"
                parts.append(f"\n{heading}{r.message}")
            if r.counterexample:
                parts.append(f"  {reproduction_heading(r.counterexample['reproduce'])}\n" + "\n".join(
                    f"    {line}" for line in r.counterexample["reproduce"].splitlines()))
        if self.metrics:
            parts.append(f"classifier: consistency {self.metrics['consistency']:.1%} of {self.metrics['inputs']} smooth "
                         f"images, mean relative change {self.metrics['mean_relative_error']:.3g}")
        return "\n".join(parts)


# ----------------------------------------------------------------------------- the settings of one audit


@dataclass
class _Settings:
    sample_shape: tuple  # per sample, as the engine sees it: (C, *S)
    output_shape: tuple  # per sample
    dtype: torch.dtype
    device: torch.device
    seed: int
    examples: int
    seconds: float | None
    label: str
    assume: object = None
    fresh: object = None  # () -> a pristine copy of the audited module (None when it cannot be copied)
    original: object = None  # the user's module, for reproductions
    target: str | None = None  # where the command line found it ("file.py:name", "pkg.mod:name")
    target_path: str | None = None  # the folder packages of ``target`` are looked up in
    layout: str = "CHW"
    first_call: tuple | None = None  # (input, output) of the audit's first call of the layer, its shape probe
    contexts: tuple = ()  # (ExecutionContext, why) where the layer computes otherwise than in the default one


# ----------------------------------------------------------------------------- one claim


def _usage(claim: Claim, settings: _Settings) -> list[Check]:
    """The claim's checks, or InvalidArgument when the shapes cannot carry the claim."""
    checks = claim_checks(claim, settings.sample_shape, settings.output_shape)
    validate_output(claim, settings.sample_shape, settings.output_shape)
    return checks


def verdict_for(f, claim: Claim, settings: _Settings, *, examples=None, shrink_counterexample=True,
                progress: ProgressCallback | None = None) -> ClaimResult:
    """Search for a violation of one claim and turn the outcome into a :class:`ClaimResult`; a layer that
    computes otherwise in another execution context (``settings.contexts``) is searched there too, and the
    claim is kept only if it is kept in every one of them."""
    result = _verdict_in_context(f, claim, settings, examples, shrink_counterexample, progress, proofs=True)
    if not settings.contexts or not result.ok:
        return result
    searched = []
    for context, why in settings.contexts:
        with execution_context(context):
            other = _verdict_in_context(f, claim, settings, examples, shrink_counterexample, progress, proofs=False)
        where = f"the layer computes otherwise {context.describe()} ({why})"
        if not other.ok:
            return dataclasses.replace(other, notes=other.notes + (f"{where}: this verdict was found there",))
        searched.append(f"{where}: searched there too, {other.verdict}")
    return dataclasses.replace(result, notes=result.notes + tuple(searched))


def _verdict_in_context(f, claim: Claim, settings: _Settings, examples, shrink_counterexample, progress,
                        proofs: bool) -> ClaimResult:
    """The verdict in the current execution context; ``proofs``: the static certifier and the linear certificate
    may decide (they read the graph the default context runs)."""
    checks = _usage(claim, settings)
    name = str(claim)
    static = _static_verdict(f, claim, settings) if proofs else None
    # a static proof is still searched: the evidence (what was searched, the plots) stays, and a certifier bug
    # would show as a violation instead of passing unseen
    proof = "proved from the graph: " + "; ".join(static.reasons or ("every layer keeps it",)) \
        if static is not None and static.certified else ""
    if proofs and not proof and (claim.symmetry, claim.relation, claim.boundary, claim.stride, claim.margin) == \
            ("translation", "equivariant", "circular", 1, 0) and isinstance(f, torch.nn.Module):
        certificate = certify_translation_equivariance(f, settings.sample_shape, seed=settings.seed)
        if certificate.certified:
            return ClaimResult(name, "certified", message=str(certificate),
                               searched={"certificate": str(certificate)}, searched_summary=str(certificate))
    try:
        return _searched_verdict(f, claim, checks, settings, examples, shrink_counterexample, progress,
                                 static=static, proof=proof)
    except _ChunkArtifact as artifact:
        # a violation inside a batched chunk that the layer does not show alone nor in a batch of that size:
        # the layer couples samples in a way the anchors did not reveal, so no chunk can be trusted; search again
        # calling the layer once per group element, on exactly the input's samples (what the claim means)
        with one_element_per_call():
            result = _searched_verdict(f, claim, checks, settings, examples, shrink_counterexample, progress,
                                       uniform=True, static=static, proof=proof)
        return dataclasses.replace(result, notes=tuple(sorted(set(result.notes) | {artifact.note})))


def _reproduces_in_the_same_chunks(f, x, check, claim, g, violation, settings) -> bool:
    """Whether evaluating the same elements on ``x`` again, in the same chunks, finds ``g`` violated again: then
    the violation is a function of the batch the layer was given (a coupling), not of earlier calls."""
    try:
        again = run_check(f, x, check, claim, elements=violation.result.elements, label=settings.label)
    except LayerError:
        return False
    return g in again.violations()


class _ChunkArtifact(Exception):
    """A violation found inside a batched chunk that reproduces neither alone nor at the chunk's batch size."""

    def __init__(self, note):
        super().__init__(note)
        self.note = note


def _searched_verdict(f, claim, checks, settings, examples, shrink_counterexample, progress, uniform=False,
                      static=None, proof=""):
    """The search's verdict on one claim; ``uniform``: the search already calls the layer once per element;
    ``static``: the static certifier's verdict, ``proof`` its reasons when it certified the claim."""
    name = str(claim)
    try:
        outcome = search(f, claim, checks, dtype=settings.dtype, device=settings.device, seed=settings.seed,
                         examples=examples or settings.examples, seconds=settings.seconds, progress=progress,
                         label=settings.label, assume=settings.assume,
                         approximate_below=APPROXIMATE_BELOW if claim.symmetry == "rotation" else None)
    except OutputShapeMismatch as exc:
        return ClaimResult(name, "violated", message=str(exc))  # a failed claim, not a broken layer
    except NotAFunction as exc:
        return ClaimResult(name, "error", message=str(exc))
    except LayerError as exc:
        return ClaimResult(name, "error", message=str(exc))
    base = _evidence(outcome)
    if static is not None and static.verdict == "not certified":
        base["notes"] = base["notes"] + (f"static: not certified — {static.reasons[-1]}",)
    stale = _depends_on_earlier_calls(f, settings)
    if stale:
        return ClaimResult(name, "error", message=stale, **base)
    if outcome.violation is None:
        if outcome.searched.inputs == 0 and outcome.searched.assumption_failed and not outcome.searched.skipped:
            return ClaimResult(name, "error", message=(
                f"no input met the stated assumption: {outcome.searched.assumption_failed} input batches of every "
                f"kind the search draws were tried and set aside, so nothing was checked; state an assumption "
                f"some input can meet, or check with your own inputs (ci.assert_equivariant)"), **base)
        if outcome.searched.inputs == 0 and not outcome.searched.skipped:
            spent = (f"the search's time budget (seconds={settings.seconds}) ran out before its first input, so "
                     f"nothing was searched")
            if proof:
                return ClaimResult(name, "certified", **(base | {"message": proof, "notes": base["notes"] + (
                    spent + "; the verdict rests on the proof alone",)}))
            return ClaimResult(name, "error", message=spent + "; give the search more seconds", **base)
        if outcome.searched.inputs == 0:
            return ClaimResult(name, "error", message="the layer rejected every input the search tried: "
                               + "; ".join(f"{d}: {why}" for d, why in outcome.searched.skipped.items()), **base)
        if proof:
            return ClaimResult(name, "certified", **(base | {"message": proof}))
        return ClaimResult(name, "holds", **base)
    if proof:
        base["notes"] = base["notes"] + ("the static certifier claimed a proof of this claim, which the search "
                                         "refutes: a bug of the certifier's table, please report it",)
    return _violated(f, claim, outcome, settings, base, shrink_counterexample, uniform)


def _depends_on_earlier_calls(f, settings) -> str:
    """A pristine copy of the module must compute what the searched copy computes now, and the layer must give
    again what its very first call gave (a copy may share class-level state, say a "warmed up" flag): a cache,
    a counter or any state carried from call to call shows up as a difference.  Returns the message, or ""."""
    if settings.first_call is not None and current_context() == DEFAULT_CONTEXT:  # the first call ran there
        x, first = settings.first_call
        try:
            with evaluation_mode():
                again = call_layer(f, x.clone(), "f(x) again")
        except LayerError:
            again = None
        if again is None or again.shape != first.shape or not _close(first, again):
            return ("the layer is not a function of its input: its first call and a call after the search gave "
                    "different outputs on the same input, so its output depends on earlier calls (a warm-up "
                    "path, a cache, a counter); remove that state before checking")
    if settings.fresh is None:
        return ""
    fresh = settings.fresh()
    if isinstance(f, _WithoutChannelAxis):
        fresh = _WithoutChannelAxis(fresh)
    # new inputs of batch sizes the layer has certainly seen (1: its first call) and of another (2): a cache
    # keyed by the shape answers them with what an earlier input gave
    for batch in (1, 2):
        x = InputCase("gaussian", settings.seed % 2**31 + batch, 1.0, batch).tensor(
            settings.sample_shape, settings.dtype, settings.device)
        try:
            with evaluation_mode():
                now, pristine = call_layer(f, x, "f(x)"), call_layer(fresh, x, "f(x) on a fresh copy")
        except LayerError:
            return ""
        if not (now.shape == pristine.shape and _close(now, pristine)):
            break
    else:
        return ""
    return ("the layer is not a function of its input: after the search it computes something else than a fresh "
            "copy of it on the same input, so its output depends on earlier calls (a cache, a counter); "
            "remove that state before checking")


def _close(a, b):
    if torch.equal(a, b):
        return True
    if not (a.is_floating_point() or a.is_complex()):
        return False
    scale = float(torch.maximum(a.abs().max(), b.abs().max()))
    return float((a - b).abs().max()) <= float_tolerance(scale, max(1, a[0].numel()), a.dtype)


def _evidence(outcome: SearchOutcome) -> dict:
    searched = outcome.searched
    largest = None
    max_error = tolerance = relative = 0.0
    if outcome.largest is not None:
        relative, max_error, element, measurement = outcome.largest
        tolerance = measurement.tolerance
        largest = {"max_error": max_error, "relative_error": relative, "group_element": repr(element),
                   "tolerance": tolerance}
    errors_by_element: dict[str, float] = {}
    by_shift: dict[tuple, float] = {}
    for _check, result in outcome.results:
        for g, e in zip(result.elements, result.errors.tolist()):
            errors_by_element[repr(g)] = max(errors_by_element.get(repr(g), 0.0), e)
            shifts = getattr(g, "shifts", None)
            if shifts is not None:
                by_shift[tuple(shifts)] = max(by_shift.get(tuple(shifts), 0.0), e)
    error_map = _shift_grid(by_shift)
    notes = tuple(sorted(searched.notes))
    return dict(max_error=max_error, tolerance=tolerance, relative_error=relative, largest=largest,
                searched=searched.to_dict() | {"arbiters": sorted(searched.arbiters)},
                searched_summary=searched.summary(), notes=notes, errors_by_element=errors_by_element,
                error_map=error_map)


def _shift_grid(by_shift: dict) -> dict | None:
    """Errors of shift elements laid out on their grid, for heatmaps: ``{"origin": [...], "values": [...]}`` with
    ``values[i][j]`` the largest error at the shift ``origin + (i, j)`` (NaN where no shift was evaluated)."""
    if not by_shift:
        return None
    rank = len(next(iter(by_shift)))
    origin = [min(t[axis] for t in by_shift) for axis in range(rank)]
    size = [max(t[axis] for t in by_shift) - origin[axis] + 1 for axis in range(rank)]
    grid = torch.full(size, float("nan"), dtype=torch.float64)
    for shifts, error in by_shift.items():
        grid[tuple(t - o for t, o in zip(shifts, origin))] = error
    return {"origin": origin, "values": grid.tolist()}


def _violated(f, claim, outcome, settings, base, shrink_counterexample, uniform):
    violation = outcome.violation
    check, g = violation.check, violation.element
    name = str(claim)
    at_batch = None
    if not confirms(f, violation.x, check, claim, g, label=settings.label):
        # found inside a larger batch (a chunk of the orbit): a layer may take another path at that batch size,
        # so the claim is checked again on a batch of that size made of copies of the input
        x = violation.x
        batches = violation.result.call_batches
        size = 0 if batches is None else int(batches[violation.result.elements.index(g)])
        copies = x.repeat((-(-size // x.shape[0]),) + (1,) * (x.dim() - 1))[:size] if size > x.shape[0] else None
        if copies is None or not confirms(f, copies, check, claim, g, label=settings.label):
            if not uniform and _reproduces_in_the_same_chunks(f, x, check, claim, g, violation, settings):
                raise _ChunkArtifact(
                    f"a violation at g = {g!r} inside a batched chunk of {size} inputs did not reproduce alone nor "
                    f"in a batch of {size} copies: the layer couples the samples of a batch, so the search was "
                    f"repeated calling it once per group element, on a batch of exactly the input's samples")
            return ClaimResult(name, "error", message=(
                f"the violation found at g = {g!r} on {violation.case.describe()} does not reproduce on a fresh "
                f"call, alone or in a batch of {max(size, x.shape[0])} copies: the layer's output depends on "
                f"earlier calls (a counter, a cache) or on the rest of its batch, so it is not a function of its "
                f"input"), **base)
        at_batch = size
        violation = dataclasses.replace(violation, x=copies)
    measurement = violation.result.measurement(violation.result.elements.index(g))
    if claim.symmetry == "rotation" and measurement.relative_error < APPROXIMATE_BELOW:
        return ClaimResult(name, "approximate", **(base | {"relative_error": measurement.relative_error}))
    small = shrink(f, violation.x, check, claim, g, label=settings.label, assume=settings.assume,
                   relative_at_least=APPROXIMATE_BELOW if claim.symmetry == "rotation" else None) \
        if shrink_counterexample and at_batch is None else violation.x  # copies: the batch size is the defect
    final = run_check(f, small, check, claim, elements=(g,), label=settings.label).measurement(0)
    acted_on = small if check.masks is None else \
        small * check.masks[check.elements.index(g)].to(small.device, small.dtype)  # zero fill: content inside
    reproduce = reproduction(settings.original, acted_on, g, check.output_action, margin=claim.margin or None,
                             mode=final.mode, target=settings.target, target_path=settings.target_path,
                             layout=settings.layout, eval_mode=True)
    counterexample = {
        "group_element": repr(g), "input_shape": list(acted_on.shape),
        "nonzero_inputs": int(torch.count_nonzero(acted_on)), "reproduce": reproduce,
        "max_error": final.max_error, "tolerance": final.tolerance, "relative_error": final.relative_error,
        "found_on": violation.case.describe() + (
            f"; shows only at a batch of {at_batch} samples: the counterexample is that many copies"
            if at_batch else ""), "check": check.name, "input": _values(acted_on),
    }
    if final.relative_error > base["relative_error"] or base["largest"] is None:
        # the shrunk input errs more (relatively) than anything the search measured: the largest error is
        # the counterexample's, all its numbers from that one measurement
        largest = {"max_error": final.max_error, "relative_error": final.relative_error,
                   "group_element": repr(g), "tolerance": final.tolerance}
        base = base | {"max_error": final.max_error, "relative_error": final.relative_error,
                       "tolerance": final.tolerance, "largest": largest}
    message = dataclasses.replace(final, reproducer=None).report()  # the counterexample carries the reproduction
    try:  # attribution is evidence on top of a verdict already found: it must never replace that verdict
        culprit = find_culprit(f, acted_on, g, check.output_action)
    except Exception:
        culprit = None
    if culprit is not None and isinstance(f, _WithoutChannelAxis):  # named as in the user's model, not our wrapper
        inside = culprit.layer.removeprefix("inner.") if culprit.layer.startswith("inner.") else ""
        culprit = dataclasses.replace(culprit, layer=inside or type(f.inner).__name__)
    return ClaimResult(name, "violated", counterexample=counterexample, message=message, **base,
                       culprit=culprit.to_dict() if culprit is not None else None)


def _static_verdict(f, claim, settings):
    """The static certifier's verdict on ``claim`` (the graph traced once per audit), or None where it does not
    apply (a layer that is not a module, an analysis that fails)."""
    if not isinstance(f, torch.nn.Module):
        return None
    analysis = getattr(settings, "static_analysis", None)
    try:  # a certifier that fails on a model says nothing about it: the search decides, never a traceback
        if analysis is None:
            analysis = StaticAnalysis(f)
            settings.static_analysis = analysis
        return analysis.verdict(settings.sample_shape, claim)
    except Exception:
        return None


def _values(x):
    """The input written out: its non-zero values by index (small inputs), else None."""
    nonzero = torch.nonzero(x).tolist()
    if len(nonzero) > 64:
        return None
    return [[list(map(int, index)), float(x[tuple(index)])] for index in nonzero]


# ----------------------------------------------------------------------------- profile inference


def _first_holding(candidates, make_claim, f, settings):
    """The first candidate (in order) whose claim holds, by binary search over a monotone family — one where a
    claim that holds for a candidate holds for every later one (a larger margin, a larger border) — with a
    quick scan for each probe and the full search to confirm.  Returns the confirmed result, or None."""
    low, high, found = 0, len(candidates) - 1, None
    while low <= high:
        middle = (low + high) // 2
        quick = verdict_for(f, make_claim(candidates[middle]), settings, examples=SCAN_EXAMPLES,
                            shrink_counterexample=False)
        if quick.verdict in ("holds", "certified"):
            found, high = middle, middle - 1
        else:
            low = middle + 1
    while found is not None and found < len(candidates):
        result = verdict_for(f, make_claim(candidates[found]), settings)
        if result.verdict in ("holds", "certified"):
            return candidates[found], result
        found += 1  # the quick scan missed a violation: the next candidate must be searched in full
    return None


def _strongest_translation(f, relation, settings, spatial_output):
    """Full group, else the largest non-trivial subgroup sZ^d, else the smallest interior margin (on the
    subgroup of the layer's own downsampling factor), else violated."""
    full = verdict_for(f, Claim("translation", relation), settings)
    if full.verdict in ("holds", "certified", "error"):
        return full
    sizes = settings.sample_shape[1:]
    for stride in range(2, min(sizes)):  # stride = size would be the trivial subgroup {0}: vacuous
        if all(n % stride == 0 for n in sizes):
            claim = Claim("translation", relation, stride=stride)
            if verdict_for(f, claim, settings, examples=SCAN_EXAMPLES,
                           shrink_counterexample=False).verdict in ("holds", "certified"):
                result = verdict_for(f, claim, settings)
                if result.verdict in ("holds", "certified"):  # (a static proof says so in its message)
                    result.verdict, result.subgroup = "subgroup", stride
                    return result
    if relation == "equivariant" and spatial_output:
        out_sizes = settings.output_shape[1:]
        factor = sizes[0] // out_sizes[0] if out_sizes and sizes[0] % out_sizes[0] == 0 else 1
        if factor > 1 and any(n % factor for n in sizes):
            return full
        margins = list(range(1, (min(out_sizes) - 1) // 2 + 1))
        found = _first_holding(margins, lambda m: Claim("translation", relation, stride=factor, margin=m), f,
                               settings) if margins else None
        if found is not None:
            margin, result = found
            result.verdict, result.margin = "interior", margin
            result.subgroup = factor if factor > 1 else None
            return result
    return full


def _strongest_zero_fill(f, relation, settings):
    """Zero-fill shifts of content anywhere inside; else the smallest border the content needs."""
    full = verdict_for(f, Claim("translation", relation, boundary="zero"), settings)
    if full.verdict in ("holds", "certified", "error"):
        return full
    borders = list(range(1, (min(settings.sample_shape[1:]) - 1) // 2 + 1))
    found = _first_holding(borders, lambda b: Claim("translation", relation, boundary="zero", border=b), f,
                           settings) if borders else None
    return full if found is None else found[1]


def infer_profile(f, settings: _Settings, progress: ProgressCallback | None = None) -> list[ClaimResult]:
    """Test the whole catalogue; for each aspect and relation, the strongest statement that holds."""
    spatial_output = len(settings.output_shape) >= 2
    relations = ("equivariant", "invariant") if spatial_output else ("invariant",)
    spatial = settings.sample_shape[1:]
    square = len(spatial) == 2 and spatial[0] == spatial[1]
    plan = [(s, r) for s in ("translation", "translation-zero", "rot90", "flip", "scale", "rotation") for r in relations
            if square or s not in ("rot90", "rotation")]
    results = []
    if progress is not None:
        progress(0, len(plan))
    for done, (symmetry, relation) in enumerate(plan, start=1):
        if symmetry == "translation":
            results.append(_strongest_translation(f, relation, settings, spatial_output))
        elif symmetry == "translation-zero":
            results.append(_strongest_zero_fill(f, relation, settings))
        else:
            result = verdict_for(f, Claim(symmetry, relation), settings)
            if symmetry == "rot90" and relation == "equivariant" and result.verdict == "violated" and \
                    settings.output_shape[0] % 4 == 0:
                regular = verdict_for(f, Claim("rot90", "equivariant", channels="regular"), settings)
                if regular.verdict in ("holds", "certified"):
                    result = regular
            results.append(result)
        if progress is not None:  # after the work: the bar advances when a claim is done
            progress(done, len(plan))
    return results


# ----------------------------------------------------------------------------- the entry point


def _shape_and_layout(input_shape, layout):
    try:
        shape = tuple(int(n) for n in input_shape)
        if any(isinstance(n, bool) or int(n) != n for n in input_shape):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W), or (C, L) / (H, W) with a layout: "
                              f"positive ints, no batch axis") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise InvalidArgument(f"input_shape={input_shape!r} must be (C, H, W), or (C, L) / (H, W) with a layout: "
                              f"positive ints, no batch axis")
    if layout is None:
        if len(shape) == 2:
            raise InvalidArgument(
                f"input_shape={input_shape!r} has two numbers: say whether they are (C, L) — channels and length of "
                f"1-D signals — or (H, W) — an image without a channel axis — with layout='CL' or layout='HW'")
        layout = "CHW"
    if layout not in LAYOUTS:
        raise InvalidArgument(f"layout={layout!r} must be one of {LAYOUTS}")
    if len(layout) != len(shape):
        raise InvalidArgument(f"layout={layout!r} does not match input_shape={input_shape!r} "
                              f"({len(shape)} numbers; layout {layout!r} has {len(layout)})")
    return shape, layout


def _pristine_copies(module, target, device):
    """A maker of fresh copies of the audited module as it was before any check ran (on ``device``, in eval
    mode), or None when the module cannot be copied.  A lazy module's copy was materialised with random
    weights: its fresh copies come from a snapshot of that copy, taken now."""
    if target is module:
        return None
    lazy = is_lazy(module)
    snapshot = copy.deepcopy(target) if lazy else None

    def fresh():
        return copy.deepcopy(snapshot) if lazy else copy.deepcopy(module).to(device).eval()

    return fresh


class _WithoutChannelAxis(torch.nn.Module):
    """An (N, H, W) layer seen as an (N, 1, H, W) one: the audit's actions need a channel axis."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        y = self.inner(x[:, 0])
        return y.unsqueeze(1) if y.dim() == 3 else y


#: the probes of the execution contexts: every batch of the search's portfolio, cut to this many samples
CONTEXT_PROBE_SAMPLES = 8


def _other_contexts(f, sample_shape, dtype, device, seed) -> tuple:
    """The execution contexts (autograd mode, memory layout, deterministic algorithms) in which ``f`` computes
    otherwise than in the default one, each with why; () for most layers.  The probes are the search's own
    portfolio (every domain, magnitudes from 1e-8 to 1e6, batch sizes up to 8), so a path a context opens only
    on some inputs is met where the search would meet it; outputs are compared per sample and channel within
    the rounding bound of the tolerance model, so a different kernel for the same function (channels-last
    convolutions) agrees and a different function does not."""
    inputs = probe_batches(sample_shape, dtype, device, seed, CONTEXT_PROBE_SAMPLES)

    def outputs():
        with evaluation_mode():
            return [call_layer(f, x.clone(), "f(x)") for x in inputs]

    try:
        reference = outputs()
    except LayerError:
        return ()  # the search reports the layer's own error
    found = []
    for context in OTHER_CONTEXTS:
        with execution_context(context):
            try:
                other = outputs()
            except LayerError:  # a layer may refuse a layout (`x.view` of a strided input): nothing to compare
                continue
        why = next((w for w in (_disagreement(x, a, b) for x, a, b in zip(inputs, reference, other)) if w), "")
        if why:
            found.append((context, why))
    return tuple(found)


def _disagreement(x, a, b) -> str:
    """Why two outputs of the layer on the same input ``x`` are not the same function's (beyond the rounding
    bound 2·γ_n·scale of each sample and channel, n the sample's size, scale the larger of the outputs' and the
    input's magnitudes), or ""."""
    if a.shape != b.shape:
        return f"an output of shape {tuple(b.shape)} instead of {tuple(a.shape)}"
    if torch.equal(a, b):
        return ""
    if not (a.is_floating_point() or a.is_complex()):
        return "other values on a probe input"
    rows = a.shape[0]
    wide = torch.complex128 if a.is_complex() else torch.float64  # never drop an imaginary part
    a2, b2 = a.reshape(rows, a.shape[1] if a.dim() > 1 else 1, -1).to(wide), \
        b.reshape(rows, b.shape[1] if b.dim() > 1 else 1, -1).to(wide)
    magnitude = x.reshape(rows, -1).abs().amax(dim=1).to(torch.float64).view(rows, 1)
    scale = torch.maximum(torch.maximum(a2.abs().amax(dim=2), b2.abs().amax(dim=2)), magnitude)
    gap = (a2 - b2).abs().amax(dim=2)
    bound = float_tolerance(1.0, max(1, x[0].numel()), a.dtype) * scale  # 2·γ_n·scale, per sample and channel
    if bool((gap > bound).any()):
        return f"outputs {float(gap.max()):.3g} apart on a probe input"
    return ""


def _validate(module, examples, seed, seconds, assume):
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(
            f"module={describe_value(module)} must be a torch.nn.Module (wrap a function in a small Module subclass)"
        )
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 1:
        raise InvalidArgument(f"examples={examples!r} must be a positive int (input batches searched per claim)")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise InvalidArgument(f"seed={seed!r} must be an int in [0, 2**63)")
    if assume is not None and not callable(assume):
        raise InvalidArgument(f"assume={describe_value(assume)} must be None or a callable assume(x) -> bool")
    if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0):
        raise InvalidArgument(f"seconds={seconds!r} must be a positive number of seconds or None")


def _parsed_claims(claims) -> list[Claim] | None:
    """The stated claims, or None (infer the profile); a lone string or an empty list is a usage error, never
    read as its characters or as "infer"."""
    if claims is None:
        return None
    example = "['translation-equivariant', 'rot90-invariant']"
    if isinstance(claims, (str, Claim)):
        raise InvalidArgument(f"claims={claims!r} must be a list of claims, e.g. [{str(claims)!r}]")
    try:
        items = list(claims)
    except TypeError:
        raise InvalidArgument(f"claims={describe_value(claims)} must be a list of claims such as {example}, "
                              f"or None to infer the profile") from None
    if not items:
        raise InvalidArgument(f"claims={claims!r} is empty: state at least one claim, such as {example}, or pass "
                              f"None to infer the profile")
    return [Claim.parse(c) for c in items]


def audit(module, input_shape, claims=None, *, layout=None, examples=DEFAULT_EXAMPLES, seconds=None, seed=0,
          dtype=None, device=None, assume=None, progress: ProgressCallback | None = None, name=None,
          target=None, target_path=None, classifier: bool = False) -> AuditReport:
    """Verify ``claims`` (a list of names such as ``"translation-equivariant[stride=2]"``) on ``module``, or, with
    ``claims=None``, infer its profile.

    ``input_shape`` excludes the batch axis: (C, H, W), or two numbers with ``layout="CL"`` (1-D signals) or
    ``layout="HW"`` (images without a channel axis).  Each claim gets a falsification search of ``examples``
    input batches (and at most ``seconds``, if given), reproducible for a ``seed``; ``assume(x) -> bool``, if
    given, states a precondition (inputs outside it are set aside, and the report counts them).  ``target``
    (``"path/file.py:name"`` or ``"package.module:name"``, built after ``torch.manual_seed(0)``) tells
    reproductions how to rebuild the module; without it they rebuild it from its class where they can.  The
    module is audited on a deep copy in eval mode (in place and restored, if it cannot be copied):
    parameters, buffers, attributes, training flags, ``requires_grad`` flags and RNG states of the original
    stay as they were.  ``classifier=True`` says the output is class scores, (N, K) with K ≥ 2: the report then
    also carries :func:`consistency` (how often the predicted class survives a shift, on smooth images).

    >>> import torch
    >>> conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")
    >>> report = audit(conv, (1, 6, 6), ["translation-equivariant", "rot90-equivariant"], examples=4)
    >>> [r.verdict for r in report.results]
    ['certified', 'violated']
    """
    _validate(module, examples, seed, seconds, assume)
    if not isinstance(classifier, bool):
        raise InvalidArgument(f"classifier={classifier!r} must be True or False")
    shape, layout = _shape_and_layout(input_shape, layout)
    parsed = _parsed_claims(claims)
    parameters = list(module.parameters()) + list(module.buffers())
    home = next((t.device for t in parameters if not torch.nn.parameter.is_lazy(t)),
                torch.device("cpu"))
    device = torch.device(device) if device is not None else home
    if dtype is None:
        dtype = next((p.dtype for p in parameters if p.is_floating_point() and
                      not torch.nn.parameter.is_lazy(p)), torch.float32)
    sample_shape = (1,) + shape if layout == "HW" else shape
    label = name or type(module).__name__
    probe_case = InputCase("integers", seed % 2**31, 1.0, 1)
    probe = probe_case.tensor(shape, dtype, device)
    try:
        copying = audited_copy(module, probe, device)
        audited, note = copying.__enter__()
    except NotAFunction as exc:  # seen while checking that a copy computes what the module computes
        failed = parsed or [Claim("translation", "invariant")]
        return AuditReport(label, shape, seed, [ClaimResult(str(c), "error", message=str(exc)) for c in failed],
                           stated=bool(parsed), layout=layout)
    with contextlib.ExitStack() as cleanup:
        cleanup.push(copying.__exit__)
        fresh = _pristine_copies(module, audited, device)  # before the first call of the audited copy
        f = _WithoutChannelAxis(audited) if layout == "HW" else audited
        notes = (note,) if note else ()
        try:
            with evaluation_mode():
                first_input = probe_case.tensor(sample_shape, dtype, device)
                output = call_layer(f, first_input.clone(), "f(x)")
        except LayerError as exc:
            failed = parsed or [Claim("translation", "invariant")]
            results = [ClaimResult(str(c), "error", message=str(exc)) for c in failed]
            return AuditReport(label, shape, seed, results, stated=bool(parsed), layout=layout, notes=notes)
        if classifier and not (output.dim() == 2 and output.shape[1] >= 2 and output.is_floating_point()
                               and layout == "CHW"):
            raise InvalidArgument(
                f"classifier=True needs class scores: a floating (N, K) output with K ≥ 2 for (C, H, W) inputs; "
                f"this layer gives {tuple(output.shape)} ({str(output.dtype).replace('torch.', '')}) for layout "
                f"{layout}")
        settings = _Settings(sample_shape, tuple(output.shape[1:]), dtype, device, seed, examples, seconds,
                             f"the layer {label}", assume, fresh, module, target, target_path, layout,
                             (first_input, output.clone()),
                             _other_contexts(f, sample_shape, dtype, device, seed))
        if parsed:
            for claim in parsed:  # usage errors before any search
                _usage(claim, settings)
            results = []
            if progress is not None:
                progress(0, len(parsed))
            for done, claim in enumerate(parsed, start=1):
                results.append(verdict_for(f, claim, settings))
                if progress is not None:
                    progress(done, len(parsed))
        else:
            results = infer_profile(f, settings, progress=progress)
        metrics = {}
        if classifier:
            metrics = consistency(f, input_shape=shape, seed=seed, dtype=dtype, device=device)
    return AuditReport(label, shape, seed, results, stated=bool(parsed), metrics=metrics, layout=layout, notes=notes)


def consistency(module, inputs=None, *, input_shape=None, pairs=1, max_shift=None, seed=0, dtype=torch.float32,
                device="cpu"):
    """Zhang (2019)'s consistency: the share of (image, pair of shifts) trials whose argmax agrees between two
    different random circular shifts, each image with its own pair, and the mean relative invariance error
    ‖f(S_a x) − f(S_b x)‖ / ‖f(S_b x)‖.

    ``inputs`` is an (N, C, H, W) tensor; without it, 32 smooth random images of ``input_shape`` = (C, H, W) are
    made.  Each of the ``pairs`` rounds draws, for every image independently, two different shifts (a, b) with
    components uniform in ``[−max_shift, max_shift]`` (default: a quarter of the smaller side).  With
    ``pairs=1`` the N agreements are independent trials and ``consistency_ci`` is their Clopper–Pearson
    interval (coverage at least 95%); with more pairs an image's trials share that image, so the interval is
    the bootstrap over images of their agreement shares (:func:`bootstrap_interval`).  The module is evaluated
    in eval mode on a copy, every call on a copy of its input: neither it, the random generators nor
    ``inputs`` change.

    >>> import torch
    >>> metrics = consistency(torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()), input_shape=(3, 8, 8))
    >>> metrics["consistency"], metrics["mean_relative_error"] < 1e-6
    (1.0, True)
    """
    require_model(module, "module")
    require_int(pairs, "pairs", minimum=1, meaning="rounds of one random pair of shifts per image")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InvalidArgument(f"seed={seed!r} must be an int")
    generator = torch.Generator().manual_seed(seed % 2**63)
    if inputs is None:
        if input_shape is None:
            raise InvalidArgument("give inputs=(N, C, H, W) tensor or input_shape=(C, H, W)")
        if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or
                not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in input_shape)):
            raise InvalidArgument(f"input_shape={input_shape!r} must be three positive ints (C, H, W)")
        c, h, w = input_shape
        coarse = torch.rand((32, c, max(2, h // 4), max(2, w // 4)), generator=generator)
        inputs = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    require_samples(inputs, "inputs")
    x = inputs.detach().to(dtype=dtype, device=device).clone()
    n, (h, w) = x.shape[0], x.shape[-2:]
    if max_shift is None:
        max_shift = max(1, min(h, w) // 4)
    require_int(max_shift, "max_shift", minimum=1, meaning="the largest shift component in pixels; two different "
                                                            "shifts need at least 1")
    span = 2 * max_shift + 1
    agree = torch.zeros(n, dtype=torch.long)
    errors = []
    with protected_model(module, x) as layer, torch.no_grad():
        for _ in range(pairs):
            # per image, a pair of different shifts (Zhang's protocol): a pair shared by the batch would make the
            # N outcomes one correlated trial, and a pair of equal shifts compares nothing
            a = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator)
            offset = torch.randint(1, span * span, (n,), generator=generator)  # uniform over the other shifts
            index = ((a[:, 0] + max_shift) * span + (a[:, 1] + max_shift) + offset) % (span * span)
            b = torch.stack([index // span, index % span], 1) - max_shift
            rolled_a = torch.stack([torch.roll(x[i], a[i].tolist(), (-2, -1)) for i in range(n)])
            rolled_b = torch.stack([torch.roll(x[i], b[i].tolist(), (-2, -1)) for i in range(n)])
            ya = layer(rolled_a, "f(x shifted by a)", keep=True)
            if ya.dim() != 2 or ya.shape[1] < 2 or not ya.is_floating_point():
                raise InvalidArgument(f"module returns {describe_value(ya)}; consistency needs class scores: a "
                                      f"floating (N, K) output with K ≥ 2")
            yb = layer(rolled_b, "f(x shifted by b)")
            agree += (ya.argmax(dim=1) == yb.argmax(dim=1)).cpu()
            errors.append(((ya - yb).norm(dim=1) / yb.norm(dim=1).clamp_min(1e-12)).double().cpu())
    total = int(agree.sum())
    if pairs == 1:
        interval = clopper_pearson_interval(total, n)
    else:
        interval = bootstrap_interval(agree.double() / pairs, seed=seed % 2**63)
    return {"consistency": total / (pairs * n), "consistency_ci": interval,
            "mean_relative_error": float(torch.cat(errors).mean()), "inputs": n}
