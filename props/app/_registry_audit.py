"""The main job: audit every registry entry against its stated profile and write the report folder.

``out/`` receives ``README.md`` and ``index.html`` (the summary first: how many
lines agree, how many of each status, what took longest; the vocabulary
explained once; then one row per entry), one Markdown and one HTML report per
entry (every line, approximate ones with their rate plot), ``rates/`` (the
approximate lines' plots, fitted against expected slopes, and the BlurPool
comparison), ``figures/`` and ``registry.json``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._audit import AuditReport, ClaimResult
from .._errors import InvarianceError
from .._vocabulary import STATUS_MEANINGS, VERDICT_MEANINGS
from ._plots import plots_available
from ._registry_check import (
    EXPECTED_SLOPE,
    ProfileMismatch,
    check_line,
    downsampling_comparison,
    slope_words,
    write_downsampling_plot,
)
from ._report import FIGURES_LEFT_OUT, TEMPLATES, to_html, to_markdown
from ._json import dumps

#: how a line is judged to agree, per status (said once in the index)
AGREEMENT = {
    "exact": "the audit's search finds no violation (or a certificate proves the claim)",
    "subgroup": "the claim holds on shifts in sZ^d, and a shift by one pixel breaks it",
    "interior": "the claim holds at the stated margin, and one pixel closer to the border breaks it",
    "approximate": "the error falls along the sweep with a fitted log-log slope below -1/2",
    "none": "the audit finds a counterexample — a violation; an error never counts",
}

@dataclass
class EntryRow:
    name: str
    description: str
    lines: list  # dicts: claim, status, agrees, detail
    seconds: float
    rate_plots: list = field(default_factory=list)  # dicts: claim, path (relative to out/), words

    @property
    def agreeing(self) -> int:
        return sum(line["agrees"] for line in self.lines)

    @property
    def stated(self) -> str:
        shown = [f"{line['claim']} ({line['status']})" for line in self.lines if line["status"] != "none"]
        return ", ".join(shown) or "no symmetry (every line: none)"


def audit_registry(registry: dict, out: Path, *, seed: int = 0,
                   on_entry: Callable[[EntryRow], None] | None = None) -> tuple[int, int]:
    """Check every line of every entry, write the report folder; returns (agreeing lines, lines)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, entry in registry.items():
        start = time.perf_counter()
        lines, results = [], []
        for line in entry.profile:
            try:
                result = check_line(entry, line, plot_dir=out / "rates")
                lines.append({"claim": line.claim, "status": line.status, "verdict": result.verdict, "agrees": True,
                              "detail": ""})
            except (ProfileMismatch, InvarianceError) as exc:
                result = ClaimResult(line.claim, "error", message=str(exc))
                lines.append({"claim": line.claim, "status": line.status, "verdict": "error", "agrees": False,
                              "detail": str(exc)})
            results.append(result)
        plots = []
        for line, result in zip(entry.profile, results):
            path = f"rates/{entry.name}-{line.symmetry}{'-zero' if line.boundary == 'zero' else ''}.png"
            if line.status == "approximate" and (out / path).exists():
                sweep = result.searched or {}
                words = slope_words(sweep["fitted_slope"]) if "fitted_slope" in sweep else result.message
                plots.append({"claim": line.claim, "path": path, "words": words})
        row = EntryRow(name, entry.description, lines, time.perf_counter() - start, plots)
        # stated=False: an entry states a profile (none lines included), which the profile table compares
        report = AuditReport(name, entry.input_shape, seed, results, stated=False,
                             layout="CL" if len(entry.input_shape) == 2 else "CHW")
        _write_entry(out, report, row)
        rows.append(row)
        if on_entry is not None:
            on_entry(row)
    comparison = downsampling_comparison()
    blurpool = write_downsampling_plot(comparison, out / "rates")
    rates = [(row.name, plot["claim"], plot["path"], plot["words"]) for row in rows for plot in row.rate_plots]
    total = sum(len(row.lines) for row in rows)
    agreeing = sum(row.agreeing for row in rows)
    context = _index_context(rows, rates, blurpool, comparison, agreeing, total)
    (out / "README.md").write_text(TEMPLATES.get_template("registry.md.j2").render(**context), encoding="utf-8")
    html = context | {"images": {path: _inline(out / path) for _, _, path, _ in rates} |
                      ({"rates/resnet18-blurpool-vs-baselines.png": _inline(blurpool)} if blurpool else {})}
    (out / "index.html").write_text(TEMPLATES.get_template("registry.html.j2").render(**html), encoding="utf-8")
    (out / "registry.json").write_text(dumps([{"entry": row.name, "description": row.description,
                                                    "seconds": round(row.seconds, 2), "lines": row.lines}
                                                   for row in rows], indent=2), encoding="utf-8")
    return agreeing, total


def _write_entry(out, report, row):
    profile = [(line["claim"], line["status"], line["verdict"], line["agrees"],
                line["detail"].splitlines()[0] if line["detail"] else "") for line in row.lines]
    markdown = to_markdown(report, figure_prefix=out / "figures" / row.name, relative_to=out, profile=profile,
                           rates=[(p["claim"], p["path"], p["words"]) for p in row.rate_plots])
    html = to_html(report, profile=profile,
                   rates=[(p["claim"], _inline(out / p["path"]), p["words"]) for p in row.rate_plots])
    (out / f"{row.name}.md").write_text(markdown, encoding="utf-8")
    (out / f"{row.name}.html").write_text(html, encoding="utf-8")


def _inline(path):
    return base64.b64encode(Path(path).read_bytes()).decode() if path and Path(path).exists() else ""


def _index_context(rows, rates, blurpool, comparison, agreeing, total):
    statuses: dict[str, list] = {}
    for row in rows:
        for line in row.lines:
            counts = statuses.setdefault(line["status"], [0, 0])
            counts[0] += 1
            counts[1] += line["agrees"]
    slowest = sorted(rows, key=lambda r: -r.seconds)[:3]
    errors = comparison["errors"]
    sides = comparison["sides"]
    return {
        "rows": rows, "agreeing": agreeing, "total": total, "entries": len(rows),
        "statuses": [(s, statuses[s][0], statuses[s][1], STATUS_MEANINGS[s], AGREEMENT[s])
                     for s in STATUS_MEANINGS if s in statuses],
        "verdicts": [(v, VERDICT_MEANINGS[v]) for v in VERDICT_MEANINGS
                     if any(line["verdict"] == v for row in rows for line in row.lines)],
        "slowest": [(r.name, f"{r.seconds:.1f}") for r in slowest],
        "seconds": f"{sum(r.seconds for r in rows):.0f}",
        "rates": rates, "expected_slope": f"{EXPECTED_SLOPE:.0f}",
        "blurpool": "rates/resnet18-blurpool-vs-baselines.png" if blurpool else None,
        "blurpool_table": [(name, [f"{e:.3g}" for e in values]) for name, values in errors.items()],
        "sides": sides, "figures_note": "" if plots_available() else FIGURES_LEFT_OUT,
    }
