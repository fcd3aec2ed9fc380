"""The learned-invariance lab: outputs, numbers that come from the suite's own checks, determinism, bad input.

The lab runs ``--quick`` with one seed on a subset of its experiments here;
the full run (five experiments, three seeds) is what the README reports.
"""

import json
import math
import subprocess
import sys

import pytest
import torch

pytest.importorskip("sklearn", reason="the lab trains on scikit-learn's bundled digits (the lab extra)")

import convnet_invariances._audit as audit_module  # noqa: E402
import convnet_invariances._checks as checks_module  # noqa: E402
import convnet_invariances._claims as claims_module  # noqa: E402
import convnet_invariances._lie as lie_module  # noqa: E402
import convnet_invariances._worst_case as worst_case_module  # noqa: E402
from convnet_invariances import InvalidArgument, Translations, orbit_error, same_action  # noqa: E402
from convnet_invariances.app.lab import EXPERIMENTS, run_lab  # noqa: E402
from convnet_invariances.app.lab import _dense_conv, _multiresolution, _stats, _width  # noqa: E402
from convnet_invariances.app.lab._data import CANVAS, Zoom, load_digits  # noqa: E402
from convnet_invariances.models import CirculantLinear, DenseLinear  # noqa: E402


class Spy:
    """Wraps a library function: calls it, records what it returned."""

    def __init__(self, monkeypatch, module, name):
        self.real = getattr(module, name)
        self.returned = []
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        value = self.real(*args, **kwargs)
        self.returned.append(value)
        return value


