"""The ``invariances`` command (also ``python -m convnet_invariances``).

    invariances audit [TARGET --input-shape C,H,W [--layout CL|HW] [--claim CLAIM]...]
                      [--json PATH] [--markdown PATH] [--html PATH] [--out DIR]
                      [--seed N] [--examples N] [--seconds S] [--device DEV] [--verbose]
    invariances explain TARGET --input-shape C,H,W [--claim CLAIM]... [--json PATH] [--sizes LO:HI]
    invariances bench [--quick] [--rounds N] [--compile] [--json PATH] [--device DEV] [--stream-224 [--max-seconds S] [--model resnet50]]
    invariances lab [--quick] [--out DIR] [--seeds N] [--only EXPERIMENT]... [--jobs N]
    invariances --version

Exit status: 0 when every stated claim is kept (or, without TARGET, every
registry entry behaves as its profile says); 1 when a claim is violated or
errors; 2 for usage errors (an unresolvable target, a bad shape, an unknown
claim, a bad option value).  User mistakes get a message, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from .._audit import DEFAULT_EXAMPLES, LAYOUTS, audit
from .._claims import CLAIM_NAMES, Claim
from .._errors import InvalidArgument
from .._targets import resolve_target
from .._version import __version__
from ._measure import add_parser as add_measure_parser
from ._measure import run as run_measure
from ._progress import progress_bar
from ._registry_audit import audit_registry
from ._report import to_terminal, write_reports


#: where the registry audit writes its report folder unless --out says otherwise
REGISTRY_FOLDER = "invariance-report"
#: where the lab writes its report unless --out says otherwise
LAB_FOLDER = "lab-report"


class UsageError(Exception):
    """A mistake in the command line: exit status 2 with this message.

    >>> main(["audit", "torch.nn:Identity"])  # no --input-shape: a usage error, printed, exit status 2
    2
    """


def parse_shape(text):
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--input-shape={text!r} must be C,H,W (or two numbers with --layout): comma-separated "
                         f"positive ints") from None
    if len(shape) not in (2, 3) or any(n < 1 for n in shape):
        raise UsageError(f"--input-shape={text!r} must be C,H,W (or two numbers with --layout): comma-separated "
                         f"positive ints, no batch axis")
    return shape


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive integer")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} must be an integer in [0, 2**63)")
    return value


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _device(text):
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"{text!r}: CUDA is not available on this machine")
    if device.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"{text!r}: the audit runs on cpu or cuda devices")
    return device


def _writable(text):
    """An output path whose folder exists or can be created, checked before the audit spends its minutes."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    existing = path.parent.resolve()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written: {existing} is not a writable folder")
    return text


