"""Benchmarks of the fast path: the naive loop vs the batched orbit engine vs the bare batched forward.

Three variants of the same check are timed warm (a first call with a new
batch shape pays one-off kernel setup):

- naive: what users and existing tools write — transform, forward, compare,
  one group element at a time;
- fast: the orbit engine behind :func:`convnet_invariances.orbit_error` (index gathers, chunked batches, fused compare),
  without the float64 re-run of failing elements, which the naive loop has no counterpart for;
- bare: the batched forward of the same orbit alone, inputs built beforehand,
  in the same chunks — the floor the check cannot beat.

A shared machine drifts by several times over minutes, so the variants are
timed in *rounds*: each round times all three back to back and yields its own
ratios, and the table gives the median ratio over rounds with its range.
naive/bare is the ceiling any batched check could reach on that model (how much
batching speeds up the model itself); overhead = fast / bare − 1.

The linear row compares :func:`convnet_invariances.certify_translation_equivariance` with
the exhaustive orbit; the static row compares :func:`convnet_invariances.certify_static` (warm) with the
exhaustive orbit of every circular shift of the ResNet-18-like with circular padding.  ``invariances bench`` prints the table; the
pytest-benchmark tests in ``tests/benchmarks`` time the same cases.
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from .._certificate import certify_translation_equivariance
from .._static import certify_static
from .._checks import orbit_error
from .._groups import Translations, c4, d4
from .._orbit import DEFAULT_MEMORY_BUDGET, apply_all, chunk_limit, evaluate
from .._output_actions import Trivial
from .._errors import InvalidArgument
from ..models import ResNet18Like, ResNet50Like
from ._json import dumps


def _integer_weights_(module, generator):
    """Weights in {−1, 0, 1}: every benchmark check runs in exact mode, as the suite's own tests do."""
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randint(-1, 2, parameter.shape, generator=generator).float())
    return module


def _circular_conv(a, b):
    return torch.nn.Conv2d(a, b, 3, padding=1, padding_mode="circular", bias=False)


class SmallCNN(torch.nn.Module):
    """The benchmarks' small CNN, a CIFAR-style classifier: circular 3×3 convolutions of width, 2·width and
    4·width channels with ReLU, 2×2 max pooling after the first two, a global average and a linear head.

    Its weights are small integers (seeded), so that on small integer inputs its arithmetic is exact.

    >>> SmallCNN()(torch.zeros(2, 3, 8, 8)).shape
    torch.Size([2, 10])
    """

    def __init__(self, channels=3, width=16, classes=10, seed=0):
        super().__init__()
        self.features = torch.nn.Sequential(
            _circular_conv(channels, width), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            _circular_conv(width, 2 * width), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            _circular_conv(2 * width, 4 * width), torch.nn.ReLU(),
        )
        self.head = torch.nn.Linear(4 * width, classes, bias=False)
        _integer_weights_(self, torch.Generator().manual_seed(seed))

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(-2, -1)))


class ConvStack(torch.nn.Module):
    """Three full-resolution circular 3×3 convolutions with ReLU and a global average: no pooling, so each
    sample costs several times the small CNN's and batching gains less (a second, harder row)."""

    def __init__(self, channels=3, width=16, seed=0):
        super().__init__()
        self.convs = torch.nn.ModuleList(
            _circular_conv(a, b) for a, b in [(channels, width), (width, width), (width, width)])
        _integer_weights_(self, torch.Generator().manual_seed(seed))

    def forward(self, x):
        for conv in self.convs:
            x = torch.relu(conv(x))
        return x.mean(dim=(-2, -1))


def _timed(fn, repeat=1):
    """Best wall time of ``repeat`` calls (synchronising CUDA so queued kernels count)."""
    best = float("inf")
    for _ in range(repeat):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def naive_loop(f, x, group, output_action):
    """The loop users write: one transform, one forward and one comparison per element.

    >>> from convnet_invariances import Translations, trivial_action
    >>> naive_loop(torch.nn.AdaptiveAvgPool2d(1), torch.eye(4)[None, None], Translations((4, 4)), trivial_action())[:3]
    [0.0, 0.0, 0.0]
    """
    with torch.inference_mode():
        reference = f(x)
        return [float((f(g(x)) - output_action(g)(reference)).abs().max()) for g in group]


