"""Experiment 5, architecture: which parts of a CNN make it shift-invariant, at initialisation and after training?

Five CNNs differ only in how their first two blocks downsample — a strided
convolution, 2×2 max pooling, anti-aliased max pooling (BlurPool), adaptive
polyphase sampling (APS), or none (dilated convolutions instead) — and all
use circular padding and end in global average pooling; the sixth is the
textbook LeNet-like CNN (zero padding, max pooling, flatten, dense layers).
Measured at initialisation and after training: Zhang's consistency, the exact
worst-case accuracy over all 256 circular shifts, the share of digits whose
prediction survives the whole orbit, the size of the smallest shift that
changes a prediction, and the suite's verdicts for the claims
``translation-invariant`` (every circular shift) and
``translation-invariant[stride=4]`` (shifts by multiples of 4).
"""

from __future__ import annotations

import statistics

from ..._groups import Translations
from . import _measure as measure
from ._data import CANVAS
from ._networks import CNN, lenet
from ._settings import Settings, Task, data_for
from ._stats import change, differ, fmt, summary
from ._train import accuracy, build, train_classifier

NAME = "architecture"
QUESTION = ("Which parts of a CNN make it insensitive to translations — the convolution, pooling, anti-aliasing, "
            "adaptive sampling or global pooling — and is that insensitivity there at initialisation, or learned?")
ARCHITECTURES = {
    "strided": "stride", "max-pool": "maxpool", "blurpool": "blurpool", "aps": "aps", "global-pool only": "none",
    "lenet (flatten)": "lenet",
}
STATES = ("init", "trained")
DEFINITIONS = {
    "accuracy": "test accuracy",
    "consistency": "share of test digits whose prediction agrees between two random circular shifts of up to 4 pixels "
                   "per axis, 4 pairs (consistency)",
    "worst_case_shift": "share of test digits classified correctly after every one of the 256 circular shifts "
                        "(worst_case_accuracy)",
    "accuracy_orbit_images": "accuracy on the unshifted digits the orbit measures use",
    "orbit_consistency": "share of those digits whose prediction is the same after every circular shift",
    "median_flip": "median over digits of the smallest shift (L1 length on the torus) that changes the prediction; "
                   "0 when none does",
    "claim_translation_invariant": "1 when check_claim finds 'translation-invariant' holding (all 256 shifts, "
                                   "float tolerance with float64 arbiter) on 8 test digits, else 0; the mean is the "
                                   "share of seeds",
    "orbit_error": "largest change of the logits over all 256 circular shifts of those 8 digits, relative to their "
                   "largest magnitude (from the same check): meaningful also at initialisation, where an untrained "
                   "network often predicts one class for everything",
    "claim_invariant_stride4": "the same for 'translation-invariant[stride=4]' (shifts by multiples of 4)",
}


def _network(kind: str):
    return lenet() if kind == "lenet" else CNN(kind)


def _measure_state(model, settings: Settings, data) -> dict:
    n = settings.orbit_images
    orbit = measure.worst_case(model, data.test_x[:n], data.test_y[:n], Translations((CANVAS, CANVAS)))
    flips = [s or 0 for s in orbit.flip_sizes]
    few = data.test_x[:8]
    holds, error = measure.claim(model, few, "translation-invariant")
    holds4, _ = measure.claim(model, few, "translation-invariant[stride=4]")
    return {
        "accuracy": accuracy(model, data.test_x, data.test_y),
        "consistency": measure.consistency(model, data.test_x),
        "worst_case_shift": orbit.worst_case_accuracy,
        "accuracy_orbit_images": orbit.clean_accuracy,
        "orbit_consistency": orbit.orbit_consistency,
        "median_flip": float(statistics.median(flips)),
        "claim_translation_invariant": holds,
        "claim_invariant_stride4": holds4,
        "orbit_error": error,
        # the accuracy after each shift, for the heatmap (first seed only is drawn)
        "accuracy_map": _grid(orbit.accuracy_map()),
    }


def _grid(accuracy_map) -> list:
    if accuracy_map is None:  # pragma: no cover - a translation group always has a grid
        raise ValueError("the worst case over translations gave no accuracy map")
    return accuracy_map.tolist()


