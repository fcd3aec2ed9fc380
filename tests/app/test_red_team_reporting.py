"""Red team of the user-facing verdict paths: claim strings, the pytest helper, the CLI's exit codes and reports,
``invariances explain``, ``ci.find_culprit``, and their agreement with ``ci.audit``.

Every layer's truth is computed here by hand (``test_truths``), never taken from the engine.  A test where the
current code is wrong is ``xfail(strict=True)``: the fix flips it.  Each has a control (the same path with a right
input must behave).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances.app._cli import main

DATA = Path(__file__).resolve().parent / "data" / "red_team_reporting_layers.py"
sys.path.insert(0, str(DATA.parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quality"))
import red_team_reporting_layers as L  # noqa: E402
from red_team import oracle  # noqa: E402  (the brute-force judge: the truth, independent of the engine)

EXAMPLES = "2"  # the verdicts below do not depend on the depth of the search


def cli(*args):
    """``invariances ARGS`` in-process: (exit status, stdout, stderr); a traceback is re-raised."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def strict_json(text):
    """json.loads that rejects NaN/Infinity (not JSON: RFC 8259; JavaScript's JSON.parse and jq refuse them)."""
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def _x(shape, seed=0):
    return torch.randint(-3, 4, shape, generator=torch.Generator().manual_seed(seed)).float()


# ----------------------------------------------------------------------------- the truths, by hand


@pytest.mark.parametrize("make, shape, claim, truth", [
    (L.SymConv, (1, 6, 6), "rot90-equivariant", "holds"),
    (L.SymConv, (1, 6, 6), "rot90-equivariant[channels=regular]", "violated"),
    (L.Leaky, (1, 6, 6), "translation-invariant", "violated"),
    (L.Circular, (1, 6, 6), "translation-invariant", "holds"),
    (L.Circular, (1, 6, 6), "translation-invariant[boundary=zero,border=1]", "holds"),
    (L.recip_tanh, (1, 6, 6), "translation-equivariant", "violated"),
    (L.GlobalAverage, (4, 6, 6), "rot90-invariant", "holds"),
])
def test_truths_by_the_oracle(make, shape, claim, truth):
    assert oracle.judge(make, shape, claim).truth == truth


def test_truths():
    x = _x((2, 1, 6, 6))
    sym = L.SymConv().eval()
    with torch.no_grad():
        y, y_rot = sym(x), sym(torch.rot90(x, 1, (-2, -1)))
        # plain rot90-equivariance holds exactly (integer inputs and weights: bitwise)
        assert torch.equal(y_rot, torch.rot90(y, 1, (-2, -1)))
        # the regular representation (output channels cycle, either way round) does not
        for k in (1, 2, 3):
            assert not torch.equal(y_rot, torch.roll(torch.rot90(y, 1, (-2, -1)), k, 1))

        leaky, circular = L.Leaky().eval(), L.Circular().eval()
        x8 = torch.zeros(1, 1, 6, 6)
        x8[0, 0, 0, 0] = 1.0  # an impulse in the corner and in the middle: the zero padding sees a difference
        moved = torch.roll(x8, (2, 2), (-2, -1))
        assert (leaky(x8) - leaky(moved)).abs().max() > 1e-3
        assert torch.equal(circular(x8), circular(moved))

        # tanh(1 / (x - x[0,0])): finite out, inf inside, not translation-equivariant
        net = L.recip_tanh()
        out, out_shifted = net(x), net(torch.roll(x, (0, 1), (-2, -1)))
        assert torch.isfinite(out).all()
        assert torch.isinf(net[0](x)).any()
        assert (out_shifted - torch.roll(out, (0, 1), (-2, -1))).abs().max() > 0.1

        # the global average keeps the channels in place: a 4-channel output does not cycle under rot90
        gap = L.GlobalAverage()
        xc = torch.arange(4.0).reshape(1, 4, 1, 1).expand(1, 4, 6, 6)
        assert torch.equal(gap(torch.rot90(xc, 1, (-2, -1))), gap(xc))
        for k in (1, 2, 3):
            assert not torch.equal(gap(xc), torch.roll(gap(xc), k, 1))