def bare_forward(f, x, group, memory_budget=DEFAULT_MEMORY_BUDGET):
    """The batched forward of the orbit alone, inputs built beforehand, in the chunks the engine uses —
    the floor the check is measured against.  Returns the function to time.

    >>> from convnet_invariances import Translations
    >>> run = bare_forward(torch.nn.AdaptiveAvgPool2d(1), torch.eye(4)[None, None], Translations((4, 4)))
    >>> run()
    """
    elements = group.elements()
    with torch.inference_mode():
        y0 = f(x)
        chunk = chunk_limit(x, y0, len(elements), memory_budget)
        batches = [apply_all(elements[i:i + chunk], x).flatten(0, 1) for i in range(0, len(elements), chunk)]

    def run():
        with torch.inference_mode():
            for batch in batches:
                f(batch)

    return run


def _summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fast_check(f, x, group, output_action, mode, torch_compile=False):
    """The engine's whole check of the orbit: reference, batched chunks, comparison, tolerances."""
    return evaluate(f, x, group.elements(), output_action=output_action, claim="benchmark", group=group, mode=mode,
                    arbiter=False, torch_compile=torch_compile)


def orbit_case(name, f, x, group, output_action, rounds=3, repeat=1, mode="exact", torch_compile=False):
    """One row: naive, fast and bare (and, with ``torch_compile``, fast compiled) timed back to back in each
    of ``rounds`` rounds.

    ``mode="exact"`` where the model's arithmetic is exact (small integer weights and inputs, shallow);
    deep models leave float32's exact integers and are checked in float mode, as a user would.
    """
    variants = {
        "naive": lambda: naive_loop(f, x, group, output_action),
        "fast": lambda: fast_check(f, x, group, output_action, mode),
        "bare": bare_forward(f, x, group),
    }
    if torch_compile:
        variants["compiled"] = lambda: fast_check(f, x, group, output_action, mode, torch_compile=True)
    setup = {key: _timed(run) for key, run in variants.items()}  # warm-up: one-off kernel setup, compiling
    times: dict[str, list[float]] = {key: [] for key in variants}
    for _ in range(rounds):
        for key, run in variants.items():
            times[key].append(_timed(run, repeat))
    row = {
        "case": name, "elements": len(group), "rounds": rounds,
        "seconds": {key: _summary(values) for key, values in times.items()},
        "naive_over_fast": _summary([n / fa for n, fa in zip(times["naive"], times["fast"])]),
        "naive_over_bare": _summary([n / b for n, b in zip(times["naive"], times["bare"])]),
        "overhead": _summary([fa / b - 1 for fa, b in zip(times["fast"], times["bare"])]),
    }
    if torch_compile:
        row["naive_over_compiled"] = _summary([n / c for n, c in zip(times["naive"], times["compiled"])])
        row["compile_s"] = setup["compiled"] - statistics.median(times["compiled"])
    return row


def certificate_case(name, conv, input_shape, x, rounds=1):
    """The linear certificate vs the exhaustive orbit it replaces (the orbit is a few hundred times slower:
    one round resolves the ratio far beyond the machine's noise)."""
    group = Translations(input_shape[1:])
    times: dict[str, list[float]] = {"naive": [], "fast": []}
    certify_translation_equivariance(conv, input_shape)  # warm-up
    for _ in range(rounds):
        times["naive"].append(_timed(lambda: orbit_error(conv, x, group, mode="exact")))
        times["fast"].append(_timed(lambda: certify_translation_equivariance(conv, input_shape), repeat=3))
    return {
        "case": name, "elements": len(group), "rounds": rounds,
        "seconds": {key: _summary(values) for key, values in times.items()},
        "naive_over_fast": _summary([n / fa for n, fa in zip(times["naive"], times["fast"])]),
        "naive_over_bare": None, "overhead": None, "kind": "certificate",
    }


def lie_case(name, f, x, generator="translation-x", rounds=3):
    """The end-to-end Lie derivative against one forward and backward pass of the same batch (the cost a
    user pays for a gradient), timed back to back in each round."""
    from .._lie import lie_derivative

    def forward_backward():
        y = f(x.clone().requires_grad_(True))
        y.sum().backward()

    variants = {"naive": forward_backward,
                "fast": lambda: lie_derivative(f, x, generator, output_action="invariant")}
    for run in variants.values():
        _timed(run)  # warm-up
    times: dict[str, list[float]] = {key: [] for key in variants}
    for _ in range(rounds):
        for key, run in variants.items():
            times[key].append(_timed(run))
    return {"case": name, "elements": x.shape[0], "rounds": rounds, "kind": "lie",
            "seconds": {key: _summary(values) for key, values in times.items()},
            "naive_over_fast": _summary([n / fa for n, fa in zip(times["naive"], times["fast"])]),
            "lie_over_forward_backward": _summary([fa / n for n, fa in zip(times["naive"], times["fast"])]),
            "naive_over_bare": None, "overhead": None}


