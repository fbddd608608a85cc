"""``gradscope serve`` in a real headless Chromium driven by Playwright: the run picker, the
dashboard of a run (model and parameter on screen, keys switch views), a live run followed
while another process writes it, and nothing served but the runs it lists."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from serve_helpers import CHROMIUM_FLAGS, ScreenText, chromium_path, served
from torch import nn

import gradscope as gs

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(6, 8)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.encoder(x)))


def record(store: Path, steps: int) -> None:
    torch.manual_seed(0)
    model = Classifier()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    with gs.watch(model, opt, store=store):
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    (folder / "sweep").mkdir()
    record(folder / "sweep" / "classifier.gsdb", 12)
    (folder / "notes.gsdb").write_text("not a store\n")
    return folder


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def open_page(browser, url: str, screen: ScreenText):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("websocket", lambda ws: ws.on("framereceived", screen.add))
    page.goto(url)
    return page


def is_blank(png: bytes) -> bool:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 100))
    colors = image.getcolors(maxcolors=64)
    return colors is not None and len(colors) < 8


def test_picker_then_dashboard_then_a_key_switches_views(browser, runs_folder: Path) -> None:
    with served(runs_folder) as url:
        screen = ScreenText()
        page = open_page(browser, url + "/", screen)
        rows = page.locator("#runs tr.run")
        assert rows.count() == 2
        first = rows.nth(0).inner_text()  # the damaged file is listed with why, not linked
        listed = page.locator("#runs").inner_text()
        assert "sweep/classifier.gsdb" in listed and "Classifier" in listed
        assert "12" in listed and "notes.gsdb" in listed and "not a gradscope store" in listed
        assert first  # newest first: both rows are present, in some order
        page.click("text=sweep/classifier.gsdb")
        page.wait_for_url("**/run/*")
        assert page.locator("#run-model").inner_text() == "Classifier"
        screen.wait_for(page, "Classifier")
        screen.wait_for(page, "encoder")
        screen.wait_for(page, "head")
        screen.wait_for(page, "weight")
        png = page.screenshot()
        assert not is_blank(png)
        if os.environ.get("GRADSCOPE_SCREENSHOTS"):
            Path(os.environ["GRADSCOPE_SCREENSHOTS"]).write_bytes(png)
        assert "momentum" not in screen.text
        page.locator("#terminal").click()
        mark = screen.mark()
        page.keyboard.press("4")  # the optimizer view shows the group's hyperparameters
        screen.wait_for(page, "momentum", since=mark)
        page.close()


def test_graph_export_is_offered_to_the_browser(browser, runs_folder: Path) -> None:
    with served(runs_folder / "sweep" / "classifier.gsdb") as url:
        screen = ScreenText()
        page = open_page(browser, url + "/", screen)
        page.wait_for_url("**/run/*")
        screen.wait_for(page, "encoder")
        page.locator("#terminal").click()
        page.keyboard.press("5")
        screen.wait_for(page, "AddmmBackward0")
        downloads: list[bytes] = []
        page.context.on(
            "response",
            lambda r: downloads.append(r.body()) if "/download/" in r.url else None,
        )
        page.keyboard.press("x")
        deadline = time.monotonic() + 300
        while not downloads and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert downloads, screen.text[-2000:]
        assert b"<svg" in downloads[0] or downloads[0].startswith(b"digraph")
        assert (runs_folder / "sweep" / "classifier-graph.svg").exists() or (
            runs_folder / "sweep" / "classifier-graph.gv"
        ).exists()
        page.close()


def test_a_live_run_is_followed_while_another_process_writes_it(browser, tmp_path: Path) -> None:
    store = tmp_path / "live.gsdb"
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},
    )
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "started"
        with served(store, "--interval", "0.2") as url:
            screen = ScreenText()
            page = open_page(browser, url + "/", screen)
            page.wait_for_url("**/run/*")  # one store: straight to its dashboard
            screen.wait_for(page, "encoder")
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert writer.wait(timeout=600) == 0
            screen.wait_for(page, "step 39")
            page.close()
    finally:
        if writer.poll() is None:
            writer.kill()


LIVE_WRITER = """
import sys, torch
from torch import nn
import gradscope as gs
model = nn.Sequential()
model.add_module("encoder", nn.Linear(4, 4))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(8, 4)
with gs.watch(model, opt, store=sys.argv[1], doctor=False) as scope:
    for step in range(40):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        if step == 4:
            scope.flush()
            print("started", flush=True)
            sys.stdin.readline()
"""


def test_only_listed_runs_are_served(runs_folder: Path) -> None:
    secret = runs_folder.parent / "outside.gsdb"
    record(secret, 2)
    with served(runs_folder) as url:
        for path in (
            "/run/0000000000000000",
            "/ws/0000000000000000",
            "/static/../../../etc/passwd",
            "/run/../outside.gsdb",
        ):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(url + path, timeout=60)
            assert info.value.code in (403, 404), path
        index = urllib.request.urlopen(url + "/", timeout=60).read().decode()
        assert "outside.gsdb" not in index


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing", "nothing to serve at"),
        (lambda d: (d / "notes.txt").write_text("hello\n") and d / "notes.txt", "not a gradscope"),
    ],
)
def test_a_path_that_is_not_a_store_or_folder_is_refused(tmp_path: Path, make, expected) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gradscope", "serve", str(make(tmp_path))],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradscope: error: ") and expected in lines[0]


def test_binding_beyond_localhost_warns_and_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    record(tmp_path / "a.gsdb", 1)
    with served(tmp_path, "--host", "0.0.0.0", stop=signal.SIGINT) as url:
        assert urllib.request.urlopen(url + "/", timeout=60).status == 200
    assert url.proc.wait(timeout=600) == 0
    err = url.proc.stderr.read()
    lines = err.splitlines()
    assert lines[0] == (
        "gradscope: warning: listening on 0.0.0.0: anyone who can reach port "
        f"{url.rsplit(':', 1)[1]} can read this run"
    )
    assert "Traceback" not in err and lines[1].startswith("gradscope: serving runs under")


def test_localhost_is_the_default_and_says_where(tmp_path: Path) -> None:
    record(tmp_path / "a.gsdb", 1)
    with served(tmp_path / "a.gsdb") as url:
        assert urllib.request.urlopen(url + "/", timeout=60).status == 200
    url.proc.wait(timeout=600)
    assert url.proc.stderr.read().splitlines() == [
        f"gradscope: serving run {str(tmp_path / 'a.gsdb')!r} on http://127.0.0.1:"
        f"{url.rsplit(':', 1)[1]} (Ctrl-C stops)"
    ]
