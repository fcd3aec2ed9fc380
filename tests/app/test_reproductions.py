"""Every kind of reproduction runs as printed: copied out of the terminal, a pytest failure, the Markdown, the
HTML and the JSON, run in a fresh interpreter from another directory, it raises the same violation.

"The same" is checked on what identifies a violation: the exception type, the group element and the error
(printed to six significant digits by the violation's own report).
"""

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import convnet_invariances as ci

DATA = Path(__file__).resolve().parent / "data" / "user_layers.py"
TARGET = f"{DATA}:LeakyBorderPool"


def run_snippet(snippet, folder):
    """Run ``snippet`` as a script in ``folder`` (a fresh interpreter, nothing of this process inherited)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "reproduce.py"
    script.write_text(snippet, encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=folder, timeout=300)


def assert_raises_the_violation(snippet, counterexample, folder):
    out = run_snippet(snippet, folder)
    assert out.returncode == 1, (snippet, out.stdout, out.stderr)
    last = out.stderr.strip().splitlines()
    assert any(line.startswith("convnet_invariances._errors.EquivarianceViolation:") for line in last), out.stderr
    element = counterexample["group_element"]
    assert f"g = {element};" in out.stderr, (element, out.stderr)
    assert f"max error:  {counterexample['max_error']:.6g} " in out.stderr, (counterexample, out.stderr)


def indented_block(text, marker, prefix=""):
    """The indented lines under ``marker`` (each line may carry ``prefix``, as pytest's ``E``)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.removeprefix(prefix).strip() == marker)
    block = []
    for line in lines[start + 1:]:
        body = line.removeprefix(prefix)
        if not body.startswith("    "):
            break
        block.append(body[4:])
    return "\n".join(block)


@pytest.fixture(scope="module")
def cli_reports(tmp_path_factory):
    """One command-line audit of a layer that breaks its claim, with every report written."""
    folder = tmp_path_factory.mktemp("reports")
    out = subprocess.run(
        [sys.executable, "-m", "convnet_invariances", "audit", TARGET, "--input-shape", "1,8,8",
         "--claim", "translation-invariant", "--json", str(folder / "r.json"), "--markdown", str(folder / "r.md"),
         "--html", str(folder / "r.html")], capture_output=True, text=True, timeout=600, cwd=folder)
    assert out.returncode == 1, out.stderr
    data = json.loads((folder / "r.json").read_text())
    counterexample = data["claims"][0]["counterexample"]
    assert counterexample is not None
    return out.stdout, folder, counterexample


def test_the_json_reproduction_runs_from_another_directory(cli_reports, tmp_path):
    _, _, counterexample = cli_reports
    assert_raises_the_violation(counterexample["reproduce"], counterexample, tmp_path / "elsewhere")


def test_the_terminal_reproduction_runs_as_printed(cli_reports, tmp_path):
    stdout, _, counterexample = cli_reports
    snippet = indented_block(stdout, "reproduce (runs as printed):")
    assert snippet == counterexample["reproduce"]
    assert_raises_the_violation(snippet, counterexample, tmp_path / "elsewhere")


def test_the_markdown_reproduction_runs_as_printed(cli_reports, tmp_path):
    _, folder, counterexample = cli_reports
    markdown = (folder / "r.md").read_text()
    snippet = re.search(r"```python\n(.*?)\n```", markdown, re.S).group(1)
    assert_raises_the_violation(snippet, counterexample, tmp_path / "elsewhere")


def test_the_html_reproduction_runs_as_printed(cli_reports, tmp_path):
    _, folder, counterexample = cli_reports
    page = (folder / "r.html").read_text()
    snippet = html.unescape(re.search(r'<pre class="reproduce">(.*?)</pre>', page, re.S).group(1))
    assert_raises_the_violation(snippet, counterexample, tmp_path / "elsewhere")


def test_a_pytest_failure_of_assert_claims_prints_a_reproduction_that_runs(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_layer.py").write_text(
        "import torch\nimport convnet_invariances as ci\n\n"
        "def test_layer():\n"
        "    torch.manual_seed(0)\n"
        f"    layer = ci.resolve_target({TARGET!r})\n"
        "    ci.assert_claims(layer, (1, 8, 8), ['translation-invariant'], examples=4)\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_layer.py"],
                         capture_output=True, text=True, cwd=project, timeout=600)
    assert out.returncode == 1, out.stdout
    snippet = indented_block(out.stdout, "reproduce (runs as printed):", prefix="E       ")
    assert "ci.resolve_target(" in snippet  # the layer the test built is rebuilt from where it came from
    element = re.search(r"element:    g = (.*?);", out.stdout).group(1)
    error = float(re.search(r"max error:  (\S+) ", out.stdout).group(1))
    assert_raises_the_violation(snippet, {"group_element": element, "max_error": error}, tmp_path / "elsewhere")


def test_a_package_target_is_rebuilt_from_its_folder(tmp_path):
    """The console script finds a package in the current directory, and the reproduction finds it again
    from any other directory."""
    project = tmp_path / "project"
    (project / "mylayers").mkdir(parents=True)
    (project / "mylayers" / "__init__.py").write_text("")
    (project / "mylayers" / "pools.py").write_text(
        "import torch\n\n"
        "def leaky():\n"
        "    return torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.AdaptiveMaxPool2d(1),\n"
        "                               torch.nn.Flatten())\n")
    script = Path(sys.executable).with_name("invariances")
    out = subprocess.run([str(script), "audit", "mylayers.pools:leaky", "--input-shape", "1,8,8",
                          "--claim", "translation-invariant", "--json", "r.json"],
                         capture_output=True, text=True, cwd=project, timeout=600)
    assert out.returncode == 1, out.stderr
    counterexample = json.loads((project / "r.json").read_text())["claims"][0]["counterexample"]
    assert "ci.resolve_target('mylayers.pools:leaky', folder=" in counterexample["reproduce"]
    assert_raises_the_violation(counterexample["reproduce"], counterexample, tmp_path / "elsewhere")


def test_a_layer_built_in_code_is_rebuilt_with_its_weights(tmp_path):
    """No target: torch's own layers are rebuilt from their constructors with the trained weights written in."""
    torch.manual_seed(3)
    layer = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    with torch.no_grad():
        layer[0].weight.mul_(2)  # weights no seed gives
    report = ci.audit(layer, (1, 8, 8), ["rot90-invariant"], examples=4)
    counterexample = report.results[0].counterexample
    assert "load_state_dict" in counterexample["reproduce"]
    assert_raises_the_violation(counterexample["reproduce"], counterexample, tmp_path / "elsewhere")


def test_a_dense_input_is_carried_exactly(tmp_path):
    """An input with many non-zero values is embedded byte for byte, so the error is the same to the last bit."""
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(1, 1, 3, padding=1)
    x = torch.randn(1, 1, 12, 12)
    measurement = ci.equivariance_error(layer, x, ci.CircularShift((0, 1)))
    assert measurement.violated and "base64" in measurement.reproduce
    counterexample = {"group_element": "shift(0, 1)", "max_error": measurement.max_error}
    assert_raises_the_violation(measurement.reproduce, counterexample, tmp_path / "elsewhere")