def static_case(name, model, input_shape, claim, x, rounds=1):
    """Static certification from the graph (:func:`convnet_invariances.certify_static`, warm: the process's first
    run on the meta device pays a one-off setup) vs the exhaustive orbit of every circular shift, which the
    static verdict answers for the whole group at once (certified on the lattice it names, and which layers
    limit the rest)."""
    group = Translations(tuple(input_shape[1:]))
    cold_start = time.perf_counter()
    verdict = certify_static(model, input_shape, [claim]).verdicts[0]
    cold = time.perf_counter() - cold_start
    times: dict[str, list[float]] = {"naive": [], "fast": []}
    for _ in range(rounds):
        times["naive"].append(_timed(lambda: orbit_error(model, x, group, output_action=Trivial(), mode="float")))
        times["fast"].append(_timed(lambda: certify_static(model, input_shape, [claim]), repeat=3))
    return {
        "case": name, "elements": len(group), "rounds": rounds, "verdict": verdict.verdict, "cold_s": cold,
        "seconds": {key: _summary(values) for key, values in times.items()},
        "naive_over_fast": _summary([n / fa for n, fa in zip(times["naive"], times["fast"])]),
        "naive_over_bare": None, "overhead": None, "kind": "certificate",
    }


def run_cases(quick=False, device="cpu", rounds=None, torch_compile=False):
    """Every benchmark row, on ``device``.  ``quick`` shrinks the inputs and runs one round, so the whole
    table takes seconds (the smoke test); otherwise orbit rows run ``rounds`` rounds (7, ResNet 3).
    ``torch_compile`` adds the compiled fast path to the orbit rows (compiling takes minutes in all).

    >>> rows = run_cases(quick=True)  # doctest: +SKIP
    >>> rows[0]["case"], rows[0]["elements"]  # doctest: +SKIP
    ('small CNN 8×8, all circular shifts', 64)
    """
    device = torch.device(device)
    torch.manual_seed(0)
    side, resnet_side, conv_side, conv_width = (8, 16, 16, 8) if quick else (32, 64, 64, 64)
    few, many = (1, 1) if quick else (rounds or 3, rounds or 7)

    def image(channels, size):
        return torch.randint(-2, 3, (1, channels, size, size)).float().to(device)

    rows = []
    small, stack, x = SmallCNN().to(device).eval(), ConvStack().to(device).eval(), image(3, side)
    shifts = Translations((side, side))
    compiled = {"torch_compile": torch_compile}
    rows.append(orbit_case(f"small CNN {side}×{side}, all circular shifts", small, x, shifts, Trivial(), many,
                           **compiled))
    rows.append(orbit_case(f"conv stack {side}×{side} (no pooling), all circular shifts", stack, x, shifts,
                           Trivial(), many, **compiled))
    resnet = ResNet18Like().to(device).eval()
    rows.append(orbit_case(f"ResNet-18-like {resnet_side}×{resnet_side}, all circular shifts", resnet,
                           image(3, resnet_side), Translations((resnet_side, resnet_side)), Trivial(), few,
                           mode="float", **compiled))
    rows.append(orbit_case(f"small CNN {side}×{side}, C4 (rot90)", small, x, c4(), Trivial(), many, repeat=20,
                           **compiled))
    rows.append(orbit_case(f"small CNN {side}×{side}, D4", small, x, d4(), Trivial(), many, repeat=20, **compiled))
    conv = _integer_weights_(_circular_conv(conv_width, conv_width), torch.Generator().manual_seed(0)).to(device)
    rows.append(certificate_case(f"{conv_width}-channel conv {conv_side}×{conv_side}: linear certificate vs orbit",
                                 conv, (conv_width, conv_side, conv_side), image(conv_width, conv_side)))
    batch = 4 if quick else 32
    rows.append(lie_case(f"ResNet-18-like {resnet_side}×{resnet_side}, batch {batch}: Lie derivative "
                         f"(translation-x) vs forward+backward", resnet,
                         torch.randn(batch, 3, resnet_side, resnet_side, device=device), rounds=few))
    circular = ResNet18Like(padding_mode="circular").to(device).eval()
    rows.append(static_case(f"ResNet-18-like {resnet_side}×{resnet_side} (circular padding): static certification "
                            f"(translation-invariant[stride=8]) vs orbit", circular, (3, resnet_side, resnet_side),
                            "translation-invariant[stride=8]", image(3, resnet_side)))
    return rows


