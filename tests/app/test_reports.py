"""Reports: the JSON schema and the figures in Markdown and HTML."""

import json

import torch

from convnet_invariances import audit
from convnet_invariances.app import to_html, to_json, to_markdown

SCHEMA_KEYS = ("target", "input_shape", "seed", "claims")
CLAIM_KEYS = ("claim", "verdict", "max_error", "tolerance", "subgroup", "margin", "counterexample")


def circular_conv(bias=True):
    torch.manual_seed(0)
    return torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular", bias=bias)

def test_json_schema_stays_compatible():
    """Every key the first schema had is still there with its meaning; new keys only add."""
    data = json.loads(to_json(audit(circular_conv(), (1, 6, 6), ["translation-equivariant", "rot90-invariant"])))
    assert tuple(data)[:len(SCHEMA_KEYS)] == SCHEMA_KEYS
    assert tuple(data["claims"][0])[:len(CLAIM_KEYS)] == CLAIM_KEYS
    assert data["claims"][0]["counterexample"] is None and data["claims"][0]["verdict"] == "certified"  # proved from the graph
    assert set(data["claims"][1]["counterexample"]) >= {"group_element", "input_shape", "nonzero_inputs", "reproduce"}


def test_markdown_and_html_reports_carry_plots(tmp_path):
    report = audit(circular_conv(), (1, 6, 6), ["translation-equivariant", "rot90-equivariant"])
    markdown = to_markdown(report, figure_prefix=tmp_path / "conv", relative_to=tmp_path)
    assert "![translation-equivariant: error per group element](conv-0.png)" in markdown and (tmp_path / "conv-0.png").stat().st_size > 1000
    page = to_html(report)
    assert page.count("data:image/png;base64,") == 2 and "violated" in page