@pytest.fixture(scope="module")
def quick_architecture(tmp_path_factory):
    """One quick run of the architecture experiment (one seed), with every suite check it calls spied on."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        spies = {name: Spy(monkeypatch, module, name) for module, name in (
            (worst_case_module, "worst_case_accuracy"), (audit_module, "consistency"),
            (claims_module, "check_claim"))}
        out = tmp_path_factory.mktemp("lab")
        calls = []
        results = run_lab(out, quick=True, seeds=1, experiments=["architecture"],
                          progress=lambda label: _recording(calls, label))
    return out, results, spies, calls


class _recording:
    def __init__(self, calls, label):
        self.calls, self.label = calls, label

    def __enter__(self):
        return lambda done, total: self.calls.append((self.label, done, total))

    def __exit__(self, *exc):
        return False


def test_the_outputs_have_the_promised_structure(quick_architecture):
    out, results, _, calls = quick_architecture
    on_disk = json.loads((out / "results.json").read_text())
    assert list(on_disk) == ["architecture"] and on_disk == json.loads(json.dumps(results))
    entry = on_disk["architecture"]
    assert set(entry) == {"question", "answer", "metrics"}
    assert entry["question"].endswith("?") and len(entry["answer"]) > 200
    variants = entry["metrics"]["variants"]
    assert list(variants) == ["strided", "max-pool", "blurpool", "aps", "global-pool only", "lenet (flatten)"]
    for stats in variants.values():
        for summary in stats.values():
            assert summary["n"] == 1 and summary["ci95"] is None and len(summary["values"]) == 1
    report = (out / "report.md").read_text()
    assert "## architecture" in report and "**Question.**" in report and "**Answer.**" in report
    assert entry["answer"] in report and "![architecture](architecture.png)" in report
    assert (out / "architecture.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "architecture_shift_maps.png").exists()
    # progress: reported per training, ending at the total
    label, done, total = calls[-1]
    assert label.startswith("architecture") and done == total and len(calls) == 7


def test_the_numbers_are_the_suites_own(quick_architecture):
    _, results, spies, _ = quick_architecture
    variants = results["architecture"]["metrics"]["variants"]
    worst = [r.worst_case_accuracy for r in spies["worst_case_accuracy"].returned]
    consistency = [r["consistency"] for r in spies["consistency"].returned]
    holds = [float(r.holds) for r in spies["check_claim"].returned]
    # per network: (init, trained) × one worst case, one consistency, two claims — in that order
    assert len(worst) == len(consistency) == 12 and len(holds) == 24
    for i, stats in enumerate(variants.values()):
        for j, state in enumerate(("init", "trained")):
            k = 2 * i + j
            assert stats[f"{state}/worst_case_shift"]["values"] == [pytest.approx(worst[k], abs=5e-4)]
            assert stats[f"{state}/consistency"]["values"] == [pytest.approx(consistency[k], abs=5e-4)]
            assert stats[f"{state}/claim_translation_invariant"]["values"] == [holds[2 * k]]
            assert stats[f"{state}/claim_invariant_stride4"]["values"] == [holds[2 * k + 1]]
    # the architectures built to be invariant are found invariant by the suite; the textbook CNN is not
    assert variants["global-pool only"]["trained/claim_translation_invariant"]["mean"] == 1.0
    assert variants["lenet (flatten)"]["trained/claim_translation_invariant"]["mean"] == 0.0
    assert variants["strided"]["trained/claim_invariant_stride4"]["mean"] == 1.0


def test_orbit_errors_and_lie_derivatives_come_from_the_suite(monkeypatch, tmp_path):
    orbit = Spy(monkeypatch, checks_module, "orbit_error")
    lie = Spy(monkeypatch, lie_module, "lie_derivative")
    results = run_lab(tmp_path, quick=True, seeds=1, experiments=["dense_learns_conv"])
    assert orbit.returned and not lie.returned
    variants = results["dense_learns_conv"]["metrics"]["variants"]
    first = next(iter(variants.values()))
    # the first task measures on then off the training distribution: the relative errors are the suite's maxima
    on, off = orbit.returned[0], orbit.returned[1]
    assert first["orbit[on]"]["values"][0] > 0 and float(on.errors.max()) > 0 and float(off.errors.max()) > 0
    assert len(orbit.returned) == 2 * len(variants)


def test_a_dense_layer_that_is_a_convolution_is_measured_as_one():
    """The measures of dense_learns_conv on the two reference layers: a circulant one, and a generic dense one."""
    circulant = CirculantLinear(8, seed=3)
    dense = DenseLinear(8, seed=3)
    assert _dense_conv.circulant_distance(circulant.matrix().float(), (8,)) < 1e-7
    assert _dense_conv.circulant_distance(dense.weight.detach(), (8,)) > 0.3
    x = torch.randn(4, 1, 8)
    assert orbit_error(circulant, x, Translations((8,)), output_action=same_action()).holds
    projected = _dense_conv.nearest_circulant(dense.weight.detach(), (8,))
    assert torch.allclose(_dense_conv.nearest_circulant(projected, (8,)), projected)  # a projection
    # 2-D: the nearest block-circulant matrix of a circular 3×3 convolution is itself
    eye = torch.eye(16).view(16, 1, 4, 4)
    kernel = torch.randn(1, 1, 3, 3)
    from convnet_invariances.models import padded_conv2d
    matrix = padded_conv2d(eye, kernel).view(16, 16).T
    assert _dense_conv.circulant_distance(matrix, (4, 4)) < 1e-6


def test_a_seed_gives_the_same_numbers_in_one_process_or_two(tmp_path):
    one = run_lab(tmp_path / "a", quick=True, seeds=1, experiments=["dense_learns_conv"])
    two = run_lab(tmp_path / "c", quick=True, seeds=1, experiments=["dense_learns_conv"], jobs=2)
    assert one == two  # other processes, another order of the tasks: the same numbers
    assert (tmp_path / "a" / "results.json").read_text() == (tmp_path / "c" / "results.json").read_text()
    assert torch.get_num_threads() >= 1  # the lab restores the caller's thread count


def test_the_answers_follow_the_numbers():
    """The same sentence template must say opposite things when the data say opposite things."""
    def variants(consistency_small, consistency_large):
        row = lambda c, p: {"accuracy": [0.9] * 3, "accuracy_orbit_images": [0.9] * 3, "consistency": c,  # noqa
                            "worst_case_shift": [0.0] * 3, "accuracy_1px": [0.6] * 3, "parameters": [p] * 3}
        cnn = {"accuracy": [0.9] * 3, "accuracy_orbit_images": [0.9] * 3, "consistency": [1.0] * 3,
               "worst_case_shift": [0.9] * 3, "accuracy_1px": [0.9] * 3, "parameters": [6000] * 3}
        raw = {"mlp-1x16": row(consistency_small, 4000), "mlp-1x1024": row(consistency_large, 270000), "cnn-gap": cnn}
        return {"variants": {k: {m: _stats.summary(v) for m, v in r.items()} for k, r in raw.items()}}

    grows = _width.answer(variants([0.30, 0.31, 0.29], [0.90, 0.91, 0.92]))
    flat = _width.answer(variants([0.30, 0.35, 0.25], [0.31, 0.36, 0.26]))
    assert "rose from 30.0%" in grows and "bought some shift robustness" in grows
    assert "did not change measurably" in flat and "did not make it measurably more shift-invariant" in flat
    assert "lost nothing" in grows


def test_a_collapsed_network_is_not_praised_for_its_invariance():
    good = {"accuracy": [0.9] * 3, "accuracy_up2": [0.2] * 3, "accuracy_down2": [0.2] * 3, "invariance_up2": [0.5] * 3,
            "accuracy_zoom": [0.3] * 3, "worst_case_zoom": [0.1] * 3, "lie_scale": [2.0] * 3}
    dead = dict(good, accuracy=[0.1] * 3, invariance_up2=[0.0] * 3, lie_scale=[0.0] * 3)
    raw = {"plain": good, "multiresolution": good, "plain+scale-augmentation": dead}
    metrics = {"variants": {k: {m: _stats.summary(v) for m, v in r.items()} for k, r in raw.items()}}
    assert "collapsed" in _multiresolution.answer(metrics)


def test_the_interval_is_students_t():
    scipy_stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 5, 10, 29, 30, 31, 60, 200):
        assert _stats.t_quantile(df) == pytest.approx(float(scipy_stats.t.ppf(0.975, df)), abs=5e-3)
    values = [0.2, 0.5, 0.9, 0.4]
    summary = _stats.summary(values)
    half = float(scipy_stats.t.ppf(0.975, 3)) * torch.tensor(values).std().item() / math.sqrt(4)
    assert summary["ci95"] == pytest.approx([0.5 - half, 0.5 + half], abs=2e-3)
    assert _stats.summary([0.7])["ci95"] is None


def test_the_data_ship_with_the_package_and_zoom_is_a_group_element():
    data = load_digits()
    assert data.train_x.shape[1:] == (1, CANVAS, CANVAS) and len(data.train_y) + len(data.test_y) == 1797
    assert torch.equal(load_digits().test_y, data.test_y)  # one fixed split
    x = data.test_x[:2]
    assert torch.allclose(Zoom(1.0)(x), x, atol=1e-6) and Zoom(2.0).inverse() == Zoom(0.5)


BAD_CALLS = [
    ("unknown-experiment", dict(experiments=["everything"]), r"experiments=\['everything'\]: unknown 'everything'"),
    ("string-experiments", dict(experiments="width"), "experiments='width' must be a list"),
    ("no-experiment", dict(experiments=[]), "names no experiment"),
    ("seeds", dict(seeds=0), "seeds=0 must be a positive int"),
    ("jobs", dict(jobs=0), "jobs=0 must be a positive int"),
]


@pytest.mark.parametrize("arguments, match", [pytest.param(a, m, id=i) for i, a, m in BAD_CALLS])
def test_bad_arguments_name_themselves(tmp_path, arguments, match):
    with pytest.raises(InvalidArgument, match=match):
        run_lab(tmp_path, **arguments)
    assert not (tmp_path / "results.json").exists()


def in_process(capsys, *args):
    """``invariances lab ARGS`` in this process: (exit status, stderr)."""
    from convnet_invariances.app import main
    try:
        status = main(["lab", *args])
    except SystemExit as exc:  # argparse's own usage errors
        status = exc.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (("--seeds", "0"), "argument --seeds: '0' must be a positive integer"),
    (("--only", "colour"), "unknown 'colour'; choose from augmentation, width"),
    (("--jobs", "-1"), "argument --jobs: '-1' must be a positive integer"),
], ids=["seeds", "only", "jobs"])
def test_the_command_line_rejects_bad_options(capsys, args, message):
    status, err = in_process(capsys, *args)
    assert status == 2 and message in err


def test_the_command_line_refuses_a_file_as_output_folder(capsys, tmp_path):
    target = tmp_path / "taken"
    target.write_text("")
    status, err = in_process(capsys, "--out", str(target))
    assert status == 2 and "is a file; give a folder" in err


def test_a_bad_option_gets_a_message_not_a_traceback():
    out = subprocess.run([sys.executable, "-m", "convnet_invariances", "lab", "--only", "colour"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2 and "invariances: error: experiments=['colour']" in out.stderr
    assert "Traceback" not in out.stderr


def test_every_experiment_is_named_in_the_runner():
    assert list(EXPERIMENTS) == ["augmentation", "width", "dense_learns_conv", "multiresolution", "architecture"]


def test_the_lab_modules_examples_run():
    import doctest
    import importlib
    for name in ("_stats", "_data", "_networks", "_dense_conv", "_train", "__init__"):
        module = importlib.import_module("convnet_invariances.app.lab" + ("" if name == "__init__" else f".{name}"))
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, name
