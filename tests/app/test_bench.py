"""The benchmark table and the memory budget, measured in a separate process."""

import subprocess
import sys
import textwrap

import pytest

from convnet_invariances.app import format_table, run_cases


def test_benchmark_table_runs_and_reports_ratios():
    rows = run_cases(quick=True)
    assert {r["case"].split(",")[0] for r in rows} >= {"small CNN 8×8", "ResNet-18-like 16×16"}
    for row in rows:
        ratio = row["naive_over_fast"]
        assert 0 < ratio["min"] <= ratio["median"] <= ratio["max"]
        assert row["seconds"]["naive"]["median"] > 0 and row["seconds"]["fast"]["median"] > 0
    table = format_table(rows, "cpu")
    assert "naive/fast" in table and "naive/bare" in table and "compile s" not in table
    # the certificate row has a table of its own: its columns mean other things
    orbit_part, certificate_part = table.split("linear certificate against the exhaustive orbit it replaces")
    assert "static certification" in certificate_part
    static = next(r for r in rows if "static certification" in r["case"])
    assert static["verdict"] == "certified" and static["seconds"]["fast"]["median"] < 1.0
    assert "linear certificate vs orbit" not in orbit_part and "orbit/certificate" in certificate_part
    assert "orbit/certificate" not in orbit_part
    # the Lie derivative's cost against one forward and backward pass: a table of its own, a sensible ratio
    lie = [r for r in rows if r.get("kind") == "lie"]
    assert len(lie) == 1 and 0 < lie[0]["lie_over_forward_backward"]["median"] < 100
    assert "Lie/(fwd+bwd)" in certificate_part and "Lie/(fwd+bwd)" not in orbit_part
    rows[0].update(naive_over_compiled={"median": 4.0, "min": 3.5, "max": 4.5}, compile_s=16.2)
    compiled = format_table(rows, "cpu")
    part = compiled.split("the fast path under torch.compile")[1].splitlines()
    assert "naive/compiled" in part[1] and "4.0×" in part[3] and "│        16" in part[3] and "3.5–4.5" in part[4]
    for text in (table, compiled):
        assert max(len(line) for line in text.splitlines()) <= 100
        assert "…" not in text  # no cell cut


PEAK_SCRIPT = textwrap.dedent("""
    import resource, sys, torch
    from convnet_invariances import Translations, orbit_error
    torch.set_num_threads(1)
    conv = torch.nn.Conv2d(8, 8, 3, padding=1, padding_mode="circular", bias=False)
    x = torch.randint(-2, 3, (1, 8, 64, 64)).float()
    orbit_error(conv, x, Translations((64, 64)).subgroup(8), mode="exact", memory_budget=2**20)  # warm up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    budget = int(sys.argv[1])
    if sys.argv[2] == "ignore-budget":  # the negative twin: the whole orbit built at once, as a naive check would
        with torch.inference_mode():
            conv(torch.cat([g(x) for g in Translations((64, 64))]))
    else:
        orbit_error(conv, x, Translations((64, 64)), mode="exact", memory_budget=budget)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) * 1024)
""")


@pytest.mark.slow
def test_peak_memory_stays_within_the_budget_whatever_the_orbit_size():
    # 4096 shifts of an 8×64×64 input: ~0.5 GiB of orbit inputs if built at once.  The growth of the
    # process's peak resident memory during the check stays within a 4 MiB budget (2× for allocator
    # slack); the negative twin ignores the budget and must blow through it, so the measurement sees
    # the memory that chunks take.
    def peak(budget, mode="obey-budget"):
        out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(budget), mode],
                             capture_output=True, text=True, check=True)
        return int(out.stdout.strip().splitlines()[-1])

    budget = 4 * 2**20
    assert peak(budget) <= 2 * budget
    assert peak(budget, "ignore-budget") > 2 * budget



@pytest.mark.parametrize("model, label", [("resnet18", "ResNet-18-like"), ("resnet50", "ResNet-50")])
def test_the_streamed_orbit_covers_every_shift_and_measures_the_error(model, label, capsys):
    from convnet_invariances.app._bench import stream_large_orbit

    result = stream_large_orbit(side=8, model=model)
    assert result["model"] == label and result["shifts_done"] == result["shifts"] == 64
    # zero padding and stride: neither network is shift-invariant, and the stream must see it
    assert 0 < result["max_error"] < float("inf")


def test_the_streamed_orbit_names_the_networks_it_knows():
    from convnet_invariances import InvalidArgument
    from convnet_invariances.app._bench import stream_large_orbit

    with pytest.raises(InvalidArgument, match="resnet50"):
        stream_large_orbit(side=8, model="resnet-50")
