"""``python -m convnet_invariances.proofs``: check every theorem and write the documents.

``--out DIR`` writes there; without it the documents go to ``rendered/`` next
to the package when the package sits in a source checkout (``pyproject.toml``
two levels up), and an installed package only checks. ``--check`` writes
nothing and fails when the documents in the output folder are stale. The exit
status is non-zero when any theorem fails its check.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import check, rendered_documents, scope_summary, theorems

PACKAGE = Path(__file__).resolve().parent


def default_output() -> Path | None:
    """``rendered/`` beside the package in a source checkout, else None (installed: nothing to write by default)."""
    return PACKAGE / "rendered" if (PACKAGE.parent / "pyproject.toml").exists() else None


def stale_documents(documents: dict, folder: Path) -> list:
    """The names whose file in ``folder`` is missing or differs from ``documents``."""
    return [name for name, text in documents.items()
            if not (folder / name).exists() or (folder / name).read_text(encoding="utf-8") != text]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convnet_invariances.proofs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="folder for the rendered documents")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if the documents are stale")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    failures = steps = 0
    verdicts = []
    for theorem in theorems():
        verdict = check(theorem)
        verdicts.append(verdict)
        steps += verdict.steps
        scope = scope_summary(theorem)
        if verdict.ok:
            print(f"ok   Theorem {theorem.number:2d} ({scope}): {verdict.steps} steps"
                  + (f", {verdict.cases} cases" if verdict.cases else ""))
        else:
            failures += 1
            print(f"FAIL Theorem {theorem.number:2d}: {theorem.title}")
            for error in verdict.errors:
                print(f"       {error}")
    folder = args.out if args.out is not None else default_output()
    stale = []
    if folder is None:
        print("installed package: checked only (pass --out DIR to write the documents)")
    else:
        documents = rendered_documents(verdicts=verdicts)
        stale = stale_documents(documents, folder)
        if args.check:
            if stale:
                print(f"stale documents in {folder}: {', '.join(stale)} — run `python -m convnet_invariances.proofs` and commit them")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in documents.items():
                (folder / name).write_text(text, encoding="utf-8")
            print(f"wrote {len(documents)} documents to {folder}")
            stale = []
    print(f"{len(verdicts)} theorems, {steps} checked steps, {failures} failed, "
          f"{time.perf_counter() - start:.1f} s")
    return 1 if failures or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
