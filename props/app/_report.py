"""Reports: JSON (stable schema), Markdown with PNG figures beside it, self-contained HTML, and the terminal.

Every format renders the same :mod:`._view` of an audit, so numbers, words and
reproductions agree everywhere.  Figures need matplotlib (the ``plots``
extra); without it every number is still there and the report says which
figures were left out and how to get them.

JSON schema (stable: keys are only ever added; documented in the README)::

    {"target": str, "input_shape": [int, ...], "seed": int,
     "claims": [{"claim": str, "verdict": str, "max_error": float, "tolerance": float,
                 "subgroup": int | null, "margin": int | null,
                 "counterexample": {"group_element": str, "input_shape": [int, ...], "nonzero_inputs": int,
                                    "reproduce": str, "max_error": float, "relative_error": float,
                                    "tolerance": float, "found_on": str, "check": str,
                                    "input": [[[int, ...], float], ...] | null} | null,
                 "relative_error": float, "largest": {...} | null, "searched": {...}, "message": str,
                 "notes": [str, ...],
                 "culprit": {"layer": str, "verdict": str, "max_error": float} | null}],
     "layout": str, "notes": [str, ...],
     "stated": bool,  # false: no claims were given, the profile was inferred from the catalogue
     "metrics": {"consistency": float, "consistency_ci": [float, float], "mean_relative_error": float,
                 "inputs": int}  # only with classifier=True (consistency_ci: 95% Clopper–Pearson interval)}

A non-finite float (an error or tolerance that is infinite) is written as the string "inf", "-inf" or "nan":
the file is always valid JSON.
"""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import jinja2
from rich.console import Console
from rich.table import Table

from .._audit import AuditReport
from .._reproduction import reproduction_heading
from ._plots import figure_for, plots_available
from ._view import number, report_view
from ._json import dumps

#: what a report says when matplotlib is missing
FIGURES_LEFT_OUT = ("The figures of this report were left out: matplotlib is not installed. Install the plots "
                    "extra (pip install 'convnet-invariances[plots]') and run the audit again to get them.")

TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("convnet_invariances.app", "templates"),
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                               autoescape=jinja2.select_autoescape(["html"]))
# jinja's `capitalize` lowercases the rest ("sZ^d" -> "sz^d"): sentences only raise their first letter
TEMPLATES.filters["sentence"] = lambda text: str(text)[:1].upper() + str(text)[1:]


# What a report quotes (a layer's error message, a note) is the user's text: it must not close a code fence,
# end a table row or a block quote, and so write Markdown of its own (a heading saying "certified").
def _fence(text) -> str:
    """A code fence longer than any run of backticks in ``text`` (CommonMark closes a fence only with a run at
    least as long as the one that opened it)."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    return "`" * max(3, longest + 1)


def _printable(text: str) -> str:
    """``text`` with what UTF-8 cannot encode (a lone surrogate: a layer's message quoting a file name that was
    not UTF-8) written as a backslash escape, so that printing or writing a report never fails on it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


TEMPLATES.filters["fence"] = _fence
TEMPLATES.filters["cell"] = lambda text: " ".join(str(text).split("\n")).replace("|", "\\|")  # one table cell
TEMPLATES.filters["quote"] = lambda text: "\n".join("> " + line for line in str(text).split("\n"))  # a block quote


def to_json(report: AuditReport) -> str:
    """The report as a JSON string with the documented schema.

    >>> import json, torch, convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"], examples=2)
    >>> json.loads(to_json(report))["claims"][0]["verdict"]
    'certified'
    """
    return dumps(report.to_dict(), indent=2)


