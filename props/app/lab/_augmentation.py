"""Experiment 1, augmentation: how much rotation invariance does training on rotated images buy, and where?

A CNN (the textbook one: convolutions, max pooling, dense layers) and an MLP
are trained on the digits 0–6 without augmentation, with
random multiples of 90° (C4) and with uniformly random angles.  Measured on
test digits of the trained classes, on the held-out digits 7–9 (never seen,
in any orientation) and on smooth random images (no digit at all): the C4
orbit error of the logits, the rotation Lie derivative, and the accuracy on
rotated test digits.
"""

from __future__ import annotations

import torch

from ..._actions import Rotation
from ..._groups import FiniteGroup, c4
from . import _measure as measure
from ._data import noise_images, random_rotations
from ._networks import MLP, lenet
from ._settings import Settings, Task, data_for
from ._stats import change, differ, fmt, ratio, summary
from ._train import build, train_classifier

NAME = "augmentation"
QUESTION = ("Does training on rotated images make a network rotation-invariant — a CNN and an MLP, with rotations by "
            "multiples of 90° or by any angle — and only near the training data, or also on digits of classes it "
            "never saw and on images that are not digits at all?")
TRAINED_CLASSES = tuple(range(7))
ARCHITECTURES = ("cnn", "mlp")
AUGMENTATIONS = ("none", "c4", "continuous")
PLACES = ("digits", "held-out classes", "noise")
DEFINITIONS = {
    "accuracy": "test accuracy on upright digits of the trained classes 0–6",
    "accuracy_c4": "mean test accuracy on the digits rotated by 90°, 180° and 270° (worst_case_accuracy over C4)",
    "worst_case_c4": "share of test digits classified correctly in all four orientations (worst_case_accuracy)",
    "accuracy_any_angle": "mean test accuracy over rotations by 30°, 60°, …, 330° (bilinear; worst_case_accuracy)",
    "orbit_c4[...]": "C4 orbit error of the logits: max over rot90/180/270 and the batch of |f(g·x) − f(x)|, relative "
                     "to max |f(x)| (orbit_error, trivial output action), on test digits / held-out classes / noise",
    "lie_rotation[...]": "mean relative rotation Lie derivative of the logits, per radian (lie_derivative, "
                         "'invariant'), on the same three sets",
}


def _network(architecture: str, classes: int) -> torch.nn.Module:
    if architecture == "cnn":
        return lenet(classes=classes)
    return MLP(16, 128, 1, classes=classes)


def run_one(settings: Settings, seed: int, *, architecture: str, augmentation: str) -> dict:
    data = data_for(settings)
    trained, held_out = data.only_classes(TRAINED_CLASSES)
    model = build(lambda: _network(architecture, len(TRAINED_CLASSES)), seed)
    augment = None if augmentation == "none" else (lambda x, g: random_rotations(x, augmentation, g))
    train_classifier(model, trained.train_x, trained.train_y, seed=seed, schedule=settings.schedule, augment=augment)

    n = settings.eval_images
    sets = {"digits": trained.test_x[:n], "held-out classes": held_out.test_x[:n], "noise": noise_images(n, seed)}
    four = measure.worst_case(model, trained.test_x, trained.test_y, c4())
    angles = FiniteGroup("rotations by 30°", [Rotation(30.0 * k) for k in range(12)])
    turned = measure.worst_case(model, trained.test_x, trained.test_y, angles)
    row = {
        "accuracy": four.clean_accuracy,
        "accuracy_c4": measure.mean_accuracy(four, [1, 2, 3]),
        "worst_case_c4": four.worst_case_accuracy,
        "accuracy_any_angle": measure.mean_accuracy(turned, range(1, 12)),
    }
    for place, x in sets.items():
        row[f"orbit_c4[{place}]"] = measure.orbit_error(model, x, c4())
        row[f"lie_rotation[{place}]"] = measure.lie_derivative(model, x, "rotation")
    return row


