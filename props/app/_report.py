"""Reports: JSON (stable schema), Markdown with PNG figures beside it, self-contained HTML.

JSON schema (stable; documented in the README)::

    {"target": str, "input_shape": [int, ...], "seed": int,
     "claims": [{"claim": str, "verdict": str, "max_error": float, "tolerance": float,
                 "subgroup": int | null, "margin": int | null,
                 "counterexample": {"group_element": str, "input_shape": [int, ...],
                                    "nonzero_inputs": int, "reproduce": str} | null}],
     "metrics": {...}  # only for classifiers: consistency, mean_relative_error, inputs}
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

from ._plots import figure_for

SCHEMA_KEYS = ("target", "input_shape", "seed", "claims")
CLAIM_KEYS = ("claim", "verdict", "max_error", "tolerance", "subgroup", "margin", "counterexample")


def to_json(report):
    """The report as a JSON string with the documented schema."""
    return json.dumps(report.to_dict(), indent=2)


def to_markdown(report, figure_prefix=None, relative_to=None):
    """Markdown: summary table, then one section per claim.

    Figures are written as ``{figure_prefix}-{i}.png`` and linked relative to
    ``relative_to`` (the folder the Markdown file will live in).
    """
    lines = [f"# Invariance audit: `{report.target}`", "", f"Input shape {tuple(report.input_shape)}, seed {report.seed}.", "",
             "| claim | verdict | max error | tolerance | detail |", "|---|---|---|---|---|"]
    for r in report.results:
        detail = (f"stride {r.subgroup}" if r.subgroup else f"margin {r.margin}" if r.margin else
                  f"relative error {r.relative_error:.3g}" if r.verdict == "approximate" else
                  f"at `{r.counterexample['group_element']}`" if r.counterexample else "")
        lines.append(f"| `{r.claim}` | **{r.verdict}** | {r.max_error:.3g} | {r.tolerance:.3g} | {detail} |")
    for index, r in enumerate(report.results):
        lines += ["", f"## `{r.claim}` — {r.verdict}", ""]
        if figure_prefix is not None:
            png = figure_for(r)
            if png:
                path = Path(f"{figure_prefix}-{index}.png")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(png)
                link = os.path.relpath(path, relative_to) if relative_to is not None else path.name
                lines += [f"![{r.claim}]({Path(link).as_posix()})", ""]
        if r.counterexample:
            lines += ["Minimal counterexample:", "", "```", r.counterexample["reproduce"], "```", ""]
        if r.message:
            lines += ["```", r.message, "```"]
    if report.metrics:
        lines += ["", "## Classifier metrics", ""] + [f"- {k}: {v}" for k, v in report.metrics.items()]
    return "\n".join(lines) + "\n"


def to_html(report):
    """A self-contained HTML page: the same content as the Markdown, figures inlined as base64 PNGs."""
    rows = "".join(
        f"<tr><td><code>{html.escape(r.claim)}</code></td><td class='{r.verdict}'>{r.verdict}</td>"
        f"<td>{r.max_error:.3g}</td><td>{r.tolerance:.3g}</td></tr>" for r in report.results)
    sections = []
    for r in report.results:
        png = figure_for(r)
        image = f"<img alt='{html.escape(r.claim)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>" if png else ""
        evidence = f"<pre>{html.escape(r.message)}</pre>" if r.message else ""
        sections.append(f"<h2><code>{html.escape(r.claim)}</code> — {r.verdict}</h2>{image}{evidence}")
    metrics = "".join(f"<li>{html.escape(k)}: {v}</li>" for k, v in report.metrics.items())
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Invariance audit</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;border-bottom:1px solid #ddd}"
        ".holds,.subgroup,.interior{color:#070}.violated,.error{color:#b00}.approximate{color:#a60}pre{background:#f6f6f6;"
        "padding:.5em;overflow:auto}</style></head><body>"
        f"<h1>Invariance audit: <code>{html.escape(report.target)}</code></h1>"
        f"<p>Input shape {tuple(report.input_shape)}, seed {report.seed}.</p>"
        f"<table><tr><th>claim</th><th>verdict</th><th>max error</th><th>tolerance</th></tr>{rows}</table>"
        + "".join(sections) + (f"<h2>Classifier metrics</h2><ul>{metrics}</ul>" if metrics else "") + "</body></html>"
    )


def write_reports(report, *, json_path=None, markdown_path=None, html_path=None):
    """Write whichever reports were asked for; returns the paths written."""
    written = []
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(to_json(report), encoding="utf-8")
        written.append(str(json_path))
    if markdown_path:
        path = Path(markdown_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(report, figure_prefix=path.with_suffix(""), relative_to=path.parent),
                        encoding="utf-8")
        written.append(str(path))
    if html_path:
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        Path(html_path).write_text(to_html(report), encoding="utf-8")
        written.append(str(html_path))
    return written