# ----------------------------------------------------------------------------- claim strings


def test_control_channels_regular_is_checked_as_the_regular_representation():
    """Control: `[channels=regular]` is false for SymConv and the CLI says so (exit 1); plain holds (exit 0)."""
    status, out, _ = cli("audit", f"{DATA}:SymConv", "--input-shape", "1,6,6", "--claim",
                         "rot90-equivariant[channels=regular]", "--examples", EXAMPLES)
    assert status == 1 and "violated" in out
    status, out, _ = cli("audit", f"{DATA}:SymConv", "--input-shape", "1,6,6", "--claim", "rot90-equivariant",
                         "--examples", EXAMPLES)
    assert status == 0


@pytest.mark.parametrize("text", ["rot90-equivariant[channels]", "rot90-equivariant[channels=]"])
def test_a_qualifier_without_its_value_is_a_usage_error(text):
    # truth: SymConv is not regular-equivariant (test_truths); the user asked for the regular representation
    status, out, err = cli("audit", f"{DATA}:SymConv", "--input-shape", "1,6,6", "--claim", text,
                           "--examples", EXAMPLES)
    assert status == 2 and "channels" in err, (status, out)


def test_regular_channels_on_an_invariant_claim_is_not_silently_dropped():
    # truth: the global average is rot90-invariant with channels in place, so "its channels cycle" is false
    with pytest.raises(ci.InvalidArgument, match="channels"):
        report = ci.audit(L.GlobalAverage(), (4, 6, 6), ["rot90-invariant[channels=regular]"], examples=2)
        assert report.results[0].verdict == "violated"  # the other right answer: checked and refuted
        raise ci.InvalidArgument("channels: refuted, fine")


def test_control_invariant_claim_without_channels_is_certified():
    report = ci.audit(L.GlobalAverage(), (4, 6, 6), ["rot90-invariant"], examples=2)
    assert report.ok and report.results[0].verdict in ("certified", "holds")


@pytest.mark.parametrize("command", ["audit", "explain"])
def test_a_superscript_digit_in_a_qualifier_is_a_usage_error(command):
    status, _, err = cli(command, f"{DATA}:SameConv", "--input-shape", "1,6,6", "--claim",
                         "translation-equivariant[stride=²]", *(["--examples", EXAMPLES] if command == "audit" else []))
    assert status == 2 and "stride" in err


def test_control_bad_qualifier_values_are_usage_errors():
    for text in ("translation-equivariant[stride=x]", "translation-equivariant[stride=+2]",
                 "Translation-Invariant", "translation-invariant[BOUNDARY=zero]", "translation-invariant[stride=2,stride=2]"):
        status, _, err = cli("audit", f"{DATA}:SameConv", "--input-shape", "1,6,6", "--claim", text)
        assert status == 2 and "Traceback" not in err and text in err, (text, err)


# ----------------------------------------------------------------------------- the pytest helper


def test_assert_claims_with_no_claims_does_not_pass_silently():
    # truth: Leaky is not translation-invariant (test_truths; here on 4×4); an assertion stating nothing cannot vouch
    leaky, x = L.Leaky().eval(), _x((1, 1, 4, 4))
    with torch.no_grad():
        assert any((leaky(torch.roll(x, t, -1)) - leaky(x)).abs().max() > 1e-3 for t in range(1, 4))
    with pytest.raises((ci.InvalidArgument, AssertionError)):
        ci.assert_claims(L.Leaky(), (1, 4, 4), [], examples=1)


def test_assert_claims_with_one_string_names_the_argument_or_checks_the_claim():
    try:
        ci.assert_claims(L.Leaky(), (1, 6, 6), "translation-invariant", examples=2)
    except ci.InvalidArgument as exc:
        assert "claims" in str(exc) and "claim='t'" not in str(exc), str(exc)
    except AssertionError as exc:  # checked as one claim: the right verdict (Leaky breaks it)
        assert "translation-invariant" in str(exc)
    else:
        pytest.fail("a violated claim passed")


