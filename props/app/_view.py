"""What a report shows, computed once for every format: the terminal, Markdown, HTML and JSON read the same
numbers, words and reproductions from here, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._audit import AuditReport, ClaimResult
from .._reproduction import reproduction_heading
from .._vocabulary import KEPT, VERDICT_MEANINGS

#: the order in which verdicts are explained, and the kind of each (for colours and counts)
VERDICT_KIND = {"certified": "kept", "holds": "kept", "subgroup": "kept", "interior": "kept",
                "approximate": "approximate", "violated": "violated", "error": "error", "unknown": "unknown",
                "inapplicable": "inapplicable"}


def number(value: float | None) -> str:
    """A number as reports print it: three significant digits, never cut."""
    if value is None:
        return "—"
    return "0" if value == 0 else f"{value:.3g}"


@dataclass
class ClaimView:
    claim: str
    verdict: str
    kind: str
    meaning: str
    largest: str  # "3.2e-05 (relative 1.1e-06) at shift(0, 1)"
    tolerance: str
    detail: str
    searched: str
    counterexample: dict | None
    evidence: str
    notes: list = field(default_factory=list)
    error: str = "—"  # the largest error alone, its relative size and where it sits (for tables with columns)
    relative: str = "—"
    where: str = "—"
    input_words: str = ""  # "an input with 3 non-zero values"
    reproduce_words: str = ""  # "This runs as printed and raises the violation"
    culprit: dict | None = None  # the first layer that breaks a violated claim


def _input_words(nonzero: int) -> str:
    return "an all-zero input" if nonzero == 0 else f"an input with {nonzero} non-zero value" + \
        ("s" if nonzero != 1 else "")


def claim_view(result: ClaimResult) -> ClaimView:
    largest = result.largest or {}
    at = largest.get("group_element")
    error, relative, where = "—", "—", at or "—"
    if result.verdict in ("certified",):
        shown = "— (proved)"
        error, where = "— (proved)", "—"
    elif not largest and result.verdict == "approximate" and "values" in (result.searched or {}):
        sweep = result.searched
        shown = f"relative {number(result.relative_error)} at {sweep['parameter']} {sweep['values'][-1]}"
        relative, where = number(result.relative_error), f"{sweep['parameter']} {sweep['values'][-1]}"
    elif not largest:
        shown = "— (not comparable)" if result.verdict == "violated" else "—"
        error = shown
    else:
        error, relative = number(result.max_error), number(result.relative_error)
        shown = f"{number(result.max_error)} (relative {number(result.relative_error)})" + (f" at {at}" if at else "")
    detail = {"subgroup": f"on shifts in {result.subgroup}Z^d", "interior": f"at distance ≥ {result.margin} from the "
              f"output border" + (f", shifts in {result.subgroup}Z^d" if result.subgroup else "")}.get(result.verdict, "")
    if result.verdict == "violated" and result.counterexample:
        example = result.counterexample
        detail = (f"counterexample at {example['group_element']}: error {number(example.get('max_error'))} "
                  f"(relative {number(example.get('relative_error'))}) on {_input_words(example['nonzero_inputs'])}")
    elif result.verdict == "violated":
        detail = result.message.splitlines()[0] if result.message else ""
    if result.verdict == "violated" and result.culprit:
        detail += f"; first broken at `{result.culprit['layer']}` (error {number(result.culprit['max_error'])})"
    elif result.verdict in ("error", "approximate") and result.message:
        detail = result.message.splitlines()[0]
    return ClaimView(result.claim, result.verdict, VERDICT_KIND.get(result.verdict, "unknown"),
                     VERDICT_MEANINGS.get(result.verdict, ""), shown,
                     "—" if result.verdict == "certified" or not largest else number(result.tolerance), detail,
                     result.searched_summary, result.counterexample, result.message, list(result.notes),
                     error, relative, where,
                     _input_words(result.counterexample["nonzero_inputs"]) if result.counterexample else "",
                     _reproduce_words(result.counterexample["reproduce"]) if result.counterexample else "",
                     result.culprit)


def _reproduce_words(snippet: str) -> str:
    if "runs as printed" in reproduction_heading(snippet):
        return "This runs as printed and raises the violation"
    return "Put the layer in where the snippet says; then it runs and raises the violation"


@dataclass
class ReportView:
    target: str
    input_shape: str
    seed: int
    layout: str
    claims: list
    summary: str
    legend: list  # (verdict, meaning) for the verdicts present, in a fixed order
    metrics: dict
    notes: list
    metrics_text: list = field(default_factory=list)  # the classifier measures as sentences


def metrics_sentences(metrics: dict) -> list[str]:
    """The classifier measures in words: what was measured, on what, and the figure."""
    if not metrics:
        return []
    inputs = metrics.get("inputs")
    return [f"consistency: {metrics['consistency']:.1%} of {inputs} smooth random images keep their predicted class "
            f"between two different random circular shifts (Zhang 2019)"
            + (f"; 95% interval {metrics['consistency_ci'][0]:.1%} to {metrics['consistency_ci'][1]:.1%}"
               if "consistency_ci" in metrics else ""),
            f"mean relative change of the scores between the two shifts: {number(metrics['mean_relative_error'])}"]


def report_view(report: AuditReport) -> ReportView:
    claims = [claim_view(r) for r in report.results]
    counts: dict[str, int] = {}
    for view in claims:
        counts[view.kind] = counts.get(view.kind, 0) + 1
    parts = [f"{counts[k]} {word}" for k, word in (("kept", "kept"), ("approximate", "approximate"),
                                                  ("violated", "violated"), ("error", "error"),
                                                  ("unknown", "unknown"), ("inapplicable", "inapplicable"))
             if counts.get(k)]
    present = [v for v in VERDICT_KIND if any(c.verdict == v for c in claims)]
    summary = f"{len(claims)} claim(s): " + ", ".join(parts) if claims else "no claims"
    if report.stated:
        summary += " — every stated claim is kept" if report.ok else " — some stated claims are not kept"
    else:  # nothing was claimed: a violated line is a finding about the layer, not a failed claim
        summary = "profile inferred from the catalogue, " + summary
    return ReportView(report.target, " × ".join(map(str, report.input_shape)), report.seed, report.layout, claims,
                      summary, [(v, VERDICT_MEANINGS[v]) for v in present], dict(report.metrics), list(report.notes),
                      metrics_sentences(report.metrics))


def kept(verdict: str) -> bool:
    return verdict in KEPT