def device_name(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _ratio(summary):
    """The median ratio, and under it the range over rounds when the rounds disagree."""
    if summary is None:
        return "—"
    if summary["min"] == summary["max"]:
        return f"{summary['median']:.1f}×"
    return f"{summary['median']:.1f}×\n{summary['min']:.1f}–{summary['max']:.1f}"


def _percent(summary):
    if summary is None:
        return "—"
    text = f"{100 * summary['median']:+.0f}%"
    if summary["min"] != summary["max"]:
        text += f"\n{100 * summary['min']:+.0f}…{100 * summary['max']:+.0f}"
    return text


#: the benchmark tables fit a terminal of this many columns
TABLE_WIDTH = 100


def format_table(rows, device, width: int = TABLE_WIDTH) -> str:
    """The benchmark as text: the orbit checks in one table, the linear certificate against the orbit it
    replaces in its own (its columns mean other things), and a note on what each column measures.

    >>> row = {"case": "conv 8×8", "elements": 64, "rounds": 1,
    ...        "seconds": {k: {"median": t, "min": t, "max": t} for k, t in (("naive", 0.2), ("fast", 0.02),
    ...                                                                     ("bare", 0.01))},
    ...        "naive_over_fast": {"median": 10.0, "min": 10.0, "max": 10.0},
    ...        "naive_over_bare": {"median": 20.0, "min": 20.0, "max": 20.0},
    ...        "overhead": {"median": 1.0, "min": 1.0, "max": 1.0}}
    >>> print(format_table([row], "cpu").splitlines()[4])
    conv 8×8        │       64 │      1 │   0.200 │  0.020 │  0.010 │      10.0× │      20.0× │    +100%
    """
    orbit = [r for r in rows if r.get("kind") not in ("certificate", "lie")]
    certificates = [r for r in rows if r.get("kind") == "certificate"]
    lies = [r for r in rows if r.get("kind") == "lie"]
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None, markup=False,
                      highlight=False)
    console.print(f"device: {device_name(device)}, torch {torch.__version__}")
    compiled = any("compile_s" in r for r in orbit)
    if orbit:
        table = Table(title="orbit checks", show_edge=False, pad_edge=False, header_style="bold")
        table.add_column("case", overflow="fold", ratio=1)
        for header in ("elements", "rounds", "naive s", "fast s", "bare s", "naive/fast", "naive/bare",
                       "overhead"):
            table.add_column(header, justify="right", no_wrap=True)
        for r in orbit:
            seconds = r["seconds"]
            table.add_row(r["case"], str(r["elements"]), str(r["rounds"]), f"{seconds['naive']['median']:.3f}",
                          f"{seconds['fast']['median']:.3f}",
                          f"{seconds['bare']['median']:.3f}" if "bare" in seconds else "—",
                          _ratio(r["naive_over_fast"]), _ratio(r["naive_over_bare"]), _percent(r["overhead"]))
        console.print(table)
    if compiled:
        table = Table(title="the fast path under torch.compile", show_edge=False, pad_edge=False,
                      header_style="bold")
        table.add_column("case", overflow="fold", ratio=1)
        for header in ("naive/fast", "naive/compiled", "compile s"):
            table.add_column(header, justify="right", no_wrap=True)
        for r in orbit:
            table.add_row(r["case"], _ratio(r["naive_over_fast"]), _ratio(r.get("naive_over_compiled")),
                          f"{r['compile_s']:.0f}" if "compile_s" in r else "—")
        console.print(table)
    if certificates:
        table = Table(title="linear certificate against the exhaustive orbit it replaces (and static certification)",
                      show_edge=False,
                      pad_edge=False, header_style="bold")
        table.add_column("case", overflow="fold", ratio=1)
        for header in ("elements", "rounds", "orbit s", "certificate s", "orbit/certificate"):
            table.add_column(header, justify="right", no_wrap=True)
        for r in certificates:
            seconds = r["seconds"]
            table.add_row(r["case"], str(r["elements"]), str(r["rounds"]), f"{seconds['naive']['median']:.3f}",
                          f"{seconds['fast']['median']:.4f}", _ratio(r["naive_over_fast"]))
        console.print(table)
    if lies:
        table = Table(title="the Lie derivative against a forward and backward pass", show_edge=False,
                      pad_edge=False, header_style="bold")
        table.add_column("case", overflow="fold", ratio=1)
        for header in ("rounds", "fwd+bwd s", "Lie derivative s", "Lie/(fwd+bwd)"):
            table.add_column(header, justify="right", no_wrap=True)
        for r in lies:
            seconds = r["seconds"]
            table.add_row(r["case"], str(r["rounds"]), f"{seconds['naive']['median']:.3f}",
                          f"{seconds['fast']['median']:.3f}", _ratio(r["lie_over_forward_backward"]))
        console.print(table)
    console.print("naive: transform + forward + compare per element; fast: the engine behind "
                  "convnet_invariances.orbit_error; bare: the batched forward of the same orbit alone. Times are "
                  "medians over rounds; ratios are per round, the median with the range under it. naive/bare is "
                  "the most any batched check could gain on that model (the ceiling); overhead = fast/bare − 1."
                  + (" naive/compiled: the fast path with torch_compile=True, timed warm; compile s is its one-off "
                     "compile." if compiled else "") + " The certificate proves equivariance from the layer's "
                  "graph; the orbit it replaces checks every shift."
                  + (" Lie/(fwd+bwd): the end-to-end Lie derivative (one forward-mode pass) over one forward and "
                     "backward pass of the same batch." if lies else ""))
    return console.export_text().rstrip() + "\n"