def test_control_assert_claims_with_a_list():
    with pytest.raises(ci.EquivarianceViolation, match="translation-invariant"):
        ci.assert_claims(L.Leaky(), (1, 6, 6), ["translation-invariant"], examples=2)
    assert ci.assert_claims(L.Circular(), (1, 6, 6), ["translation-invariant"], examples=2).ok


def test_a_pytest_run_fails_on_a_broken_claim_and_shows_the_bug_report(tmp_path):
    """The plugin path end to end: a user's test file with a false and a true claim (control)."""
    (tmp_path / "test_user.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(DATA.parent)!r})\n"
        "import convnet_invariances as ci\n"
        "import red_team_reporting_layers as L\n"
        "def test_false_claim():\n"
        "    ci.assert_claims(L.Leaky(), (1, 6, 6), ['translation-invariant'], examples=2)\n"
        "def test_true_claim():\n"
        "    ci.assert_claims(L.Circular(), (1, 6, 6), ['translation-invariant'], examples=2)\n")
    environment = {k: v for k, v in os.environ.items() if k not in ("HYPOTHESIS_PROFILE", "INVARIANCES_PROFILE")}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--invariances-profile=ci",
                          str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=240)
    assert out.returncode == 1, out.stdout[-3000:]
    assert "1 failed, 1 passed" in out.stdout
    assert "ClaimsViolated" in out.stdout and "translation-invariant" in out.stdout
    assert "VIOLATED" in out.stdout and "reproduce" in out.stdout


# ----------------------------------------------------------------------------- the CLI and its reports


def test_control_cli_reports_agree_with_the_api(tmp_path):
    """Exit 1; JSON, Markdown and HTML carry every stated claim with the API's verdict; both claims listed."""
    claims = ["translation-invariant", "translation-invariant[boundary=zero,border=1]"]
    status, out, _ = cli("audit", f"{DATA}:Leaky", "--input-shape", "1,6,6", *sum((["--claim", c] for c in claims), []),
                         "--examples", EXAMPLES, "--json", tmp_path / "r.json", "--markdown", tmp_path / "r.md",
                         "--html", tmp_path / "r.html")
    api = ci.audit(L.Leaky(), (1, 6, 6), claims, examples=2)
    verdicts = [r.verdict for r in api.results]
    assert verdicts[0] == "violated"  # the truth (test_truths)
    assert status == 1
    data = strict_json((tmp_path / "r.json").read_text())
    assert [c["claim"] for c in data["claims"]] == claims
    assert [c["verdict"] for c in data["claims"]] == verdicts
    markdown, html = (tmp_path / "r.md").read_text(), (tmp_path / "r.html").read_text()
    for claim, verdict in zip(claims, verdicts):
        assert f"## `{claim}`: {verdict}" in markdown
        assert f"<code>{claim}</code>" in html and verdict in html


def test_the_json_report_is_json_when_a_culprit_activation_is_infinite(tmp_path):
    # truth: tanh(1/(x - x[0,0])) is finite, not translation-equivariant, with inf in its first activation
    path = tmp_path / "r.json"
    status, _, _ = cli("audit", f"{DATA}:recip_tanh", "--input-shape", "1,6,6", "--claim", "translation-equivariant",
                       "--examples", EXAMPLES, "--json", path)
    assert status == 1
    data = strict_json(path.read_text())
    assert data["claims"][0]["verdict"] == "violated"


def test_the_json_report_is_json_for_a_bfloat16_layer():
    from convnet_invariances.app._report import to_json

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(16, 1, 5, padding=2), torch.nn.AdaptiveAvgPool2d(1)).to(torch.bfloat16)
    report = ci.audit(net, (16, 8, 8), ["translation-invariant"], examples=2)
    data = strict_json(to_json(report))
    assert data["claims"][0]["tolerance"] is not None


