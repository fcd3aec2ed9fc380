"""``invariances measure``: how invariant a (trained) network is, end to end and layer by layer.

For a target and a set of images (a ``.pt`` file, or smooth random images), it computes the relative Lie
derivative for every generator that applies (mean and bootstrap interval over the images), each leaf module's
share of it, and the published metrics that fit the output: for classifiers (``--output-action invariant``
on (N, K) scores) Zhang's consistency and Azulay & Weiss's P(top-1 change)/MAC, with labels the exact
worst-case accuracy over all circular shifts and the smallest shift that changes a prediction; for image-to-image layers (``equivariant``) StyleGAN3's EQ-T
and EQ-R.  Output: the terminal, ``--json`` and ``--markdown`` (with a bar chart per generator).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from .._errors import InvalidArgument
from .._intervals import bootstrap_interval
from .._lie import GENERATORS, lie_derivative
from .._lie_layers import OUTSIDE, layerwise_lie_derivative
from .._groups import Translations
from .._metrics import eq_psnr, top1_change
from .._flip_shrink import shrink_flipping_input
from .._worst_case import worst_case_accuracy
from .._audit import consistency
from ._plots import _png, _pyplot
from ._json import dumps

#: smooth random images made when no --data is given (as for consistency): enough for a stable mean
DEFAULT_IMAGES = 32


def add_parser(commands, writable, seed_type) -> None:
    """The ``measure`` subcommand's arguments."""
    run = commands.add_parser("measure", help="measure how invariant a network is: Lie derivatives end to end and "
                                              "per layer, and the published metrics")
    run.add_argument("target", help="package.module:name or path/to/file.py:name (a Module, class or factory)")
    run.add_argument("--input-shape", required=True, help="C,H,W for images, C,L for 1-D signals (no batch axis)")
    run.add_argument("--output-action", required=True, choices=("invariant", "equivariant"),
                     help="how the output moves when the input does: invariant (class scores) or equivariant "
                          "(maps of the input's size); never guessed")
    run.add_argument("--data", help="a .pt file: an (N, C, H, W) tensor of images, or a dict with 'images' and "
                                    f"'labels' (default: {DEFAULT_IMAGES} smooth random images)")
    run.add_argument("--generator", action="append", choices=tuple(GENERATORS), default=None,
                     help="generator to measure (repeatable; default: every one that applies)")
    run.add_argument("--json", type=writable, help="write the results as JSON here")
    run.add_argument("--markdown", type=writable, help="write a Markdown report (and its figures) here")
    run.add_argument("--seed", type=seed_type, default=0, help="seed of the random images and draws")


