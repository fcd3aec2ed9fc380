"""``invariances measure``: Lie derivatives end to end and per module, and the metrics that fit the output."""

import json

import pytest
import torch

from convnet_invariances.app import main

pytestmark = pytest.mark.app


def test_a_classifier_gets_every_generator_its_modules_and_the_classifier_metrics(tmp_path, capsys):
    code = main(["measure", "convnet_invariances.models:AllCircularGAP", "--input-shape", "1,8,8",
                 "--output-action", "invariant", "--json", str(tmp_path / "m.json"),
                 "--markdown", str(tmp_path / "m.md")])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads((tmp_path / "m.json").read_text())
    assert set(data["lie_derivative"]) == {"translation-x", "translation-y", "rotation", "scale"}
    # circular convolutions and a global pool: invariant to sub-pixel translation up to the ReLU's aliasing,
    # which the per-module split must put on the activations, never on a convolution or the pool
    split = data["layerwise"]["translation-x"]
    convs = {name: v for name, v in split["modules"].items() if "conv" in name}
    assert convs and all(v < 1e-5 for v in convs.values()), split
    assert {"consistency", "top1_change"} <= set(data["metrics"])
    lo, hi = data["lie_derivative"]["rotation"]["ci95"]
    assert lo <= data["lie_derivative"]["rotation"]["mean"] <= hi
    assert "per module, translation-x" in out and (tmp_path / "m.md").exists()


def test_an_image_to_image_layer_gets_eq_t_and_eq_r(tmp_path, capsys):
    data_file = tmp_path / "images.pt"
    torch.save(torch.randn(6, 2, 8, 8), data_file)
    layers = tmp_path / "layers.py"
    layers.write_text("import torch\n\ndef circular():\n"
                      "    torch.manual_seed(0)\n"
                      "    return torch.nn.Conv2d(2, 2, 3, padding=1, padding_mode='circular')\n\n"
                      "def zero_padded():\n"
                      "    torch.manual_seed(0)\n"
                      "    return torch.nn.Conv2d(2, 2, 3, padding=1)\n")
    results = {}
    for name in ("circular", "zero_padded"):
        assert main(["measure", f"{layers}:{name}", "--input-shape", "2,8,8", "--output-action", "equivariant",
                     "--data", str(data_file), "--json", str(tmp_path / f"{name}.json")]) == 0
        results[name] = json.loads((tmp_path / f"{name}.json").read_text())
    capsys.readouterr()
    assert results["circular"]["data"].startswith("6 images from")
    # the negative twin: zero padding measures worse on every count
    assert results["circular"]["metrics"]["eq_t"]["psnr_db"] > results["zero_padded"]["metrics"]["eq_t"]["psnr_db"]
    assert (results["circular"]["lie_derivative"]["translation-x"]["mean"]
            < 1e-3 * results["zero_padded"]["lie_derivative"]["translation-x"]["mean"])


@pytest.mark.parametrize("args, message", [
    (["--input-shape", "1,8,8"], "--output-action"),
    (["--input-shape", "1,8", "--output-action", "invariant", "--generator", "rotation"], "--generator"),
    (["--input-shape", "1,9,9", "--output-action", "invariant", "--data", "IMAGES"], "--data"),
])
def test_bad_arguments_exit_2_naming_the_argument(args, message, tmp_path, capsys):
    images = tmp_path / "images.pt"
    torch.save(torch.randn(3, 1, 8, 8), images)
    args = [str(images) if a == "IMAGES" else a for a in args]
    try:
        code = main(["measure", "convnet_invariances.models:AllCircularGAP", *args])
    except SystemExit as exit_:  # argparse's own usage errors
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_the_readme_measure_output_is_what_the_command_prints(capsys):
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ (invariances measure .*?)```", readme, flags=re.S).group(1)
    command, _, shown = block.replace("\\\n", "").partition("\n")
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out.strip() == shown.strip()


def test_labelled_data_gets_the_exact_worst_case_over_every_shift(tmp_path, capsys):
    layers = tmp_path / "classifiers.py"
    layers.write_text(
        "import torch\n\n"
        "class Pooled(torch.nn.Module):\n"
        "    '''global average of a circular conv: invariant to every circular shift'''\n"
        "    def __init__(self, corner=False):\n"
        "        super().__init__()\n"
        "        torch.manual_seed(0)\n"
        "        self.conv = torch.nn.Conv2d(1, 3, 3, padding=1, padding_mode='circular')\n"
        "        self.corner = corner\n"
        "    def forward(self, x):\n"
        "        y = self.conv(x)\n"
        "        return y[..., 0, 0] if self.corner else y.mean(dim=(-2, -1))\n\n"
        "def corner():\n"
        "    return Pooled(corner=True)\n")
    images = torch.randn(12, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    labels = torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(2))
    torch.save({"images": images, "labels": labels}, tmp_path / "data.pt")
    found = {}
    for name in ("Pooled", "corner"):
        assert main(["measure", f"{layers}:{name}", "--input-shape", "1,6,6", "--output-action", "invariant",
                     "--data", str(tmp_path / "data.pt"), "--generator", "translation-x",
                     "--json", str(tmp_path / f"{name}.json")]) == 0
        found[name] = json.loads((tmp_path / f"{name}.json").read_text())["metrics"]["worst_case"]
    assert "worst case" in capsys.readouterr().out
    pooled, corner = found["Pooled"], found["corner"]
    assert pooled["elements"] == 36 and pooled["worst_case_accuracy"] == pooled["clean_accuracy"]
    assert pooled["flipped"] == 0 and pooled["smallest_flip"] is None
    # the negative twin: reading one pixel, most images change class at some shift, a one-pixel move first
    assert corner["worst_case_accuracy"] < corner["clean_accuracy"] or corner["flipped"] > 0
    assert corner["flipped"] > 0 and corner["smallest_flip"] >= 1
    shrunk = corner["shrunk_flipping_input"]
    assert shrunk["nonzero"] < shrunk["of"] and shrunk["classes"][0] != shrunk["classes"][1]
    assert "shrunk_flipping_input" not in pooled