def run_one(settings: Settings, seed: int, *, kind: str) -> dict:
    data = data_for(settings)
    model = build(lambda: _network(kind), seed).eval()
    row = {f"init/{k}": v for k, v in _measure_state(model, settings, data).items()}
    train_classifier(model, data.train_x, data.train_y, seed=seed, schedule=settings.schedule)
    row.update({f"trained/{k}": v for k, v in _measure_state(model, settings, data).items()})
    return row


def tasks(settings: Settings) -> list[Task]:
    return [Task(NAME, name, seed, run_one, (("kind", kind),), cost=12 if kind == "none" else 6)
            for seed in settings.seeds for name, kind in ARCHITECTURES.items()]


def answer(metrics: dict) -> str:
    v = metrics["variants"]

    def t(name, key, state="trained"):
        return v[name][f"{state}/{key}"]

    names = list(v)
    exact = [n for n in names if t(n, "claim_translation_invariant")["mean"] == 1.0]
    sub4 = [n for n in names if t(n, "claim_invariant_stride4")["mean"] == 1.0 and n not in exact]
    ranked = sorted(names, key=lambda n: -t(n, "worst_case_shift")["mean"])
    parts = [
        "Exact invariance to every circular shift, as the suite's check found it after training: "
        + (", ".join(exact) if exact else "none of the networks")
        + "; invariance to shifts by multiples of 4 only (the downsampling's subgroup): "
        + (", ".join(sub4) if sub4 else "none") + ".",
        "Worst-case accuracy over all 256 shifts after training, best first: "
        + "; ".join(f"{n} {fmt(t(n, 'worst_case_shift'), True)} (clean {fmt(t(n, 'accuracy_orbit_images'), True)})"
                    for n in ranked) + ".",
    ]
    if "max-pool" in v and "blurpool" in v:
        parts.append(f"Anti-aliasing the max pooling changed the consistency under random shifts: it "
                     f"{change(t('max-pool', 'consistency'), t('blurpool', 'consistency'), percent=True)}, and the "
                     f"worst case {change(t('max-pool', 'worst_case_shift'), t('blurpool', 'worst_case_shift'), percent=True)}.")
    if "lenet (flatten)" in v:
        lenet_name = "lenet (flatten)"
        parts.append(f"The textbook CNN (convolution and max pooling, then dense layers) had consistency "
                     f"{fmt(t(lenet_name, 'consistency'), True)} and worst-case accuracy "
                     f"{fmt(t(lenet_name, 'worst_case_shift'), True)}: convolution and pooling alone gave it "
                     + ("little" if t(lenet_name, "worst_case_shift")["mean"] < 0.5 * t(lenet_name, "accuracy")["mean"]
                        else "much of its")
                     + " invariance to shifts of the whole image.")
    learned = [n for n in names if n not in exact and differ(t(n, "consistency", "init"), t(n, "consistency"))]
    parts.append("From initialisation to training, consistency " + (
        "; ".join(f"of {n} {change(t(n, 'consistency', 'init'), t(n, 'consistency'), percent=True)}" for n in learned)
        if learned else "did not change measurably for any network without exact invariance")
        + ". What holds exactly holds at initialisation too, whatever the weights: it comes from the architecture"
        + (" — the suite's verdicts at initialisation agreed with those after training."
           if all(t(n, "claim_translation_invariant", "init")["mean"] == t(n, "claim_translation_invariant")["mean"]
                  for n in names) else
           "; but here the verdicts at initialisation and after training differed for some network (see the table)."))
    return " ".join(parts)


def summarise(rows: dict) -> dict:
    variants = {}
    maps = {}
    for variant, runs in rows.items():
        variants[variant] = {key: summary([r[key] for r in runs]) for key in runs[0] if not key.endswith("accuracy_map")}
        maps[variant] = {state: runs[0][f"{state}/accuracy_map"] for state in STATES}
    return {"definitions": DEFINITIONS, "states": list(STATES), "variants": variants,
            "accuracy_maps_first_seed": maps}