def load_data(path, input_shape, seed):
    """(images, labels or None, description) from a ``.pt`` file, or smooth random images of ``input_shape``."""
    if path is None:
        generator = torch.Generator().manual_seed(seed)
        c, *spatial = input_shape
        coarse = torch.rand((DEFAULT_IMAGES, c, *[max(2, n // 4) for n in spatial]), generator=generator)
        mode = "linear" if len(spatial) == 1 else "bilinear"
        images = torch.nn.functional.interpolate(coarse, size=tuple(spatial), mode=mode, align_corners=False)
        return images, None, f"{DEFAULT_IMAGES} smooth random images (seed {seed})"
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError) as exc:
        raise InvalidArgument(f"--data {path}: cannot be read as a torch file ({exc})") from None
    labels = None
    if isinstance(data, dict):
        if "images" not in data:
            raise InvalidArgument(f"--data {path}: a dict must have 'images' (and optionally 'labels'); it has "
                                  f"{sorted(data)}")
        images, labels = data["images"], data.get("labels")
    else:
        images = data
    if not isinstance(images, torch.Tensor) or not images.is_floating_point() \
            or tuple(images.shape[1:]) != tuple(input_shape):
        raise InvalidArgument(f"--data {path}: images must be a floating tensor of shape (N, "
                              f"{', '.join(map(str, input_shape))}) to match --input-shape; got "
                              f"{getattr(images, 'shape', type(images).__name__)}")
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.dtype != torch.long
                               or tuple(labels.shape) != (images.shape[0],)):
        raise InvalidArgument(f"--data {path}: labels must be an int64 tensor of shape ({images.shape[0]},)")
    return images, labels, f"{images.shape[0]} images from {path}" + (" with labels" if labels is not None else "")


def measure(module, images, labels, output_action, generators=None, seed=0, progress=None) -> dict:
    """Every measure that applies, as a JSON-ready dict (see the module docstring)."""
    spatial_rank = images.dim() - 2
    applicable = [g for g in GENERATORS if spatial_rank == 2 or g == "translation-x"]
    generators = applicable if generators is None else list(generators)
    for g in generators:
        if g not in applicable:
            raise InvalidArgument(f"--generator {g}: applies to 2-D images only; these inputs are 1-D")
    steps = 2 * len(generators) + 1
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    result: dict = {"inputs": int(images.shape[0]), "output_action": output_action, "lie_derivative": {},
                    "layerwise": {}, "metrics": {}}
    for g in generators:
        values = lie_derivative(module, images, g, output_action=output_action)
        finite = values[torch.isfinite(values)]
        result["lie_derivative"][g] = {
            "unit": f"per {GENERATORS[g][0]}", "mean": float(values.mean()),
            "ci95": list(bootstrap_interval(finite, seed=seed)) if finite.numel() else None,
            "max": float(values.max())}
        tick()
        if isinstance(module, torch.nn.Module):
            split = layerwise_lie_derivative(module, images, g, output_action=output_action)
            result["layerwise"][g] = {
                "modules": {name: float(v.mean()) for name, v in split.relative.items() if name != OUTSIDE},
                "outside_modules": float(split.relative[OUTSIDE].mean()),
                "largest": split.largest()}
        tick()
    with torch.no_grad():
        output = module(images[:1])
    if output_action == "invariant" and output.dim() == 2 and spatial_rank == 2:
        result["metrics"]["consistency"] = consistency(module, images, pairs=1, seed=seed)
        tops = top1_change(module, images)
        tops["shift"], tops["worst_neighbour"] = list(tops["shift"]), list(tops["worst_neighbour"])
        result["metrics"]["top1_change"] = tops
        if labels is not None:
            worst = worst_case_accuracy(module, images, labels, Translations(tuple(images.shape[2:])))
            flips = [size for size in worst.flip_sizes if size is not None]
            result["metrics"]["worst_case"] = {
                "group": worst.group, "elements": len(worst.elements), "clean_accuracy": worst.clean_accuracy,
                "worst_case_accuracy": worst.worst_case_accuracy, "orbit_consistency": worst.orbit_consistency,
                "flipped": len(flips), "smallest_flip": min(flips) if flips else None,
                "smallest_flip_element": next((repr(g) for g, size in zip(worst.flips, worst.flip_sizes)
                                               if flips and size == min(flips)), None)}
            if flips:  # the image with the smallest flip, shrunk to a simplest input that still flips
                i = next(i for i, size in enumerate(worst.flip_sizes) if size == min(flips))
                shrunk = shrink_flipping_input(module, images[i:i + 1], worst.flips[i])
                nonzero = torch.nonzero(shrunk.x).tolist()
                result["metrics"]["worst_case"]["shrunk_flipping_input"] = {
                    "image": i, "element": repr(shrunk.element), "classes": [shrunk.before, shrunk.after],
                    "nonzero": shrunk.nonzero, "of": shrunk.x.numel(),
                    "values": [[index, float(shrunk.x[tuple(index)])] for index in nonzero]
                    if len(nonzero) <= 64 else None}
    if output_action == "equivariant" and spatial_rank == 2 and output.shape[-2:] == images.shape[-2:]:
        result["metrics"]["eq_t"] = eq_psnr(module, images, "translation", seed=seed)
        result["metrics"]["eq_r"] = eq_psnr(module, images, "rotation", seed=seed)
    tick()
    return result


def to_text(result) -> str:
    """The terminal's view: one line per generator, the per-module table, the metrics."""
    lines = [f"{result['target']}  input {tuple(result['input_shape'])}  on {result['data']}",
             f"output action: {result['output_action']}", "",
             f"{'generator':<15} {'‖L_X f‖/‖f‖ mean':>17} {'95% interval':>24} {'max':>10}  unit"]
    for g, v in result["lie_derivative"].items():
        ci = "n/a" if v["ci95"] is None else f"[{v['ci95'][0]:.3g}, {v['ci95'][1]:.3g}]"
        lines.append(f"{g:<15} {v['mean']:>17.3g} {ci:>24} {v['max']:>10.3g}  {v['unit']}")
    for g, split in result["layerwise"].items():
        lines += ["", f"per module, {g} (mean ‖C_m‖/‖f‖; largest marked):"]
        for name, value in split["modules"].items():
            lines.append(f"  {name:<30} {value:>10.3g}" + ("  <- largest" if name == split["largest"] else ""))
        lines.append(f"  {OUTSIDE:<30} {split['outside_modules']:>10.3g}"
                     + ("  <- largest" if split["largest"] == OUTSIDE else ""))
    metrics = result["metrics"]
    if metrics:
        lines.append("")
    if "consistency" in metrics:
        c = metrics["consistency"]
        lines.append(f"consistency (Zhang 2019): {c['consistency']:.1%} [{c['consistency_ci'][0]:.1%}, "
                     f"{c['consistency_ci'][1]:.1%}]")
    if "top1_change" in metrics:
        t = metrics["top1_change"]
        lines.append(f"P(top-1 change) (Azulay & Weiss 2019, shift {tuple(t['shift'])}, {t['boundary']} fill): "
                     f"{t['p_top1_change']:.1%} [{t['p_top1_change_ci'][0]:.1%}, {t['p_top1_change_ci'][1]:.1%}]; "
                     f"MAC {t['mac']:.3g} [{t['mac_ci'][0]:.3g}, {t['mac_ci'][1]:.3g}]; worst one-pixel move "
                     f"{tuple(t['worst_neighbour'])}: {t['p_top1_change_worst_neighbour']:.1%}")
    for key, name in (("eq_t", "EQ-T"), ("eq_r", "EQ-R")):
        if key in metrics:
            m = metrics[key]
            lines.append(f"{name} (StyleGAN3): {_db(m['psnr_db'])} dB [{_db(m['psnr_db_ci'][0])}, "
                         f"{_db(m['psnr_db_ci'][1])}]")
    if "worst_case" in metrics:
        w = metrics["worst_case"]
        lines.append(f"accuracy over all {w['elements']} circular shifts (exact, every shift tried): clean "
                     f"{w['clean_accuracy']:.1%}, worst case {w['worst_case_accuracy']:.1%}; {w['flipped']} of "
                     f"{result['inputs']} images change prediction somewhere"
                     + (f", the smallest move that does: {w['smallest_flip_element']} (L1 length "
                        f"{w['smallest_flip']})" if w["flipped"] else ""))
        if "shrunk_flipping_input" in w:
            k = w["shrunk_flipping_input"]
            lines.append(f"  shrunk: image {k['image']} keeps flipping (class {k['classes'][0]} -> "
                         f"{k['classes'][1]} under {k['element']}) with {k['nonzero']} of {k['of']} values non-zero"
                         + (f": {k['values'][:8]}" if k["values"] is not None else ""))
    return "\n".join(lines) + "\n"


def _db(value):
    return "inf" if math.isinf(value) else f"{value:.1f}"


def layer_bars(split, generator):
    """PNG bar chart of each module's share of the Lie derivative, or None without matplotlib."""
    plt = _pyplot()
    if plt is None or not split["modules"]:
        return None
    names = list(split["modules"]) + [OUTSIDE]
    values = [max(v, 1e-18) for v in split["modules"].values()] + [max(split["outside_modules"], 1e-18)]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(names) + 2), 3.4))
    ax.bar(range(len(names)), values, color=["#cc6677" if n == split["largest"] else "#4477aa" for n in names])
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("mean ‖C_m‖ / ‖f(x)‖")
    ax.set_title(f"share of the Lie derivative per module: {generator}", fontsize=10)
    return _png(fig, plt)


