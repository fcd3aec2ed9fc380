"""The HTML reports in a real browser: headless Chromium loads each page, and a script in the page reports
which images failed to load and which verdicts are not visible.

Chromium is Debian's package (``.ci/run`` installs it).  Without it the test is skipped on a developer's
machine and fails in CI (``CI=true``), where a skipped browser check would hide a broken report.
"""

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

import convnet_invariances as ci
from convnet_invariances.app import to_html

#: appended to a page: after load, writes what it found into <pre id="browser-check"> for --dump-dom to show
CHECK_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0 && i.naturalHeight > 0)).map(i => i.alt);
  const verdicts = [...document.querySelectorAll(".verdict")];
  const hidden = verdicts.filter(e => {
    const box = e.getBoundingClientRect(), style = getComputedStyle(e);
    return box.width === 0 || box.height === 0 || style.visibility !== "visible" || style.opacity === "0"
      || style.color === style.backgroundColor || style.color === "rgba(0, 0, 0, 0)";
  }).map(e => e.textContent);
  const out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify({images: images.length, broken, hidden,
                                    verdicts: verdicts.map(e => e.textContent.trim())});
  document.body.appendChild(out);
});
</script>
"""


def chromium():
    found = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                  if shutil.which(name)), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("headless Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    return found


def in_browser(page: str, folder: Path) -> dict:
    """Load ``page`` in headless Chromium and return what the check script found."""
    path = folder / "page.html"
    path.write_text(page.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    out = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          f"--user-data-dir={folder / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
                          path.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', out.stdout, re.S)
    assert found, f"the page's check did not run (chromium exit {out.returncode}): {out.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def audit_page():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    report = ci.audit(conv, (1, 6, 6), ["translation-equivariant", "rot90-equivariant"], examples=4)
    return to_html(report), [r.verdict for r in report.results]


def test_every_image_loads_and_every_verdict_is_visible(audit_page, tmp_path):
    page, verdicts = audit_page
    found = in_browser(page, tmp_path)
    assert found["images"] == page.count("<img ") >= 2
    assert found["broken"] == [] and found["hidden"] == []
    for verdict in verdicts:  # in the table and in each claim's heading
        assert found["verdicts"].count(verdict) >= 2


def test_the_registry_index_and_entry_pages_render(tmp_path):
    from convnet_invariances import models
    from convnet_invariances.app._registry_audit import audit_registry

    subset = {name: models.REGISTRY[name] for name in ("conv3x3_zeros", "mellin_magnitude_1d")}
    out = tmp_path / "report"
    audit_registry(subset, out)
    index = in_browser((out / "index.html").read_text(), tmp_path)
    assert index["images"] >= 2 and index["broken"] == [] and index["hidden"] == []
    assert index["verdicts"][0].startswith(f"{sum(len(e.profile) for e in subset.values())}/")
    entry = in_browser((out / "mellin_magnitude_1d.html").read_text(), tmp_path)
    assert entry["broken"] == [] and entry["hidden"] == [] and "approximate" in entry["verdicts"]
    assert entry["images"] >= 4  # a figure per measured claim and the rate plot


def test_the_browser_check_sees_a_broken_image_and_a_hidden_verdict(audit_page, tmp_path):
    """The negative twin: a page with a corrupt image and a verdict hidden by its style fails the check."""
    page, _ = audit_page
    broken = page.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    hidden = page.replace("</style>", ".violated{visibility:hidden}</style>", 1)
    assert len(in_browser(broken, tmp_path)["broken"]) == 1
    assert "violated" in in_browser(hidden, tmp_path)["hidden"]
