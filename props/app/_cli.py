"""The ``invariances`` command (also ``python -m convnet_invariances``).

    invariances audit [TARGET] [--input-shape C,H,W] [--claim CLAIM]... [--json PATH] [--markdown PATH]
                      [--html PATH] [--seed N] [--examples N] [--device DEV] [--out DIR]
    invariances bench [--quick] [--rounds N] [--compile] [--json PATH] [--stream-224 [--max-seconds S]]

Exit status: 0 when every stated claim holds (or, without TARGET, every
registry entry behaves as its profile says); 1 when a claim is violated or
errors; 2 for usage errors (an unresolvable target, a bad shape, an unknown
claim).  User mistakes get a message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import torch

from .._audit import DEFAULT_EXAMPLES, LAYOUTS, AuditReport, audit
from .._claims import CLAIM_NAMES, Claim
from .._errors import InvalidArgument, InvarianceError
from .._version import __version__
from ._progress import progress_bar
from ._report import to_html, to_markdown, write_reports


class UsageError(Exception):
    """A mistake in the command line: exit status 2 with this message."""


def resolve_target(text):
    """``package.module:name`` or ``path/to/file.py:name`` -> an nn.Module (a class is instantiated, a factory called)."""
    if ":" not in text:
        raise UsageError(f"TARGET={text!r} must look like package.module:name or path/to/file.py:name")
    where, _, name = text.rpartition(":")
    if where.endswith(".py") or "/" in where:
        path = Path(where)
        if not path.is_file():
            raise UsageError(f"TARGET={text!r}: no file {where!r}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"TARGET={text!r}: {where} cannot be imported as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent.resolve()))
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise UsageError(f"TARGET={text!r}: importing {where} raised {type(exc).__name__}: {exc}") from None
    else:
        # `python -m` puts the current directory on sys.path and the console script does not: both should
        # find a package in the directory the user is standing in
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise UsageError(f"TARGET={text!r}: cannot import {where!r} ({exc}); is it on PYTHONPATH?") from None
        except Exception as exc:
            raise UsageError(f"TARGET={text!r}: importing {where} raised {type(exc).__name__}: {exc}") from None
    if not hasattr(module, name):
        available = sorted(n for n in dir(module) if not n.startswith("_"))[:15]
        raise UsageError(f"TARGET={text!r}: {where} has no attribute {name!r}; it has {', '.join(available)}")
    obj = getattr(module, name)
    if isinstance(obj, torch.nn.Module):
        return obj
    if isinstance(obj, type) and issubclass(obj, torch.nn.Module) or callable(obj):
        try:
            built = obj()
        except TypeError as exc:
            raise UsageError(f"TARGET={text!r}: {name}() needs arguments ({exc}); point at a zero-argument factory") from None
        except Exception as exc:
            raise UsageError(f"TARGET={text!r}: {name}() raised {type(exc).__name__}: {exc}") from None
        if not isinstance(built, torch.nn.Module):
            raise UsageError(f"TARGET={text!r}: {name}() returned {type(built).__name__}, not a torch.nn.Module")
        return built
    raise UsageError(f"TARGET={text!r}: {name} is a {type(obj).__name__}, not an nn.Module, a Module class or a factory")


def parse_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--input-shape={text!r} must be C,H,W or C,L: comma-separated positive ints") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise UsageError(f"--input-shape={text!r} must be C,H,W or C,L: comma-separated positive ints (no batch axis)")
    return shape


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _parser():
    parser = argparse.ArgumentParser(prog="invariances", description="Audit the invariances of convolutional layers.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("audit", help="audit a layer (or, without TARGET, the built-in registry)")
    run.add_argument("target", nargs="?", help="package.module:name or path/to/file.py:name (a Module, class or factory)")
    run.add_argument("--input-shape", help="C,H,W, or two numbers with --layout (no batch axis); required with TARGET")
    run.add_argument("--layout", choices=LAYOUTS, default=None,
                     help="what two numbers of --input-shape mean: CL (1-D signals) or HW (images without channels)")
    run.add_argument("--claim", action="append", default=[], help=f"claim to verify (repeatable): {', '.join(CLAIM_NAMES)}")
    run.add_argument("--json", help="write the JSON report here")
    run.add_argument("--markdown", help="write the Markdown report (and its figures) here")
    run.add_argument("--html", help="write a self-contained HTML report here")
    run.add_argument("--out", default="invariance-report", help="report folder for the registry audit (default: %(default)s)")
    run.add_argument("--seed", type=int, default=0, help="seed of the search (default: %(default)s)")
    run.add_argument("--examples", type=_positive_int, default=DEFAULT_EXAMPLES,
                     help="input batches searched per claim (default: %(default)s)")
    run.add_argument("--seconds", type=float, default=None, help="time budget of the search per claim")
    run.add_argument("--device", default=None, help="cpu, cuda, cuda:1 … (default: where the module lives)")
    bench = commands.add_parser("bench", help="print the fast-path benchmark table")
    bench.add_argument("--quick", action="store_true", help="smaller cases (seconds, for smoke tests)")
    bench.add_argument("--json", help="also write the figures as JSON here")
    bench.add_argument("--rounds", type=_positive_int, default=None,
                       help="rounds per row (default 7, ResNet 3); each round times naive, fast and bare back to back")
    bench.add_argument("--compile", action="store_true",
                       help="add the fast path under torch.compile (compiling takes minutes in all)")
    bench.add_argument("--stream-224", action="store_true",
                       help="stream all 50,176 shifts of the ResNet-18-like at 224×224 with a progress bar")
    bench.add_argument("--max-seconds", type=float, default=None, help="with --stream-224: stop early, report the projection")
    return parser


def _audit_target(args):
    if not args.input_shape:
        raise UsageError("--input-shape is required with a TARGET (e.g. --input-shape 3,32,32)")
    shape = parse_shape(args.input_shape)
    claims = [Claim.parse(c) for c in args.claim] if args.claim else None
    module = resolve_target(args.target)
    if args.device and args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device={args.device!r}: CUDA is not available on this machine")
    with progress_bar(f"auditing {args.target}") as progress:
        report = audit(module, shape, claims, layout=args.layout, examples=args.examples, seconds=args.seconds,
                       seed=args.seed, device=args.device, progress=progress, name=args.target)
    print(report.report())
    for path in write_reports(report, json_path=args.json, markdown_path=args.markdown, html_path=args.html):
        print(f"wrote {path}")
    return 0 if report.ok else 1


def _audit_registry(args):
    """Audit every registry entry against its stated profile; write the report folder."""
    from ._registry_check import ProfileMismatch, check_line

    try:
        from ..models import REGISTRY
    except ImportError:
        raise UsageError("without TARGET the audit runs on the built-in registry, but the models package is not installed") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary, mismatches = [], 0
    width = max(len(name) for name in REGISTRY)
    print(f"{'entry'.ljust(width)}  lines  agree  profile (every symmetry not listed: none)", flush=True)
    for name, entry in REGISTRY.items():
        agreements, results = [], []
        for line in entry.profile:
            try:
                results.append(check_line(entry, line, plot_dir=out / "rates"))
                agreements.append((line, True, ""))
            except (ProfileMismatch, InvarianceError) as exc:
                agreements.append((line, False, str(exc)))
                mismatches += 1
        layout = "CL" if len(entry.input_shape) == 2 else "CHW"
        report = AuditReport(name, entry.input_shape, args.seed, results, layout=layout)
        (out / f"{name}.md").write_text(to_markdown(report, figure_prefix=out / "figures" / name, relative_to=out), encoding="utf-8")
        (out / f"{name}.html").write_text(to_html(report), encoding="utf-8")
        summary.append({"entry": name, "description": entry.description, "lines": [
            {"claim": line.claim, "status": line.status, "agrees": ok, "detail": detail[:500]}
            for line, ok, detail in agreements], "audit": report.to_dict()})
        row = summary[-1]  # one line per entry as soon as it is checked: progress, also in CI logs
        agree = sum(line["agrees"] for line in row["lines"])
        claims = ", ".join(f"{line['claim']}:{line['status']}" for line in row["lines"] if line["status"] != "none")
        print(f"{name.ljust(width)}  {len(row['lines']):5d}  {agree:5d}  {claims or '(no symmetry)'}", flush=True)
    from ._registry_check import downsampling_comparison, write_downsampling_plot

    write_downsampling_plot(downsampling_comparison(), out / "rates")
    (out / "registry.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "README.md").write_text(_registry_index(summary), encoding="utf-8")
    total = sum(len(s["lines"]) for s in summary)
    print(f"\n{total - mismatches}/{total} profile lines of {len(summary)} entries agree with what the audit finds; "
          f"report written to {out}/ (README.md, one .md/.html per entry, rates/, figures/)")
    return 0 if mismatches == 0 else 1


def _registry_index(summary):
    lines = ["# Registry audit", "", "Every profile line of every entry, checked with the props engine. "
             "Rates of approximate lines are plotted in `rates/`.", "", "| entry | line | status | agrees |",
             "|---|---|---|---|"]
    for s in summary:
        for line in s["lines"]:
            lines.append(f"| [{s['entry']}]({s['entry']}.md) | `{line['claim']}` | {line['status']} | "
                         f"{'✔' if line['agrees'] else '✘ ' + line['detail'][:80]} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "bench":
            from ._bench import main as bench_main

            return bench_main(quick=args.quick, json_path=args.json, stream=args.stream_224,
                              max_seconds=args.max_seconds, rounds=args.rounds,
                              torch_compile=args.compile)
        if args.target:
            return _audit_target(args)
        return _audit_registry(args)
    except (UsageError, InvalidArgument) as exc:
        print(f"invariances: error: {exc}", file=sys.stderr)
        return 2
