"""Benchmarks of the fast path: the naive loop vs the batched orbit engine vs the bare batched forward.

Each row is measured in one run, so the *ratios* are meaningful even on a
noisy machine; every variant is timed warm (best of two runs, or of twenty
for the tiny rotation orbits), because a first call with a new batch shape
pays one-off kernel setup:

- naive: what users and existing tools write — transform, forward, compare,
  one group element at a time;
- fast: :func:`props.orbit_error` (index gathers, chunked batches, fused compare);
- bare: the batched forward of the same orbit alone, in the same chunks —
  the floor the check cannot beat; overhead = fast / bare − 1.

The linear row compares :func:`props.certify_translation_equivariance` with
the exhaustive orbit.  ``invariances bench`` prints the table; the
pytest-benchmark tests in ``tests/benchmarks`` time the same cases.
"""

from __future__ import annotations

import json
import time

import torch

from ._certificate import certify_translation_equivariance
from ._checks import orbit_error
from ._groups import Translations, c4, d4
from ._orbit import DEFAULT_MEMORY_BUDGET, apply_all, chunk_limit


class SmallCNN(torch.nn.Module):
    """Three circular 3×3 convolutions with ReLU and a global average: the benchmarks' small CNN."""

    def __init__(self, channels=3, width=16, seed=0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv2d(a, b, 3, padding=1, padding_mode="circular", bias=False)
            for a, b in [(channels, width), (width, width), (width, width)])
        with torch.no_grad():
            for conv in self.convs:
                conv.weight.copy_(torch.randint(-1, 2, conv.weight.shape, generator=generator).float())

    def forward(self, x):
        for conv in self.convs:
            x = torch.relu(conv(x))
        return x.mean(dim=(-2, -1))


def _timed(fn, repeat=1):
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
    """The loop users write: one transform, one forward and one comparison per element."""
    with torch.inference_mode():
        reference = f(x)
        return [float((f(g(x)) - output_action(g)(reference)).abs().max()) for g in group]


def bare_forward(f, x, group, memory_budget=DEFAULT_MEMORY_BUDGET):
    """The batched forward of the orbit alone, inputs built beforehand, in the chunks the engine uses —
    the floor the check is measured against."""
    elements = group.elements()
    with torch.inference_mode():
        y0 = f(x)
        chunk = chunk_limit(x, y0, len(elements), memory_budget)
        batches = [apply_all(elements[i:i + chunk], x).flatten(0, 1) for i in range(0, len(elements), chunk)]

        def run():
            for batch in batches:
                f(batch)

        return run


def orbit_case(name, f, x, group, output_action, repeat=2):
    """One row: naive, fast and bare times for the same orbit."""
    from ._output_actions import Same

    output_action = output_action or Same()
    naive = _timed(lambda: naive_loop(f, x, group, output_action), repeat)
    fast = _timed(lambda: orbit_error(f, x, group, output_action=output_action, mode="exact"), repeat)
    bare = _timed(bare_forward(f, x, group), repeat)
    return {"case": name, "elements": len(group), "naive_s": naive, "fast_s": fast, "bare_s": bare,
            "naive_over_fast": naive / fast, "overhead": fast / bare - 1}


def certificate_case(name, conv, input_shape, x):
    cert = _timed(lambda: certify_translation_equivariance(conv, input_shape))
    orbit = _timed(lambda: orbit_error(conv, x, Translations(input_shape[1:]), mode="exact"))
    return {"case": name, "elements": len(Translations(input_shape[1:])), "naive_s": orbit, "fast_s": cert,
            "bare_s": None, "naive_over_fast": orbit / cert, "overhead": None}


