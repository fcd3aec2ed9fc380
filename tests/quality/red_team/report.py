"""Print the red-team results as a Markdown table: ``python tests/quality/red_team/report.py [--secondary]``.

Each row: the case, the mechanism it attacks, the claim, the oracle's truth, the engine's answer, right or
wrong, and for wrong answers why.  ``--secondary`` adds the other oracle judge (float64 copy vs own dtype).
"""

import importlib.util
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from red_team.cases import CASES  # noqa: E402
from red_team.harness import run_case, secondary_truth  # noqa: E402


def main(argv):
    secondary = "--secondary" in argv
    only = [a for a in argv if not a.startswith("--")]
    rows, counts, start = [], Counter(), time.perf_counter()
    print("| case | mechanism | claim | truth | engine | right | s | why |" + (" other judge |" if secondary else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|" if secondary else ""))
    for case in CASES:
        if only and not any(o in case.id for o in only):
            continue
        if case.requires and importlib.util.find_spec(case.requires) is None:
            continue
        outcome = run_case(case)
        counts[outcome.category] += 1
        why = "" if outcome.right else "; ".join(
            ([case.fools] if outcome.category not in ("state", "traceback") else []) + outcome.state_problems
            + ([outcome.message.strip().splitlines()[-1][:160]] if outcome.category == "traceback" and outcome.message
               else []))
        claim = ", ".join(case.claims)
        row = (f"| {case.id} | {case.mechanism} | `{claim}` | {outcome.truth} | {outcome.answer} | "
               f"{'yes' if outcome.right else 'NO: ' + outcome.category}"
               f"{' (known limit)' if case.known_limit and not outcome.right else ''} | {outcome.seconds:.1f} | "
               f"{why[:400].replace('|', '/')} |")
        if secondary and case.truth != "usage":
            other = secondary_truth(case)
            row += f" {other.judge}: {other.truth} ({other.max_error:.2g}) |"
        print(row, flush=True)
        rows.append(outcome)
    print()
    print(f"{len(rows)} cases in {time.perf_counter() - start:.0f} s: " + ", ".join(
        f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main(sys.argv[1:])