def to_markdown(result, path: Path) -> list[str]:
    """Write the Markdown report at ``path`` and its figures beside it; returns the paths written."""
    written = []
    lines = [f"# Invariance measures: {result['target']}", "", "```text", to_text(result).rstrip(), "```", ""]
    for g, split in result["layerwise"].items():
        png = layer_bars(split, g)
        if png is not None:
            figure = path.with_name(f"{path.stem}-{g}.png")
            figure.write_bytes(png)
            written.append(str(figure))
            lines += [f"![{g}]({figure.name})", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return [str(path)] + written


def run(args: argparse.Namespace, resolve, progress_bar, parse_shape) -> int:
    """The subcommand: resolve the target, load the data, measure, print and write."""
    shape = parse_shape(args.input_shape)
    torch.manual_seed(0)  # a class or factory target is built after the same seed as in reproductions
    module = resolve(args.target)
    images, labels, description = load_data(args.data, shape, args.seed)
    with progress_bar(f"measuring {args.target}") as progress:
        result = measure(module, images, labels, args.output_action, args.generator, args.seed, progress)
    result = {"target": args.target, "input_shape": list(shape), "data": description} | result
    print(to_text(result), end="")
    if args.json:
        Path(args.json).write_text(dumps(result, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")
    if args.markdown:
        for path in to_markdown(result, Path(args.markdown)):
            print(f"wrote {path}")
    return 0
