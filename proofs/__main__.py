"""``python -m proofs``: check every step of every theorem and write the rendered documents.

``python -m proofs --check`` only verifies that the committed documents are
fresh (what CI's test does); the exit status is non-zero on any failed step.
"""

import argparse
import sys
import time
from pathlib import Path

from . import THEOREMS, check_theorem, rendered_documents

OUTPUT = Path(__file__).resolve().parent / "rendered"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m proofs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed rendering is stale; write nothing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    failures = 0
    for number, module in enumerate(THEOREMS, start=1):
        results = check_theorem(module)
        bad = [n for n, _, ok in results if not ok]
        failures += len(bad)
        title = (module.__doc__ or "").strip().splitlines()[0]
        print(f"{'ok  ' if not bad else 'FAIL'} {title}: {len(results)} steps" + (f", failed: {bad}" if bad else ""))
    documents = rendered_documents()
    stale = [name for name, text in documents.items()
             if not (OUTPUT / name).exists() or (OUTPUT / name).read_text(encoding="utf-8") != text]
    if args.check:
        if stale:
            print(f"stale rendering: {', '.join(stale)} — run `python -m proofs` and commit proofs/rendered/")
    else:
        OUTPUT.mkdir(exist_ok=True)
        for name, text in documents.items():
            (OUTPUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(documents)} documents to {OUTPUT}")
    print(f"{failures} failed step(s), {time.perf_counter() - start:.1f} s")
    return 1 if failures or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