def _folder(text):
    """An output folder that exists or can be created."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file; give a folder")
    return _writable(str(path / "README.md")) and text


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
    run.add_argument("--json", type=_writable, help="write the JSON report here")
    run.add_argument("--markdown", type=_writable, help="write the Markdown report (and its figures) here")
    run.add_argument("--html", type=_writable, help="write a self-contained HTML report here")
    run.add_argument("--classifier", action="store_true",
                     help="the output is class scores (N, K): also measure how often the predicted class survives a "
                          "shift")
    run.add_argument("--out", type=_folder, default=None,
                     help=f"report folder for the registry audit (default: {REGISTRY_FOLDER})")
    run.add_argument("--seed", type=_seed, default=0, help="seed of the search (default: %(default)s)")
    run.add_argument("--examples", type=_positive_int, default=DEFAULT_EXAMPLES,
                     help="input batches searched per claim (default: %(default)s)")
    run.add_argument("--seconds", type=_positive_seconds, default=None, help="time budget of the search per claim")
    run.add_argument("--device", type=_device, default=None, help="cpu, cuda, cuda:1 … (default: where the module lives)")
    run.add_argument("--verbose", action="store_true",
                     help="print what was searched for every claim, counterexamples and the full evidence")
    explain = commands.add_parser("explain", help="the static verdict per claim, proved from the graph, with its "
                                                  "reasons (no data is run)")
    explain.add_argument("target", help="package.module:name or path/to/file.py:name (a Module, class or factory)")
    explain.add_argument("--input-shape", required=True, help="C,H,W (or C,L for 1-D signals), no batch axis")
    explain.add_argument("--claim", action="append", default=[],
                         help="claim to explain (repeatable; default: translations, rot90 and flips)")
    explain.add_argument("--json", type=_writable, help="write the verdicts as JSON here")
    explain.add_argument("--sizes", help="LO:HI: also give the verdict at every square size in that range, and "
                                         "the rule they follow")
    bench = commands.add_parser("bench", help="print the fast-path benchmark table")
    bench.add_argument("--quick", action="store_true", help="smaller cases (seconds, for smoke tests)")
    bench.add_argument("--json", type=_writable, help="also write the figures as JSON here")
    bench.add_argument("--rounds", type=_positive_int, default=None,
                       help="rounds per row (default 7, ResNet 3); each round times naive, fast and bare back to back")
    bench.add_argument("--compile", action="store_true",
                       help="add the fast path under torch.compile (compiling takes minutes in all)")
    bench.add_argument("--stream-224", action="store_true",
                       help="stream all 50,176 shifts of the ResNet-18-like at 224×224 with a progress bar")
    bench.add_argument("--max-seconds", type=_positive_seconds, default=None,
                       help="with --stream-224: stop early, report the projection")
    bench.add_argument("--device", type=_device, default=None, action="append", dest="devices",
                       help="run the table on this device (repeatable; default: cpu, and cuda when present)")
    bench.add_argument("--model", choices=("resnet18", "resnet50"), default="resnet18",
                       help="with --stream-224: the network streamed (default: %(default)s, the small-width "
                            "ResNet-18-like; resnet50: ResNet-50 at its real size)")
    lab = commands.add_parser("lab", help="train small networks and measure what invariances they learn (the lab extra)")
    lab.add_argument("--quick", action="store_true", help="less data, shorter training, smaller sweeps (minutes)")
    lab.add_argument("--out", type=_folder, default=LAB_FOLDER, help="output folder (default: %(default)s)")
    lab.add_argument("--seeds", type=_positive_int, default=3, help="seeds per variant (default: %(default)s)")
    lab.add_argument("--only", action="append", default=None, metavar="EXPERIMENT",
                     help="run only this experiment (repeatable): augmentation, width, dense_learns_conv, "
                          "multiresolution, architecture")
    lab.add_argument("--jobs", type=_positive_int, default=min(2, os.cpu_count() or 1),
                     help="worker processes (default: %(default)s); the numbers do not depend on it")
    add_measure_parser(commands, _writable, _seed)
    return parser


def _lab(args, argv):
    """Run the lab, print each experiment's answer and where the report is."""
    try:
        from .lab import run_lab
        from .lab._data import MissingDataSet
    except ImportError as exc:  # pragma: no cover - the lab's code ships with the package
        raise UsageError(f"the lab cannot be imported: {exc}") from None
    command = "invariances " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        results = run_lab(args.out, quick=args.quick, seeds=args.seeds, experiments=args.only, jobs=args.jobs,
                          progress=progress_bar, command=command)
    except MissingDataSet as exc:
        raise UsageError(str(exc)) from None
    for name, entry in results.items():
        print(f"{name}: {entry['answer']}\n", flush=True)
    print(f"wrote {Path(args.out) / 'report.md'}, {Path(args.out) / 'results.json'} and the figures")
    return 0


def _portable_target(text):
    """(target, folder) as reproductions name it from any directory: a file by its absolute path, a package with
    the folder it was imported from."""
    where, _, name = text.rpartition(":")
    if where.endswith(".py") or "/" in where or os.sep in where:
        return f"{Path(where).resolve()}:{name}", None
    return text, os.getcwd()


def _audit_target(args):
    if not args.input_shape:
        raise UsageError("--input-shape is required with a TARGET (e.g. --input-shape 3,32,32)")
    shape = parse_shape(args.input_shape)
    claims = [Claim.parse(c) for c in args.claim] if args.claim else None
    _refuse_overwriting_the_target(args)
    target, folder = _portable_target(args.target)
    torch.manual_seed(0)  # reproductions rebuild the target after the same seed (and check the weights agree)
    module = resolve_target(args.target)  # messages name the target as the user typed it
    with progress_bar(f"auditing {args.target}") as progress:
        report = audit(module, shape, claims, layout=args.layout, examples=args.examples, seconds=args.seconds,
                       seed=args.seed, device=args.device, progress=progress, name=args.target, target=target,
                       target_path=folder, classifier=args.classifier)
    # the files first: a reader that stops early (`| head`) must not cost the reports
    written = write_reports(report, json_path=args.json, markdown_path=args.markdown, html_path=args.html)
    _emit(to_terminal(report, verbose=args.verbose) + "".join(f"wrote {path}\n" for path in written))
    return 0 if report.ok else 1


