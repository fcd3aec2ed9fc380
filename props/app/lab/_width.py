"""Experiment 2, width: does a fully connected network become translation-invariant as it grows?

MLPs of growing width (one and two hidden layers) are trained on the
upright, centred digits without augmentation, and compared with a CNN whose
circular convolutions end in global average pooling (invariant to every
circular shift by construction).  Measured: Zhang's consistency under random
shifts of up to 4 pixels, the exact worst-case accuracy over all 256 circular
shifts, the accuracy after one-pixel shifts, and the translation Lie
derivative.
"""

from __future__ import annotations

from ..._groups import Translations
from . import _measure as measure
from ._data import CANVAS
from ._networks import CNN, MLP, parameter_count
from ._settings import Settings, Task, data_for
from ._stats import change, differ, fmt, summary
from ._train import accuracy, build, train_classifier

NAME = "width"
QUESTION = ("If a fully connected network has enough neurons, does it become insensitive to where the digit sits — "
            "does translation invariance appear as an MLP grows wider or deeper — and how does it compare with a "
            "CNN that has global pooling?")
DEFINITIONS = {
    "accuracy": "test accuracy on the centred digits",
    "consistency": "share of test digits whose predicted class agrees between two random circular shifts of up to "
                   "4 pixels per axis, 4 pairs (consistency, Zhang 2019)",
    "worst_case_shift": "share of test digits classified correctly after every one of the 256 circular shifts "
                        "(worst_case_accuracy over Translations((16, 16)))",
    "accuracy_orbit_images": "accuracy on the unshifted test digits the orbit measures use",
    "accuracy_1px": "mean accuracy over the 8 shifts by one pixel (and diagonals), from the same orbit",
    "accuracy_all_shifts": "mean accuracy over all 256 circular shifts, from the same orbit",
    "lie_translation": "mean relative translation Lie derivative of the logits along x, per pixel (lie_derivative)",
    "parameters": "trainable parameters",
}


def widths(settings: Settings) -> tuple[int, ...]:
    return (16, 256) if settings.quick else (16, 64, 256, 1024)


def depths(settings: Settings) -> tuple[int, ...]:
    return (1,) if settings.quick else (1, 2)


def run_one(settings: Settings, seed: int, *, network: str, width: int = 0, depth: int = 0) -> dict:
    data = data_for(settings)
    model = build((lambda: CNN("none")) if network == "cnn" else (lambda: MLP(CANVAS, width, depth)), seed)
    train_classifier(model, data.train_x, data.train_y, seed=seed, schedule=settings.schedule)
    n = settings.orbit_images
    shifts = measure.worst_case(model, data.test_x[:n], data.test_y[:n], Translations((CANVAS, CANVAS)))
    one_pixel = [i for i, g in enumerate(shifts.elements)
                 if max(min(t % CANVAS, -t % CANVAS) for t in g.shifts) == 1]
    return {
        "accuracy": accuracy(model, data.test_x, data.test_y),
        "accuracy_orbit_images": shifts.clean_accuracy,
        "consistency": measure.consistency(model, data.test_x, seed=seed),
        "worst_case_shift": shifts.worst_case_accuracy,
        "accuracy_1px": measure.mean_accuracy(shifts, one_pixel),
        "accuracy_all_shifts": float(shifts.accuracy_per_element.mean()),
        "lie_translation": measure.lie_derivative(model, data.test_x[:settings.eval_images], "translation-x"),
        "parameters": float(parameter_count(model)),
    }


def tasks(settings: Settings) -> list[Task]:
    out = []
    for seed in settings.seeds:
        for depth in depths(settings):
            for width in widths(settings):
                out.append(Task(NAME, f"mlp-{depth}x{width}", seed, run_one,
                                (("network", "mlp"), ("width", width), ("depth", depth)),
                                cost=1 + width * depth // 128))
        out.append(Task(NAME, "cnn-gap", seed, run_one, (("network", "cnn"),), cost=8))
    return out


def answer(metrics: dict) -> str:
    v = metrics["variants"]
    mlps = [k for k in v if k.startswith("mlp-")]
    smallest = min(mlps, key=lambda k: v[k]["parameters"]["mean"])
    largest = max(mlps, key=lambda k: v[k]["parameters"]["mean"])
    small, large, cnn = v[smallest], v[largest], v["cnn-gap"]
    grows = differ(small["consistency"], large["consistency"]) and \
        large["consistency"]["mean"] > small["consistency"]["mean"]
    parts = [
        f"From the smallest MLP ({smallest}, {small['parameters']['mean']:.0f} parameters) to the largest ({largest}, "
        f"{large['parameters']['mean']:.0f}), consistency under random shifts {change(small['consistency'], large['consistency'], percent=True)}, "
        f"and the worst-case accuracy over all 256 circular shifts "
        f"{change(small['worst_case_shift'], large['worst_case_shift'], percent=True)}.",
    ]
    mlp_names = sorted(mlps, key=lambda k: v[k]["parameters"]["mean"])
    rho = _rank_correlation([v[k]["parameters"]["mean"] for k in mlp_names],
                            [v[k]["consistency"]["mean"] for k in mlp_names])
    parts.append(f"Across all {len(mlp_names)} MLPs the rank correlation between parameter count and mean consistency "
                 f"was {rho:+.2f}.")
    if grows:
        parts.append(f"So size bought some shift robustness, but far from invariance: the largest MLP still kept "
                     f"its prediction under only {fmt(large['consistency'], True)} of random shift pairs and was "
                     f"right after every shift for {fmt(large['worst_case_shift'], True)} of digits.")
    else:
        parts.append("So growing the MLP did not make it measurably more shift-invariant: the invariance does not "
                     "appear by itself with more neurons when the data never shows the digit elsewhere.")
    parts.append(
        f"Even a one-pixel shift cost the largest MLP accuracy: {fmt(large['accuracy'], True)} centred against "
        f"{fmt(large['accuracy_1px'], True)} after one-pixel shifts. The CNN with circular convolutions and global "
        f"pooling reached {fmt(cnn['accuracy'], True)} accuracy with {cnn['parameters']['mean']:.0f} parameters and "
        f"consistency {fmt(cnn['consistency'], True)}; ")
    if cnn["worst_case_shift"]["values"] == cnn["accuracy_orbit_images"]["values"]:
        parts[-1] += ("in the worst case over all shifts it lost nothing (worst-case accuracy equal to its clean "
                      "accuracy on the same digits for every seed): its invariance is built into the architecture, "
                      "whatever the data or its size.")
    else:
        parts[-1] += (f"its worst-case accuracy over all shifts was {fmt(cnn['worst_case_shift'], True)} against "
                      f"{fmt(cnn['accuracy_orbit_images'], True)} clean on the same digits, so even its built-in "
                      f"invariance was not exact here.")
    return " ".join(parts)


def _rank_correlation(a: list, b: list) -> float:
    """Spearman's rank correlation (ties broken by order; 0 when either list is constant)."""
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        for rank, i in enumerate(order):
            out[i] = float(rank)
        return out
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    mean = (n - 1) / 2
    cov = sum((x - mean) * (y - mean) for x, y in zip(ra, rb))
    var = sum((x - mean) ** 2 for x in ra)
    return cov / var if var and len(set(b)) > 1 else 0.0


def summarise(rows: dict) -> dict:
    return {"definitions": DEFINITIONS,
            "variants": {variant: {key: summary([r[key] for r in runs]) for key in runs[0]}
                         for variant, runs in rows.items()}}
