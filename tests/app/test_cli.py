"""The ``invariances`` command as a new user meets it: targets, claims, exit codes, messages."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "user_layers.py"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "convnet_invariances", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_a_true_claim_exits_0_and_prints_the_table(tmp_path):
    out = run("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--claim", "translation-invariant",
              "--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md"), "--html", str(tmp_path / "r.html"))
    assert out.returncode == 0, out.stderr
    assert "translation-invariant" in out.stdout and "certified" in out.stdout  # proved from the graph
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["claims"][0]["verdict"] == "certified" and data["input_shape"] == [1, 8, 8]
    assert (tmp_path / "r.md").exists() and (tmp_path / "r-0.png").exists() and (tmp_path / "r.html").exists()


def test_a_false_claim_exits_1_with_a_minimal_counterexample():
    out = run("audit", f"{DATA}:LeakyBorderPool", "--input-shape", "1,8,8", "--claim", "translation-invariant")
    assert out.returncode == 1
    assert "violated" in out.stdout and "reproduce (runs as printed):" in out.stdout and "Traceback" not in out.stderr
    assert out.stdout.count(" claim(s): ") == 1  # one heading
    assert "consistency" not in out.stdout  # classifier measures only when asked for


def test_without_claims_the_profile_is_inferred_and_printed_concisely():
    out = run("audit", f"{DATA}:make_layer", "--input-shape", "1,8,8")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].count("profile inferred from the catalogue") == 1
    kept = next(line for line in lines if line.startswith("translation-invariant "))
    assert "certified" in kept  # proved from the graph (and searched)
    broken = next(line for line in lines if line.startswith("not kept (violated): "))
    assert "rot90-invariant" in broken and "flip-invariant" in broken
    assert len(lines) <= 16, out.stdout
    assert "reproduce" not in out.stdout and "searched:" not in out.stdout

    verbose = run("audit", f"{DATA}:make_layer", "--input-shape", "1,8,8", "--verbose")
    claims = int(verbose.stdout.split(" claim(s)")[0].rsplit(" ", 1)[-1])
    assert verbose.stdout.count("  searched: ") == claims
    assert verbose.stdout.count("reproduce (runs as printed):") == broken.count(",") + 1


def test_classifier_measures_only_when_asked_and_only_for_class_scores(tmp_path):
    out = run("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--claim", "translation-invariant",
              "--classifier")
    assert out.returncode == 0, out.stderr
    assert "consistency: 100.0% of 32 smooth random images keep their predicted class" in out.stdout
    out = run("audit", "torch.nn:Identity", "--input-shape", "1,8,8", "--claim", "translation-equivariant",
              "--classifier")
    assert out.returncode == 2 and "classifier=True needs class scores" in out.stderr


def test_the_console_script_and_python_m_are_the_same_command(tmp_path):
    package = tmp_path / "mylayers"
    package.mkdir()
    (package / "__init__.py").write_text("import torch\n\ndef pool():\n    return torch.nn.AdaptiveAvgPool2d(1)\n")
    script = Path(sys.executable).with_name("invariances")
    args = ("audit", "mylayers:pool", "--input-shape", "1,6,6", "--claim", "translation-invariant", "--examples", "2")
    by_script = subprocess.run([str(script), *args], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    by_module = run(*args, cwd=tmp_path)
    assert by_script.returncode == by_module.returncode == 0, (by_script.stderr, by_module.stderr)
    assert by_script.stdout == by_module.stdout
    for version in (subprocess.run([str(script), "--version"], capture_output=True, text=True),
                    run("--version")):
        assert version.returncode == 0 and version.stdout.startswith("invariances 0.")


def test_a_layer_that_raises_exits_1_with_its_message():
    out = run("audit", f"{DATA}:Broken", "--input-shape", "1,4,4", "--claim", "rot90-equivariant")
    assert out.returncode == 1 and "this layer is broken" in out.stdout


@pytest.mark.parametrize("args, message", [
    (("audit", "tests/data/user_layrs.py:ShiftInvariantPool", "--input-shape", "1,8,8"), "no file 'tests/data/user_layrs.py'"),
    (("audit", f"{DATA}:ShiftInvariantPol", "--input-shape", "1,8,8"), "has no attribute 'ShiftInvariantPol'; it has"),
    (("audit", "no_such_package.mod:Layer", "--input-shape", "1,8,8"), "cannot import 'no_such_package.mod'"),
    (("audit", "just_a_name", "--input-shape", "1,8,8"), "must look like package.module:name"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--claim", "shift-invariant"),
     "not a known claim; valid claims are translation-equivariant"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "8x8"), "--input-shape='8x8' must be C,H,W"),
    (("audit", f"{DATA}:ShiftInvariantPool"), "--input-shape is required"),
    (("audit", f"{DATA}:NeedsArguments", "--input-shape", "1,8,8"), "needs arguments"),
    # every bad option value is a usage error, before any work
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--device", "gpu0"), "argument --device: 'gpu0' is not a device"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--device", "meta"), "the audit runs on cpu or cuda"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--examples", "0"), "argument --examples: '0' must be a positive integer"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--seconds", "-1"), "argument --seconds: '-1' must be a positive number"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--seed", "-3"), "argument --seed: '-3' must be an integer in [0, 2**63)"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--layout", "NCHW"), "argument --layout: invalid choice"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--json", f"{DATA}/r.json"), f"argument --json: '{DATA}/r.json' cannot be written: {DATA} is not a writable folder"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--html", "."), "argument --html: '.' is a folder"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--out", "reports"), "--out is the registry audit's report folder"),
    (("audit", "--claim", "translation-invariant"), "--claim need(s) a TARGET"),
    (("audit", "--input-shape", "1,8,8", "--json", "r.json"), "--input-shape, --json need(s) a TARGET"),
    (("bench", "--rounds", "0"), "argument --rounds: '0' must be a positive integer"),
    (("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "1,8,8", "--examples"), "argument --examples: expected one argument"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
])
def test_user_mistakes_exit_2_with_a_message_and_no_traceback(args, message, monkeypatch, capsys):
    # in-process, as `main` is what the console script runs (a subprocess costs ~2 s of torch import per
    # case); an exception escaping `main` fails the test with its traceback.  The process itself is
    # checked by the test below and by test_the_console_script_and_python_m_are_the_same_command.
    from convnet_invariances.app import main

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    try:
        status = main(list(args))
    except SystemExit as exc:  # argparse's own usage errors
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert message in err and "Traceback" not in err


def test_a_usage_error_exits_2_from_the_process_without_a_traceback():
    out = run("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "8x8", cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "--input-shape='8x8' must be C,H,W" in out.stderr and "Traceback" not in out.stderr


def test_wrong_input_shape_for_the_layer_is_reported():
    out = run("audit", f"{DATA}:ShiftInvariantPool", "--input-shape", "3,8,8", "--claim", "translation-invariant")
    assert out.returncode == 1 and "error" in out.stdout and "Traceback" not in out.stderr


def test_without_target_the_registry_is_audited_against_its_profiles(tmp_path, monkeypatch, capsys):
    import dataclasses

    from convnet_invariances import models
    from convnet_invariances.app import main

    subset = {name: models.REGISTRY[name] for name in ("conv3x3_zeros", "global_max_pool", "mellin_magnitude_1d")}
    monkeypatch.setattr(models, "REGISTRY", subset)
    assert main(["audit", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "18/18 profile lines of 3 entries agree" in out and "conv3x3_zeros" in out
    assert (tmp_path / "README.md").exists() and (tmp_path / "conv3x3_zeros.html").exists()
    assert (tmp_path / "rates" / "mellin_magnitude_1d-scale.png").exists()  # plots follow --out

    # a wrong profile line is reported and the exit status says so
    entry = subset["global_max_pool"]
    wrong = tuple(dataclasses.replace(line, status="none") if line.symmetry == "rot90" else line for line in entry.profile)
    monkeypatch.setattr(models, "REGISTRY", {"global_max_pool": dataclasses.replace(entry, profile=wrong)})
    assert main(["audit", "--out", str(tmp_path / "wrong")]) == 1
    assert "5/6 profile lines" in capsys.readouterr().out


README_LAYERS = '''
import torch


class OffByOnePool(torch.nn.Module):
    def forward(self, x):
        return x[..., 1:, :].amax(dim=(-2, -1))


class GlobalMaxPool(torch.nn.Module):
    def forward(self, x):
        return x.amax(dim=(-2, -1))
'''


def test_the_readme_example_reports_what_the_readme_shows(tmp_path):
    (tmp_path / "layers.py").write_text(README_LAYERS)
    claims = ("--input-shape", "3,16,16", "--claim", "translation-invariant", "--claim", "rot90-invariant")
    wrong = run("audit", "layers.py:OffByOnePool", *claims, cwd=tmp_path)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert wrong.returncode == 1
    for row in ("translation-invariant │ violated │ 1             │ 1        │ shift(13, 0) │ 9.16e-05",
                "rot90-invariant       │ violated │ 1             │ 1        │ rot90        │ 9.16e-05"):
        assert row in wrong.stdout and row in readme, row
    right = run("audit", "layers.py:GlobalMaxPool", *claims, "--verbose", cwd=tmp_path)
    assert right.returncode == 0 and "translation-invariant: certified" in right.stdout  # proved, and searched
    assert "proved from the graph: invariant after `amax`" in right.stdout


def test_a_report_path_that_is_the_targets_own_file_is_refused(tmp_path, capsys):
    from convnet_invariances.app import main

    layers = tmp_path / "layers.py"
    layers.write_text(DATA.read_text())
    for command, option in (("audit", "--json"), ("audit", "--markdown"), ("audit", "--html"), ("explain", "--json")):
        status = main([command, f"{layers}:LeakyBorderPool", "--input-shape", "1,8,8", "--claim",
                       "translation-invariant", option, str(layers)])
        assert status == 2 and "the target's own file" in capsys.readouterr().err
        assert layers.read_text() == DATA.read_text()  # the user's code is untouched
    # its twin: another path next to it is written
    assert main(["audit", f"{layers}:LeakyBorderPool", "--input-shape", "1,8,8", "--claim", "translation-invariant",
                 "--json", str(tmp_path / "report.json")]) == 1
    assert json.loads((tmp_path / "report.json").read_text())["claims"][0]["verdict"] == "violated"


def test_a_reader_that_stops_early_keeps_the_verdicts_exit_status_and_the_reports(tmp_path):
    # the read end is closed before the audit prints, as `| head` does on a long report
    process = subprocess.Popen([sys.executable, "-m", "convnet_invariances", "audit", f"{DATA}:LeakyBorderPool",
                                "--input-shape", "1,8,8", "--claim", "translation-invariant", "--json",
                                str(tmp_path / "r.json")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=300) == 1, err  # violated, as without the pipe; not 2 ("cannot write")
    assert "Broken pipe" not in err and "Traceback" not in err, err
    assert json.loads((tmp_path / "r.json").read_text())["claims"][0]["verdict"] == "violated"