#: the networks ``--stream-224`` can stream: a label and a factory (ResNet-50 at its real size, 25.6M parameters)
STREAM_MODELS = {"resnet18": ("ResNet-18-like", ResNet18Like), "resnet50": ("ResNet-50", ResNet50Like)}


def stream_large_orbit(side=224, max_seconds=None, device="cpu", memory_budget=DEFAULT_MEMORY_BUDGET,
                       torch_compile=False, model="resnet18"):
    """Stream every circular shift of ``model`` (a key of :data:`STREAM_MODELS`) at side×side through the
    engine, with a progress bar.

    Memory stays within ``memory_budget`` whatever the orbit size; ``max_seconds`` stops early and reports
    the projected total (on a 2-core CPU the 50,176 shifts of 224×224 take hours; on a GPU they complete).
    """
    from ._progress import progress_bar

    if model not in STREAM_MODELS:
        raise InvalidArgument(f"model={model!r} is not a streamed network; use one of {sorted(STREAM_MODELS)}")
    label, factory = STREAM_MODELS[model]
    device = torch.device(device)
    network = factory().to(device).eval()
    x = torch.randint(-2, 3, (1, 3, side, side)).float().to(device)
    elements = Translations((side, side)).elements()
    start, done, worst = time.perf_counter(), 0, 0.0
    step = 1024  # each part pays a reference forward and a determinism call: ≪1% at this size
    with progress_bar(f"{label} {side}×{side}", enabled=True) as progress:
        while done < len(elements):
            part = elements[done:done + step]
            result = evaluate(network, x, part, output_action=Trivial(), claim="translation-invariant",
                              mode="float", memory_budget=memory_budget, torch_compile=torch_compile,
                              arbiter=False)  # the stream measures errors; verdicts are not its job
            worst = max(worst, float(result.errors.max()))
            done += len(part)
            progress(done, len(elements))
            elapsed = time.perf_counter() - start
            if max_seconds is not None and elapsed > max_seconds and done < len(elements):
                break
    elapsed = time.perf_counter() - start
    if done < len(elements):
        print(f"stopped after {elapsed:.0f} s: {done}/{len(elements)} shifts, projected total "
              f"{elapsed * len(elements) / done / 60:.1f} min on {device_name(device)}")
    return {"model": label, "side": side, "shifts_done": done, "shifts": len(elements), "seconds": elapsed,
            "max_error": worst, "device": device_name(device)}


def main(quick=False, json_path=None, devices=None, stream=False, max_seconds=None, rounds=None,
         torch_compile=False, model="resnet18"):
    if stream:
        print(stream_large_orbit(max_seconds=max_seconds, device="cuda" if torch.cuda.is_available() else "cpu",
                                 torch_compile=torch_compile, model=model))
        return 0
    devices = devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    results = {}
    for device in devices:
        rows = run_cases(quick=quick, device=device, rounds=rounds, torch_compile=torch_compile)
        results[device_name(device)] = rows
        print(format_table(rows, device))
        print()
    if json_path:
        Path(json_path).write_text(dumps(results, indent=2), encoding="utf-8")
        print(f"wrote {json_path}")
    return 0
