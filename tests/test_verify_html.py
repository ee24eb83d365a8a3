"""Tests for ``initspec explain --verify`` and its ``--html`` page, opened in a real headless Chromium.

The browser tests need Debian's ``chromium`` (``.ci/run`` installs it). Without it they skip on a developer
machine and fail when ``CI`` or ``INITSPEC_REQUIRE_BROWSER=1`` is set, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import write
from initspec.cli import main

REQUIRE_BROWSER_ENV = "INITSPEC_REQUIRE_BROWSER"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Headless Chromium, cut off from the network: every host name resolves to nothing, and the browser's own
# background traffic (updates, sync) is switched off as far as flags allow; the net log shows the rest.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

FACTORY = """
import torch
from torch import nn

from initspec import BaseModule


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.norm = nn.Linear(16, 32), nn.Linear(32, 16), nn.LayerNorm(16)


class Net(BaseModule):
    def __init__(self, poisoned=False):
        super().__init__()
        self.blocks = nn.ModuleList(Block() for _ in range(4))
        self.head = nn.Linear(16, 3)
        if poisoned:  # a parameter no rule writes, left holding a NaN
            self.scale = nn.Parameter(torch.tensor([1.0, float("nan"), 1.0, 1.0]))


def build():
    return Net()


def build_poisoned():
    return Net(poisoned=True)


class Broken(BaseModule):
    def __init__(self):
        super().__init__()
        self.child = Crashing()


class Crashing(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def init_weights(self):
        raise RuntimeError("model code failed")


def build_broken():
    return Broken()


def build_meta():
    with torch.device("meta"):
        return Net()
"""

CONFIG = [
    {"type": "TruncNormal", "std": 0.02, "a": -0.04, "b": 0.04, "layer": "Linear", "bias": 0},
    {"type": "Constant", "val": 1, "bias": 0, "layer": "LayerNorm"},
]
GROUPS = 3  # blocks.*.fc1.weight, blocks.*.fc2.weight, head.weight


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the model factory and the config."""
    write(tmp_path, "net.py", FACTORY)
    write(tmp_path, "init.json", json.dumps(CONFIG))
    return tmp_path


def _explain(project: Path, factory: str, *extra: str) -> int:
    return main(["explain", str(project / "init.json"), "--model", f"{project / 'net.py'}:{factory}", *extra])


def test_verify_prints_the_check_and_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--verify prints the plan, then the check of every tensor; a clean model exits 0."""
    assert _explain(project, "build", "--verify") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "verified Net: 26 tensors (26 pass), alpha=0.001"
    assert re.search(
        r"^blocks\.0\.fc1\.weight +TruncNormal\(.*\) +TN\(0, 0\.02²; \[-0\.04, 0\.04\]\) +mean .* pass$",
        out,
        re.M,
    )


def test_verify_exits_1_when_a_tensor_fails(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A NaN in a tensor nothing wrote fails the check: the reason is printed and the exit code is 1."""
    assert _explain(project, "build_poisoned", "--verify") == 1
    assert "\nscale: 1 of 4 elements are NaN or inf\n" in capsys.readouterr().out


def test_verify_reports_model_code_that_raises(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Model code that raises while --verify initializes the model is an error on stderr (exit 1), no traceback."""
    write(project, "none.json", "{}")  # no init_cfg: the BaseModule's own init_weights runs, and its child's
    factory = f"{project / 'net.py'}:build_broken"
    assert main(["explain", str(project / "none.json"), "--model", factory, "--verify"]) == 1
    err = capsys.readouterr().err
    assert "error: --verify: initializing the model raised RuntimeError: model code failed" in err


def test_verify_materializes_a_meta_model(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A factory that builds on the meta device is given CPU storage first, then initialized and checked."""
    assert _explain(project, "build_meta", "--verify") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "verified Net: 26 tensors (26 pass), alpha=0.001"


def test_verify_json_adds_the_check(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --format json the report's object gains a "verify" key holding InitCheck.to_dict()."""
    assert _explain(project, "build_poisoned", "--verify", "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verify"]["failures"] == ["scale"]
    assert data["verify"]["tensors"]["head.weight"]["verdict"] == "pass"


def test_html_without_matplotlib_names_the_extra(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--html without matplotlib installed is a usage error (exit 2) naming `initspec[plot]`."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "initspec.cli._verify_html", raising=False)
    assert _explain(project, "build", "--html", str(project / "page.html")) == 2
    assert "install it with `pip install initspec[plot]`" in capsys.readouterr().err


@pytest.fixture
def page(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The --html page of the poisoned model (one failure, so the page shows one)."""
    path = project / "page.html"
    assert _explain(project, "build_poisoned", "--html", str(path)) == 1
    capsys.readouterr()
    return path


def test_page_has_one_plot_per_layer_group_and_no_web_address(page: Path) -> None:
    """The page holds one inline SVG per layer group, no script or style from elsewhere, and no URL at all."""
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == GROUPS
    assert [m for m in ("blocks.*.fc1.weight", "blocks.*.fc2.weight", "head.weight") if f">{m}<" in text]
    assert re.findall(r"https?://", text) == []
    hrefs = re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']*)", text)
    assert hrefs and all(h.startswith("#") for h in hrefs)  # matplotlib's own <use> references only
    assert '<tr class="fail" data-name="scale">' in text


def _chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    msg = "headless Chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_BROWSER_ENV, "") not in ("", "0") or os.environ.get("CI"):
        pytest.fail(f"{msg}, but CI or {REQUIRE_BROWSER_ENV} is set, so the browser tests must run")
    pytest.skip(msg)


def _open(page: Path, out: Path, *flags: str) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium: its DOM after scripts ran, and the http(s) URLs the page requested."""
    log = out.with_suffix(".netlog.json")
    cmd = [_chromium(), *BROWSER_FLAGS, f"--log-net-log={log}", *flags, page.resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout, _page_requests(json.loads(log.read_text(encoding="utf-8")))


def _page_requests(netlog: dict[str, object]) -> list[str]:
    """URLs of the requests a ``file://`` page started (the browser's own traffic has another origin)."""
    names = {value: key for key, value in netlog["constants"]["logEventTypes"].items()}  # type: ignore[index,union-attr]
    urls = []
    for event in netlog["events"]:  # type: ignore[union-attr]
        params = event.get("params", {})
        if names[event["type"]] == "URL_REQUEST_START_JOB" and "file://" in params.get(
            "network_isolation_key", ""
        ):
            urls.append(params["url"])
    return urls


def test_page_renders_in_chromium_without_the_network(page: Path, tmp_path: Path) -> None:
    """Chromium renders the page and its histogram script with no network request (a leaky page shows one)."""
    shot = tmp_path / "page.png"
    _, requests = _open(page, shot, f"--screenshot={shot}", "--window-size=1200,1600")
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    assert image.size == (1200, 1600) and colours is not None and len(colours) > 16
    assert requests == []
    dom, _ = _open(page, tmp_path / "dom.png", "--dump-dom")
    assert dom.count("<svg") == GROUPS + 1
    histogram = dom.split('<div id="histogram">', 1)[1].split("</div>", 1)[0]
    assert histogram.startswith("<svg") and re.search(
        r"blocks\.0\.fc1\.weight: -0\.0\d+ \.\. 0\.0\d+<", histogram
    )
    leaky = page.with_name("leaky.html")
    leaky.write_text(
        page.read_text(encoding="utf-8").replace("</body>", '<img src="https://example.com/a.png"></body>')
    )
    assert _open(leaky, tmp_path / "leaky.png", "--dump-dom")[1] == ["https://example.com/a.png"]
