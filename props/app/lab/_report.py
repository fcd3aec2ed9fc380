"""The lab's outputs: ``results.json`` (question, answer and metrics per experiment), ``report.md`` and its figures."""

from __future__ import annotations

from pathlib import Path

from ._stats import INTERVAL_METHOD, fmt
from .._json import dumps

PERCENT = ("accuracy", "worst_case", "consistency", "orbit_consistency", "claim")


def _is_percent(key: str) -> bool:
    return key.split("/")[-1].startswith(PERCENT)


def _tables(variants: dict) -> list[str]:
    """Markdown tables of mean [95% interval] per variant; metrics with a ``state/`` prefix get a table per state."""
    keys = list(next(iter(variants.values())))
    prefixes = list(dict.fromkeys(k.split("/")[0] for k in keys if "/" in k)) or [""]
    lines: list[str] = []
    for prefix in prefixes:
        chosen = [k for k in keys if (k.startswith(prefix + "/") if prefix else "/" not in k)]
        if prefix:
            lines += [f"*{prefix}*", ""]
        names = [k[len(prefix) + 1:] if prefix else k for k in chosen]
        lines.append("| variant | " + " | ".join(names) + " |")
        lines.append("|---" * (len(chosen) + 1) + "|")
        for variant, stats in variants.items():
            cells = [fmt(stats[k], _is_percent(k)) if stats[k]["n"] else "" for k in chosen]
            lines.append(f"| {variant} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def to_markdown(results: dict, settings_text: str, command: str, figures: dict[str, list[str]],
                seconds: dict[str, float]) -> str:
    lines = [
        "# The learned-invariance lab",
        "",
        "Do networks get their invariances from the architecture, from their width, or from the data? Five "
        "experiments, each measured with the suite's own checks (orbit errors, consistency, the Lie derivative, "
        "the exact worst case over an orbit). Every answer below was written by the lab from the numbers under it.",
        "",
        f"Rerun: `{command}`",
        "",
        f"Settings: {settings_text}.",
        "",
        f"Numbers: {INTERVAL_METHOD}; shown as mean [95% interval], percentages where the metric is a share.",
        "",
    ]
    for name, entry in results.items():
        lines += [f"## {name}", "", f"**Question.** {entry['question']}", "", f"**Answer.** {entry['answer']}", ""]
        for figure in figures.get(name, []):
            lines += [f"![{name}]({figure})", ""]
        lines += ["**Numbers.**", ""]
        lines += _tables(entry["metrics"]["variants"])
        definitions = entry["metrics"].get("definitions", {})
        if definitions:
            lines += ["Definitions:", ""] + [f"- `{k}`: {text}" for k, text in definitions.items()] + [""]
        if name in seconds:
            lines += [f"*{seconds[name]:.0f} s wall-clock.*", ""]
    return "\n".join(lines)


def write(out: Path, results: dict, markdown: str, figures: dict[str, bytes]) -> list[Path]:
    """Write results.json, report.md and the figures into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, png in figures.items():
        path = out / name
        path.write_bytes(png)
        written.append(path)
    path = out / "results.json"
    path.write_text(dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(path)
    path = out / "report.md"
    path.write_text(markdown, encoding="utf-8")
    written.append(path)
    return written