def test_a_spent_time_budget_is_not_reported_as_the_layer_rejecting_inputs():
    # truth: the layer accepts the input shape (it runs below); nothing was searched because time ran out
    with torch.no_grad():
        L.Leaky()(torch.zeros(1, 1, 6, 6))
    report = ci.audit(L.Leaky(), (1, 6, 6), ["translation-invariant"], seconds=1e-9)
    result = report.results[0]
    assert not report.ok  # nothing searched: never a pass (this part is right today)
    assert "rejected" not in result.message and "time" in result.message, result.message


# ----------------------------------------------------------------------------- explain


def test_control_explain_and_audit_agree_on_a_margin_with_an_interior():
    status, out, _ = cli("explain", f"{DATA}:SameConv", "--input-shape", "1,6,6", "--claim",
                         "translation-equivariant[margin=1]")
    assert status == 0 and "certified" in out


@pytest.mark.parametrize("target, claim, word", [
    # truth: SameConv's output is 6×6 (asserted below); margin 3 leaves no element at distance ≥ 3 from the border
    ("SameConv", "translation-equivariant[margin=3]", "margin"),
    # Leaky's output is a flat (4,) vector: translation cannot act on it
    ("Leaky", "translation-equivariant", "flat"),
    # a border of 3 on a 6×6 input leaves no pixel for content
    ("SameConv", "translation-equivariant[boundary=zero,border=3]", "border"),
])
def test_explain_refuses_what_audit_refuses_as_usage(target, claim, word):
    with torch.no_grad():
        assert L.SameConv()(torch.zeros(1, 1, 6, 6)).shape[-2:] == (6, 6)
        assert L.Leaky()(torch.zeros(1, 1, 6, 6)).shape == (1, 4)
    audit_status, _, audit_err = cli("audit", f"{DATA}:{target}", "--input-shape", "1,6,6", "--claim", claim)
    assert audit_status == 2 and word in audit_err  # right today
    status, out, err = cli("explain", f"{DATA}:{target}", "--input-shape", "1,6,6", "--claim", claim)
    assert status == 2 and word in err, (status, out)


# ----------------------------------------------------------------------------- find_culprit


def test_control_find_culprit_names_the_zero_padded_conv():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"),
                              torch.nn.Conv2d(2, 2, 3, padding=1), torch.nn.ReLU())
    x = _x((1, 1, 6, 6))
    g = ci.CircularShift((0, 1))
    with torch.no_grad():  # truth: layer 1 (zero padding) breaks it on this x, layer 0 (circular) does not
        h = net[0](x)
        assert torch.allclose(net[0](g(x)), g(h), atol=1e-5)
        assert (net[1](g(h)) - g(net[1](h))).abs().max() > 1e-3
    assert ci.find_culprit(net, x, g).layer == "1"


def test_find_culprit_with_an_element_of_the_wrong_rank_is_an_error():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU())
    with pytest.raises(ci.InvalidArgument, match="shift"):
        ci.find_culprit(net, _x((1, 1, 6, 6)), ci.CircularShift((0, 0, 1)))


# ----------------------------------------------------------------------------- more: terminal, exceptions, Markdown


def test_every_stated_claim_is_on_one_line_with_its_verdict():
    # truth: Circular keeps both claims (oracle above)
    claims = ["translation-invariant[boundary=zero,border=1]", "translation-invariant"]
    status, out, _ = cli("audit", f"{DATA}:Circular", "--input-shape", "1,6,6",
                         *sum((["--claim", c] for c in claims), []), "--examples", EXAMPLES)
    assert status == 0
    for claim in claims:
        assert any(claim in line and ("certified" in line or "holds" in line) for line in out.splitlines()), out


def test_control_a_short_claim_is_on_one_line_with_its_verdict():
    status, out, _ = cli("audit", f"{DATA}:Leaky", "--input-shape", "1,6,6", "--claim", "translation-invariant",
                         "--examples", EXAMPLES)
    assert status == 1
    assert any(line.startswith("translation-invariant ") and "violated" in line for line in out.splitlines())