def run_cases(quick=False, device="cpu"):
    """Every benchmark row, on ``device``.  ``quick`` shrinks the inputs so the whole table takes seconds."""
    device = torch.device(device)
    torch.manual_seed(0)
    side, resnet_side, conv_side, conv_width = (8, 16, 16, 8) if quick else (32, 64, 64, 64)
    rows = []
    small = SmallCNN().to(device).eval()
    x = torch.randint(-2, 3, (1, 3, side, side)).float().to(device)
    from ._output_actions import Trivial

    rows.append(orbit_case(f"small CNN {side}×{side}, all circular shifts", small, x, Translations((side, side)), Trivial()))
    try:
        from models import ResNet18Like  # the registry's architecture, loaded at run time like every target
    except ImportError:
        ResNet18Like = None
    if ResNet18Like is not None:
        resnet = ResNet18Like().to(device).eval()
        xr = torch.randint(-2, 3, (1, 3, resnet_side, resnet_side)).float().to(device)
        rows.append(orbit_case(f"ResNet-18-like {resnet_side}×{resnet_side}, all circular shifts", resnet, xr,
                               Translations((resnet_side, resnet_side)), Trivial()))
    rows.append(orbit_case(f"small CNN {side}×{side}, C4 (rot90)", small, x, c4(), Trivial(), repeat=20))
    rows.append(orbit_case(f"small CNN {side}×{side}, D4", small, x, d4(), Trivial(), repeat=20))
    generator = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv2d(conv_width, conv_width, 3, padding=1, padding_mode="circular", bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randint(-1, 2, conv.weight.shape, generator=generator).float())
    conv = conv.to(device)
    xc = torch.randint(-2, 3, (1, conv_width, conv_side, conv_side)).float().to(device)
    rows.append(certificate_case(f"{conv_width}-channel conv {conv_side}×{conv_side}: linear certificate vs orbit",
                                 conv, (conv_width, conv_side, conv_side), xc))
    return rows


def device_name(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def format_table(rows, device):
    head = f"device: {device_name(device)}, torch {torch.__version__}\n"
    lines = [("case", "elements", "naive s", "fast s", "bare fwd s", "naive/fast", "overhead")]
    for r in rows:
        lines.append((r["case"], str(r["elements"]), f"{r['naive_s']:.3f}", f"{r['fast_s']:.3f}",
                      "—" if r["bare_s"] is None else f"{r['bare_s']:.3f}", f"{r['naive_over_fast']:.1f}×",
                      "—" if r["overhead"] is None else f"{100 * r['overhead']:+.0f}%"))
    widths = [max(len(row[i]) for row in lines) for i in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    note = ("\nnaive: transform + forward + compare per element; fast: props.orbit_error; bare fwd: the batched "
            "forward of the same orbit alone;\nlast row: naive = exhaustive orbit, fast = linear certificate.")
    return head + "\n".join(text) + note


def stream_large_orbit(side=224, max_seconds=None, device="cpu", memory_budget=DEFAULT_MEMORY_BUDGET):
    """Stream every circular shift of the ResNet-18-like at side×side through the engine, with a progress bar.

    Memory stays within ``memory_budget`` whatever the orbit size; ``max_seconds`` stops early and reports
    the projected total (on a 2-core CPU the 50,176 shifts of 224×224 take hours; on a GPU they complete).
    """
    from models import ResNet18Like

    from ._orbit import evaluate
    from ._output_actions import Trivial
    from ._progress import Progress

    device = torch.device(device)
    model = ResNet18Like().to(device).eval()
    x = torch.randint(-2, 3, (1, 3, side, side)).float().to(device)
    elements = Translations((side, side)).elements()
    bar = Progress(len(elements), label=f"ResNet-18-like {side}×{side}")
    start, done, worst = time.perf_counter(), 0, 0.0
    step = 256
    while done < len(elements):
        part = elements[done:done + step]
        result = evaluate(model, x, part, output_action=Trivial(), claim="translation-invariant",
                          mode="float", memory_budget=memory_budget)
        worst = max(worst, float(result.errors.max()))
        done += len(part)
        bar.advance(len(part))
        elapsed = time.perf_counter() - start
        if max_seconds is not None and elapsed > max_seconds and done < len(elements):
            print(f"\nstopped after {elapsed:.0f} s: {done}/{len(elements)} shifts, projected total "
                  f"{elapsed * len(elements) / done / 60:.1f} min on {device_name(device)}")
            break
    return {"side": side, "shifts_done": done, "shifts": len(elements), "seconds": time.perf_counter() - start,
            "max_error": worst, "device": device_name(device)}


def main(quick=False, json_path=None, devices=None, stream=False, max_seconds=None):
    if stream:
        print(stream_large_orbit(max_seconds=max_seconds, device="cuda" if torch.cuda.is_available() else "cpu"))
        return 0
    devices = devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    results = {}
    for device in devices:
        rows = run_cases(quick=quick, device=device)
        results[device_name(device)] = rows
        print(format_table(rows, device))
        print()
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
        print(f"wrote {json_path}")
    return 0
