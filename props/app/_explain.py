"""``invariances explain``: the static verdict per claim, with its reasons, and the input sizes it holds for."""

from __future__ import annotations

from pathlib import Path

from .._static import certify_static
from .._vocabulary import Claim
from ._json import dumps


def parse_sizes(text: str) -> range:
    """``LO:HI`` (both included) as a range of side lengths.

    >>> parse_sizes("8:12")
    range(8, 13)
    """
    low, sep, high = text.partition(":")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        lo = hi = 0
    if not sep or lo < 1 or hi < lo:
        raise ValueError(f"--sizes={text!r} must be LO:HI, two positive ints with LO ≤ HI (e.g. 8:33)")
    return range(lo, hi + 1)


def explain(module, shape, claims, *, name, sizes=None, json_path=None) -> tuple[str, int, list]:
    """(the text to print, the exit status, the paths written): 0 when every stated claim is certified."""
    parsed = [Claim.parse(c) for c in claims] if claims else None
    report = certify_static(module, shape, parsed, sizes=sizes, name=name)
    written = []
    if json_path:
        Path(json_path).write_text(dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        written.append(str(json_path))
    ok = not parsed or all(v.certified for v in report.verdicts)
    return report.text() + "\n", 0 if ok else 1, written
