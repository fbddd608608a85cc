"""``gradscope tui``: bad input is one line on stderr and exit code 2, before any screen setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradscope.tui.cli import tui


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / "missing.gsdb", "does not exist"),
        (lambda d: _write(d / "notes.txt", b"hello, not a store\n" * 10), "not an SQLite file"),
        (lambda d: d, "is a folder"),
    ],
)
def test_bad_store_is_one_line_and_exit_2(tmp_path: Path, make, expected: str) -> None:
    result = CliRunner().invoke(tui, [str(make(tmp_path))])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradscope: error: ") and expected in lines[0]


def test_no_argument_and_no_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(tui, [])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("e.g. gradscope tui runs/NAME.gsdb")


def test_help_names_the_keys() -> None:
    result = CliRunner().invoke(tui, ["--help"])
    assert result.exit_code == 0
    assert "newest *.gsdb under ./runs" in result.stdout and "--interval" in result.stdout


def test_terminal_left_clean_in_a_real_process(tmp_path: Path) -> None:
    """A subprocess, as a user runs it: no escape sequences, nothing but the one line."""
    bad = _write(tmp_path / "x.gsdb", b"SQLite format 3\x00" + b"\x00" * 200)
    proc = subprocess.run(
        [sys.executable, "-c", "from gradscope.tui.cli import tui; tui()", str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "TERM": "xterm-256color"},
        timeout=600,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "\x1b" not in proc.stderr
    assert "is an SQLite file but not a gradscope store" in proc.stderr


CRASHING_TUI = """
import sys
from gradscope.tui.widgets.run_header import RunHeader
def show(self, data, *, paused):
    raise RuntimeError("a view failed")
RunHeader.show = show
from gradscope.tui.cli import tui
tui([sys.argv[1]])
"""


def test_a_dashboard_that_dies_exits_non_zero(fixed_store: Path) -> None:
    """In a terminal (a pty), an exception inside a view ends the app, and the shell sees it."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-c", CRASHING_TUI, str(fixed_store)])
    out, deadline = b"", time.monotonic() + 300
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, out[-2000:]
    assert b"a view failed" in out


def test_cli_and_data_layer_do_not_import_textual() -> None:
    code = (
        "import sys, gradscope.tui, gradscope.tui.cli;"
        "import gradscope.tui.viewmodel.data, gradscope.tui.viewmodel.rows;"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
