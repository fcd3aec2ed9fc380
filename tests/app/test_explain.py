"""``invariances explain``: static verdicts with reasons, JSON, the size table, exit statuses and usage errors."""

import json

from convnet_invariances.app._cli import main


def test_explain_prints_reasons_and_writes_json(tmp_path, capsys):
    path = tmp_path / "explain.json"
    status = main(["explain", "convnet_invariances.models:C4StridedCNN", "--input-shape", "1,11,11",
                   "--claim", "rot90-invariant", "--claim", "translation-invariant", "--json", str(path),
                   "--sizes", "8:15"])
    out = capsys.readouterr().out
    assert status == 1  # translation-invariant is not certified
    assert "rot90-invariant: certified" in out and "kernel invariant under rot90 at `conv1`, `conv2`" in out
    data = json.loads(path.read_text())
    assert data["target"] == "convnet_invariances.models:C4StridedCNN" and data["input_shape"] == [1, 11, 11]
    rot, shift = data["claims"]
    assert rot["verdict"] == "certified" and rot["size_rule"] == "H = W ≡ 3 mod 4"
    assert shift["verdict"] == "unknown" and shift["culprits"] == ["conv1"]
    assert set(rot) >= {"claim", "verdict", "subgroup", "margin", "reasons", "culprits", "size_rule"}
    assert [row["verdict"] for row in data["sizes"]["rot90-invariant"]][:4] == [
        "not certified", "not certified", "not certified", "certified"]


def test_explain_exit_status_and_default_claims(capsys):
    assert main(["explain", "convnet_invariances.models:AllCircularGAP", "--input-shape", "1,8,8",
                 "--claim", "translation-invariant"]) == 0
    assert main(["explain", "convnet_invariances.models:AllCircularGAP", "--input-shape", "1,8,8"]) == 0
    out = capsys.readouterr().out
    assert "translation-invariant: certified" in out and "invariant after `pool`" in out


def test_explain_usage_errors(capsys):
    assert main(["explain", "convnet_invariances.models:AllCircularGAP", "--input-shape", "1,8,8",
                 "--sizes", "9:3"]) == 2
    assert main(["explain", "convnet_invariances.models:AllCircularGAP", "--input-shape", "1,8,7",
                 "--claim", "rot90-invariant"]) == 2
    assert "square" in capsys.readouterr().err
