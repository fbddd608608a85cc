"""Starting ``gradscope serve`` on a free port and driving Debian's Chromium with Playwright."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """Debian's Chromium, or a skip that says how to install it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on this machine: apt-get install -y chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(str):
    """The base URL of a running ``gradscope serve``; ``.proc`` is its process (its output
    can be read once the block has ended)."""

    proc: subprocess.Popen[str]


@contextmanager
def served(target: Path, *args: str, stop: int = signal.SIGTERM) -> Iterator[Server]:
    """Run ``gradscope serve TARGET`` until the block ends (then send it ``stop``)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradscope", "serve", str(target), "--port", str(port), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "true"},
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"gradscope serve exited: {proc.communicate()}") from None
                time.sleep(0.2)
        server = Server(f"http://127.0.0.1:{port}")
        server.proc = proc
        yield server
    finally:
        proc.send_signal(stop)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ScreenText:
    """What the dashboard sent to the browser over its websocket, as plain text."""

    def __init__(self) -> None:
        self.raw: list[str] = []

    def add(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        self.raw.append(payload)

    @property
    def text(self) -> str:
        return ANSI.sub("", "".join(self.raw))

    def mark(self) -> int:
        """A point in the stream: ``wait_for(..., since=mark)`` looks only at what came after."""
        return len(self.raw)

    def wait_for(self, page, needle: str, *, since: int = 0, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in ANSI.sub("", "".join(self.raw[since:])):
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never reached the browser:\n{self.text[-3000:]}")
            page.wait_for_timeout(100)