def _violation_from_assert_claims():
    try:
        ci.assert_claims(L.Leaky(), (1, 6, 6), ["translation-invariant"], examples=2)
    except ci.EquivarianceViolation as exc:
        return exc
    pytest.fail("Leaky's false claim passed")


def test_the_violation_from_assert_claims_carries_the_documented_evidence():
    exc = _violation_from_assert_claims()
    assert exc.report.results[0].verdict == "violated"  # right today: the report is there
    assert exc.measurement is None  # documented: a whole audit's evidence is `.report`, not one check's


def test_the_violation_from_assert_claims_pickles():
    import pickle

    exc = _violation_from_assert_claims()
    again = pickle.loads(pickle.dumps(exc))
    assert "translation-invariant" in str(again)


def test_a_single_checks_violation_pickles_with_its_message():
    import pickle

    with pytest.raises(ci.EquivarianceViolation) as caught:  # truth: a zero-padded conv is not shift-equivariant
        ci.assert_equivariant(torch.nn.Conv2d(1, 1, 3, padding=1), _x((1, 1, 6, 6)), ci.CircularShift((0, 1)))
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is ci.EquivarianceViolation and str(again) == str(caught.value)
    assert "reproduce" in str(again) and again.measurement is None  # the closure that re-runs it stays behind


def _markdown_headings(text):
    """The level-2 headings of a Markdown text outside fenced code blocks (CommonMark: a fence closes only with a
    run of the same character at least as long as the one that opened it)."""
    headings, fence = [], None
    for line in text.splitlines():
        stripped = line.strip()
        run = len(stripped) - len(stripped.lstrip("`"))
        if fence is None and run >= 3:
            fence = run
        elif fence is not None and run >= fence and not stripped[run:].strip():
            fence = None
        elif fence is None and line.startswith("## "):
            headings.append(line)
    return headings


class RaisesWithFence(torch.nn.Module):
    """Raises an error whose message holds a code fence (as messages quoting Markdown or code do)."""

    def forward(self, x):
        raise RuntimeError("bad input\n```\n\n## `translation-invariant`: certified\n\n```")


def test_a_markdown_report_cannot_be_rewritten_by_the_evidence_it_quotes():
    from convnet_invariances.app._report import to_markdown

    report = ci.audit(RaisesWithFence(), (1, 6, 6), ["translation-invariant"], examples=2)
    assert report.results[0].verdict == "error"  # truth: the layer raises on every input
    assert _markdown_headings(to_markdown(report)) == ["## `translation-invariant`: error"]