def tasks(settings: Settings) -> list[Task]:
    return [Task(NAME, f"{architecture}/{augmentation}", seed, run_one,
                 (("architecture", architecture), ("augmentation", augmentation)), cost=4 if architecture == "cnn" else 2)
            for seed in settings.seeds for architecture in ARCHITECTURES for augmentation in AUGMENTATIONS]


def answer(metrics: dict) -> str:
    """One paragraph, every statement decided by the measured means and intervals."""
    v = metrics["variants"]
    parts = []
    for architecture in ARCHITECTURES:
        base, rotated, any_angle = (v[f"{architecture}/{a}"] for a in AUGMENTATIONS)
        name = architecture.upper()
        parts.append(
            f"For the {name}, C4 augmentation changed the accuracy on digits turned by 90°/180°/270°: it "
            f"{change(base['accuracy_c4'], rotated['accuracy_c4'], percent=True)}, and the C4 orbit error of its "
            f"logits on test digits {change(base['orbit_c4[digits]'], rotated['orbit_c4[digits]'])}; with augmentation "
            f"by any angle, the rotation Lie derivative on test digits "
            f"{change(base['lie_rotation[digits]'], any_angle['lie_rotation[digits]'])}.")
        near = ratio(rotated["orbit_c4[digits]"], base["orbit_c4[digits]"])
        far = {p: ratio(rotated[f"orbit_c4[{p}]"], base[f"orbit_c4[{p}]"]) for p in PLACES[1:]}
        reached = [p for p in PLACES[1:] if differ(base[f"orbit_c4[{p}]"], rotated[f"orbit_c4[{p}]"])
                   and rotated[f"orbit_c4[{p}]"]["mean"] < base[f"orbit_c4[{p}]"]["mean"]]
        if not differ(base["orbit_c4[digits]"], rotated["orbit_c4[digits]"]) or near >= 1:
            parts.append(f"Near the data the {name} gained no measurable C4 invariance, so there is nothing to carry "
                         f"further.")
        elif len(reached) == len(far) and all(f <= near ** 0.5 for f in far.values()):
            parts.append(f"The gain reached beyond the data: the orbit error fell to ×{far['held-out classes']:.2g} of "
                         f"its unaugmented value on held-out classes and ×{far['noise']:.2g} on noise (×{near:.2g} on "
                         f"trained digits).")
        else:
            where = " and ".join(reached) if reached else "neither held-out classes nor noise"
            parts.append(f"Off the data the gain was weaker: the orbit error fell to ×{far['held-out classes']:.2g} "
                         f"of its unaugmented value on held-out classes and ×{far['noise']:.2g} on noise, against "
                         f"×{near:.2g} on trained digits (a measurable fall on {where}).")
    cnn, mlp = v["cnn/c4"], v["mlp/c4"]
    better = "CNN" if cnn["worst_case_c4"]["mean"] > mlp["worst_case_c4"]["mean"] else "MLP"
    parts.append(f"After C4 augmentation the share of digits right in all four orientations was "
                 f"{fmt(cnn['worst_case_c4'], True)} for the CNN and {fmt(mlp['worst_case_c4'], True)} for the MLP "
                 f"({'the ' + better + ' ahead' if differ(cnn['worst_case_c4'], mlp['worst_case_c4']) else 'no measurable difference'});"
                 f" no network was rotation-invariant exactly: the smallest C4 orbit error after augmentation was "
                 f"{min(v[f'{a}/c4']['orbit_c4[digits]']['mean'] for a in ARCHITECTURES):.3g} of the logits' size.")
    return " ".join(parts)


def summarise(rows: dict) -> dict:
    """``rows[variant]`` is the list of per-seed dicts; returns the metrics."""
    return {"definitions": DEFINITIONS, "trained_classes": list(TRAINED_CLASSES),
            "variants": {variant: {key: summary([r[key] for r in runs]) for key in runs[0]}
                         for variant, runs in rows.items()}}