def to_markdown(report: AuditReport, figure_prefix: str | os.PathLike | None = None,
                relative_to: str | os.PathLike | None = None, *, profile=None, rates=None) -> str:
    """Markdown: the summary and table, the vocabulary, then one section per claim with its evidence.

    Figures are written as ``{figure_prefix}-{i}.png`` and linked relative to ``relative_to`` (the folder the
    Markdown file will live in); without ``figure_prefix`` no figure is written or linked.  A registry entry's
    page adds its ``profile`` ((claim, stated status, verdict, agrees, detail) rows) and ``rates`` ((claim,
    image path, the fitted rate in words) for its approximate lines).

    >>> import torch, convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"], examples=2)
    >>> to_markdown(report).splitlines()[0]
    '# Invariance audit: `AdaptiveAvgPool2d`'
    """
    figures: list[str | None] = []
    for index, result in enumerate(report.results):
        png = figure_for(result) if figure_prefix is not None else None
        if png is None:
            figures.append(None)
            continue
        path = Path(f"{figure_prefix}-{index}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        link = os.path.relpath(path, relative_to) if relative_to is not None else path.name
        figures.append(Path(link).as_posix())
    note = FIGURES_LEFT_OUT if figure_prefix is not None and not plots_available() else ""
    return TEMPLATES.get_template("report.md.j2").render(v=report_view(report), figures=figures,
                                                          figures_note=note, number=number, profile=profile or [],
                                                          rates=rates or [])


def to_html(report: AuditReport, *, profile=None, rates=None) -> str:
    """A self-contained HTML page: the same content as the Markdown, figures inlined as base64 PNGs (``rates``:
    (claim, base64 PNG, words) rows).

    >>> import torch, convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"], examples=2)
    >>> "<td class=\\"verdict kept\\">certified</td>" in to_html(report)
    True
    """
    figures: list[str | None] = []
    for result in report.results:
        png = figure_for(result)
        figures.append(base64.b64encode(png).decode() if png else None)
    note = "" if plots_available() else FIGURES_LEFT_OUT
    return TEMPLATES.get_template("report.html.j2").render(v=report_view(report), figures=figures,
                                                            figures_note=note, number=number, profile=profile or [],
                                                            rates=rates or [])


def write_reports(report: AuditReport, *, json_path=None, markdown_path=None, html_path=None) -> list[str]:
    """Write whichever reports were asked for (their folders are created); returns the paths written.

    >>> import tempfile, torch, convnet_invariances as ci
    >>> from pathlib import Path
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"], examples=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [Path(p).name for p in write_reports(report, json_path=Path(folder) / "r.json")]
    ['r.json']
    """
    written = []
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(to_json(report), encoding="utf-8")
        written.append(str(json_path))
    if markdown_path:
        path = Path(markdown_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_printable(to_markdown(report, figure_prefix=path.with_suffix(""), relative_to=path.parent)),
                        encoding="utf-8")
        written.append(str(path))
    if html_path:
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        Path(html_path).write_text(_printable(to_html(report)), encoding="utf-8")
        written.append(str(html_path))
    return written


def to_terminal(report: AuditReport, *, verbose: bool = False, width: int = 100) -> str:
    """What the command line prints.

    Stated claims: the summary, one table of every claim, and for each claim not kept its counterexample and
    reproduction.  An inferred profile (no claims stated) is concise: the table holds what the layer keeps
    (and any approximate or erroring claim); the catalogue claims it breaks are one line.  ``verbose`` prints
    every claim in full: what was searched, the counterexample with its reproduction, the evidence.

    >>> import torch, convnet_invariances as ci
    >>> report = ci.audit(torch.nn.AdaptiveAvgPool2d(1), (1, 4, 4), ["translation-invariant"], examples=2)
    >>> print(to_terminal(report).splitlines()[0])
    AdaptiveAvgPool2d — input 1 × 4 × 4 (CHW), seed 0: 1 claim(s): 1 kept — every stated claim is kept
    """
    view = report_view(report)
    # prose is never wrapped (a sentence stays one line for grep and copy); the table is laid out in ``width``
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None, markup=False,
                      highlight=False, soft_wrap=True)
    inferred = not report.stated
    heading = f"{view.target} — input {view.input_shape} ({view.layout}), seed {view.seed}: "
    console.print(heading + view.summary)
    tabled = view.claims if (verbose or not inferred) else [c for c in view.claims if c.kind != "violated"]
    hidden = [c for c in view.claims if c not in tabled]
    if tabled:
        # claim names carry brackets ("[stride=2]"): no markup, no highlighting, plain text out
        table = Table(show_edge=False, pad_edge=False, header_style="bold")
        for header in ("claim", "verdict", "largest error", "relative", "where", "tolerance"):
            table.add_column(header, no_wrap=True)
        for claim in tabled:
            table.add_row(claim.claim, claim.verdict, claim.error, claim.relative, claim.where, claim.tolerance)
        # one line per claim, never folded (grep finds a claim with its verdict): wider than ``width`` if need be
        console.width = max(width, console.measure(table, options=console.options.update(max_width=10_000)).maximum)
        console.print(table, soft_wrap=False)
        console.width = width
    if hidden:
        console.print(f"not kept (violated): {', '.join(c.claim for c in hidden)}")
    for verdict, meaning in view.legend:
        if verbose or any(c.verdict == verdict for c in tabled):
            console.print(f"  {verdict}: {meaning}")
    for claim in view.claims:
        full = verbose or (claim.kind in ("violated", "error") and not inferred)
        if not full:
            if claim in tabled and claim.detail:
                console.print(f"{claim.claim}: {claim.detail}")
            if not inferred and claim.searched and claim.verdict in ("holds", "subgroup", "interior", "approximate"):
                # a verdict that rests on a search never comes without what was searched
                console.print(f"{claim.claim}: searched {claim.searched}")
            continue
        console.print(f"\n{claim.claim}: {claim.verdict}" + (f" — {claim.detail}" if claim.detail and
                                                            not claim.counterexample else ""))
        if verbose and claim.searched:
            console.print(f"  searched: {claim.searched}")
        if claim.counterexample:
            example = claim.counterexample
            console.print(f"  counterexample at {example['group_element']}: error {number(example['max_error'])} "
                          f"(relative {number(example['relative_error'])}, tolerance {number(example['tolerance'])}), "
                          f"found on {example['found_on']}")
            if claim.culprit:
                console.print(f"  first layer that breaks it: {claim.culprit['layer']} (max error "
                              f"{number(claim.culprit['max_error'])} on the activations it receives)")
            console.print(f"  {reproduction_heading(example['reproduce'])}")
            for line in example["reproduce"].splitlines():
                console.print(f"    {line}")
        elif claim.evidence and claim.evidence.strip() != claim.detail.strip():
            console.print("  " + claim.evidence.replace("\n", "\n  "))
        if verbose and claim.counterexample and claim.evidence:
            console.print("  " + claim.evidence.replace("\n", "\n  "))
        for note in claim.notes:
            console.print(f"  note: {note}")
    for note in view.notes:
        console.print(f"note: {note}")
    for sentence in view.metrics_text:
        console.print(sentence)
    if not verbose:
        console.print("\n(--verbose: what was searched for every claim, counterexamples with their reproductions, "
                      "and the full evidence)")
    return _printable(console.export_text().rstrip() + "\n")