def test_control_markdown_headings_of_a_plain_error():
    from convnet_invariances.app._report import to_markdown

    class Raises(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("bad input")

    report = ci.audit(Raises(), (1, 6, 6), ["translation-invariant"], examples=2)
    assert _markdown_headings(to_markdown(report)) == ["## `translation-invariant`: error"]


def test_the_terminal_says_what_was_searched_for_a_holds_verdict():
    # truth: the oracle says Leaky keeps translation-invariant[boundary=zero,border=1] (test_truths_by_the_oracle
    # judges it for Circular; here for Leaky)
    claim = "translation-invariant[boundary=zero,border=1]"
    assert oracle.judge(L.Leaky, (1, 6, 6), claim).truth == "holds"
    status, out, _ = cli("audit", f"{DATA}:Leaky", "--input-shape", "1,6,6", "--claim", claim, "--examples", "1")
    assert status == 0 and "holds" in out
    assert "comparisons" in out and "input sample" in out, out  # one batch searched: the reader must see it


def test_control_verbose_terminal_says_what_was_searched():
    claim = "translation-invariant[boundary=zero,border=1]"
    status, out, _ = cli("audit", f"{DATA}:Leaky", "--input-shape", "1,6,6", "--claim", claim, "--examples", "1",
                         "--verbose")
    assert status == 0 and "searched: " in out and "comparisons" in out


# ----------------------------------------------------------------------------- culprits in the report


def test_the_culprit_of_an_hw_layer_is_named_as_in_the_users_model():
    module = L.ImageWithoutChannels().eval()
    x = _x((1, 6, 6))
    with torch.no_grad():  # truth: body.0 (circular) keeps the shift, body.1 (zero padding) breaks it
        h = module.body[0](x[:, None])
        assert torch.allclose(module.body[0](torch.roll(x[:, None], 1, -1)), torch.roll(h, 1, -1), atol=1e-5)
        assert (module.body[1](torch.roll(h, 1, -1)) - torch.roll(module.body[1](h), 1, -1)).abs().max() > 1e-3
    report = ci.audit(module, (6, 6), ["translation-equivariant"], layout="HW", examples=2)
    result = report.results[0]
    assert result.verdict == "violated"
    assert result.culprit["layer"] in dict(module.named_modules()), result.culprit


def test_control_the_culprit_of_a_chw_layer_is_named_as_in_the_users_model():
    module = L.SameConv().eval()
    report = ci.audit(module, (1, 6, 6), ["translation-equivariant"], examples=2)
    result = report.results[0]
    assert result.verdict == "violated" and result.culprit["layer"] == "conv"


# ----------------------------------------------------------------------------- profile runs in the written reports


def test_written_reports_of_a_profile_run_say_the_claims_were_inferred(tmp_path):
    status, out, _ = cli("audit", f"{DATA}:Circular", "--input-shape", "1,4,4", "--examples", "1",
                         "--json", tmp_path / "p.json", "--markdown", tmp_path / "p.md", "--html", tmp_path / "p.html")
    assert status == 0 and "profile inferred" in out  # right today: exit 0, and the terminal says why
    data = strict_json((tmp_path / "p.json").read_text())
    assert any(c["verdict"] == "violated" for c in data["claims"])  # truth: Circular is not rot90-invariant (random kernel)
    assert "inferred" in (tmp_path / "p.md").read_text() and "inferred" in (tmp_path / "p.html").read_text()
    assert data.get("stated") is False


def test_control_written_reports_of_a_stated_run_say_so(tmp_path):
    status, _, _ = cli("audit", f"{DATA}:Leaky", "--input-shape", "1,6,6", "--claim", "translation-invariant",
                       "--examples", EXAMPLES, "--markdown", tmp_path / "s.md")
    assert status == 1 and "some stated claims are not kept" in (tmp_path / "s.md").read_text()


def test_reports_are_written_when_an_error_message_holds_undecodable_bytes(tmp_path):
    # truth: the layer raises on every input, so the claim's verdict is error and the exit status 1
    status, out, err = cli("audit", f"{DATA}:RaisesWithUndecodableBytes", "--input-shape", "1,6,6", "--claim",
                           "translation-invariant", "--markdown", tmp_path / "r.md", "--html", tmp_path / "r.html",
                           "--json", tmp_path / "r.json")
    assert status == 1 and "error" in out
    assert "## `translation-invariant`: error" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert strict_json((tmp_path / "r.json").read_text())["claims"][0]["verdict"] == "error"


@pytest.mark.parametrize("output_action", ["invariant", ci.same_action()])
def test_find_culprit_names_a_wrong_output_action(output_action):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    with pytest.raises(ci.InvalidArgument, match="output_action"):
        ci.find_culprit(net, _x((1, 1, 6, 6)), ci.CircularShift((0, 1)), output_action)


def test_control_find_culprit_with_the_trivial_action_names_the_zero_padded_conv():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    x = _x((1, 1, 6, 6))
    g = ci.CircularShift((1, 0))
    with torch.no_grad():  # truth: the pooled output changes, and the zero-padded conv is the first to break
        assert (net(g(x)) - net(x)).abs().max() > 1e-3
        assert (net[0](g(x)) - g(net[0](x))).abs().max() > 1e-3
    assert ci.find_culprit(net, x, g, ci.trivial_action()).layer == "0"