def _emit(text: str) -> None:
    """Print ``text``; a reader that closed the pipe early (``| head``) is not an error: the exit status stays
    the verdict's."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the broken pipe again when it flushes stdout at exit: point stdout elsewhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _refuse_overwriting_the_target(args) -> None:
    """A report path that is the target's own file would overwrite the user's code."""
    where = args.target.rpartition(":")[0]
    if not (where.endswith(".py") or "/" in where or os.sep in where):
        return
    source = Path(where).resolve()
    for option in ("json", "markdown", "html"):
        path = getattr(args, option, None)
        if path and Path(path).resolve() == source:
            raise UsageError(f"--{option}={path!r} is the target's own file; writing the report there would "
                             f"overwrite it: give another path")


def _explain_target(args):
    from ._explain import explain, parse_sizes

    shape = parse_shape(args.input_shape)
    claims = [Claim.parse(c) for c in args.claim] if args.claim else None
    _refuse_overwriting_the_target(args)
    try:
        sizes = parse_sizes(args.sizes) if args.sizes else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    torch.manual_seed(0)  # the target is built as the audit builds it
    module = resolve_target(args.target)
    text, status, written = explain(module, shape, claims, name=args.target, sizes=sizes, json_path=args.json)
    _emit(text + "".join(f"wrote {path}\n" for path in written))
    return status


def _audit_registry(args):
    """Audit every registry entry against its stated profile; write the report folder."""
    from ..models import REGISTRY

    out = Path(args.out or REGISTRY_FOLDER)
    width = max(len(name) for name in REGISTRY)
    print(f"{'entry'.ljust(width)}  lines  agree  seconds  stated (every aspect not listed: none)", flush=True)

    def show(row):  # one line per entry as soon as it is checked: progress, also in CI logs
        print(f"{row.name.ljust(width)}  {len(row.lines):5d}  {row.agreeing:5d}  {row.seconds:7.1f}  {row.stated}",
              flush=True)

    agreeing, total = audit_registry(REGISTRY, out, seed=args.seed, on_entry=show)
    print(f"\n{agreeing}/{total} profile lines of {len(REGISTRY)} entries agree with what the audit finds; "
          f"report written to {out}/ (README.md and index.html, one .md/.html per entry, rates/, figures/)")
    return 0 if agreeing == total else 1


def main(argv=None):
    """Run the ``invariances`` command with ``argv`` (default: the command line); returns the exit status.

    >>> main(["audit", "torch.nn:Identity"])
    2
    """
    args = _parser().parse_args(argv)
    try:
        if args.command == "measure":
            return run_measure(args, resolve_target, progress_bar, parse_shape)
        if args.command == "bench":
            from ._bench import main as bench_main

            return bench_main(quick=args.quick, json_path=args.json, stream=args.stream_224,
                              max_seconds=args.max_seconds, rounds=args.rounds,
                              torch_compile=args.compile, model=args.model,
                              devices=[str(d) for d in args.devices] if args.devices else None)
        if args.command == "lab":
            return _lab(args, argv)
        if args.command == "explain":
            return _explain_target(args)
        if args.target:
            if args.out is not None:
                raise UsageError("--out is the registry audit's report folder; with a TARGET use --json, "
                                 "--markdown or --html")
            return _audit_target(args)
        given = [f"--{name.replace('_', '-')}" for name in ("input_shape", "layout", "claim", "json", "markdown",
                                                           "html", "classifier") if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)} need(s) a TARGET (package.module:name or path/to/file.py:name); "
                             f"without one the built-in registry is audited into --out")
        return _audit_registry(args)
    except (UsageError, InvalidArgument) as exc:
        print(f"invariances: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a report that cannot be written after all (disk full, permissions)
        print(f"invariances: error: cannot write {exc.filename or 'a report'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
