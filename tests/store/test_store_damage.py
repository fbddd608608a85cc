"""Damaged stores and refused paths: every command prints one line on stderr and exits 2.

Each case is a real file: a good store damaged the way copies and disks damage them (a value
that is not JSON, a schema version that is not a number, a page of garbage, a live store copied
without its ``-wal``), or an output folder that is missing or cannot be written.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import gradscope as gs
from gradscope.cli import main

STEPS = 12


def _train(store: Path, *, close: bool = True) -> gs.Scope:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    scope = gs.watch(model, opt, store=store)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = model(torch.randn(4, 8)).pow(2).mean()
        loss.backward()
        opt.step()
        scope.log(loss=loss)
    if close:
        scope.close()
    return scope


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("good") / "good.gsdb"
    _train(store)
    return store


def _sql(statement: str) -> Callable[[Path, Path], None]:
    def damage(good: Path, bad: Path) -> None:
        shutil.copyfile(good, bad)
        conn = sqlite3.connect(bad)
        conn.execute(statement)
        conn.commit()
        conn.close()

    return damage


def _garbage_page(good: Path, bad: Path) -> None:
    """Garbage over the root page of ``histograms``, a table the report and the graph never
    read: only a check of the whole file sees it."""
    conn = sqlite3.connect(good)
    (root,) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'histograms'"
    ).fetchone()
    conn.close()
    data = bytearray(good.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    start = (root - 1) * page_size
    data[start + 8 : start + page_size - 8] = b"\xa5" * (page_size - 16)
    bad.write_bytes(bytes(data))


def _copied_without_wal(good: Path, bad: Path) -> None:
    live = bad.parent / "live" / "live.gsdb"
    scope = _train(live, close=False)  # still being written: recent steps live in the -wal
    try:
        scope.flush()
        shutil.copyfile(live, bad)  # the main file alone
    finally:
        scope.close()


CASES: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "invalid-json-row": (_sql("UPDATE params SET aliases = '{bad' WHERE id = 1"), "not valid JSON"),
    "invalid-json-in-a-step": (
        _sql("UPDATE steps SET lrs = '[0.1' WHERE step = 3"),
        "column 'lrs' of table 'steps' is not valid JSON",
    ),
    "schema-version-text": (
        _sql("UPDATE meta SET value = '\"abc\"' WHERE key = 'schema_version'"),
        "schema_version is 'abc', not an integer",
    ),
    "schema-version-float": (
        _sql("UPDATE meta SET value = '1.5' WHERE key = 'schema_version'"),
        "schema_version is 1.5, not an integer",
    ),
    "damaged-pages": (_garbage_page, "is damaged and cannot be read"),
    "copied-without-wal": (_copied_without_wal, "write-ahead log 'bad.gsdb-wal' is missing"),
}

COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "report": lambda store, out: ["report", str(store)],
    "report-json": lambda store, out: ["report", "--json", str(store)],
    "doctor": lambda store, out: ["doctor", str(store)],
    "graph": lambda store, out: ["graph", str(store), "-o", str(out / "graph.dot")],
    "export": lambda store, out: ["export", str(store), "-f", "csv", "-q", "-o", str(out / "csv")],
}


def _bad_store(good: Path, tmp_path: Path, case: str) -> Path:
    bad = tmp_path / "bad.gsdb"
    CASES[case][0](good, bad)
    return bad


def _assert_one_line(result: object, words: str) -> None:
    exit_code = getattr(result, "exit_code", None)
    if exit_code is None:
        exit_code = getattr(result, "returncode")  # noqa: B009
    stderr = getattr(result, "stderr")  # noqa: B009
    assert exit_code == 2, (exit_code, stderr, getattr(result, "exception", None))
    assert stderr.startswith("gradscope: error: ") and stderr.count("\n") == 1, stderr
    assert words in stderr, stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES)
def test_damaged_store_is_one_line_and_exit_2(
    good_store: Path, tmp_path: Path, case: str, command: str
) -> None:
    bad = _bad_store(good_store, tmp_path, case)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, COMMANDS[command](bad, out))
    _assert_one_line(result, CASES[case][1])
    assert result.stdout == ""
    assert list(out.iterdir()) == []  # nothing half-written
    assert not Path(f"{bad}-wal").exists()  # reading made no side file beside the copy


@pytest.mark.parametrize("case", CASES)
def test_tui_on_a_damaged_store_is_one_line_and_exit_2(
    good_store: Path, tmp_path: Path, case: str
) -> None:
    bad = _bad_store(good_store, tmp_path, case)
    result = _gradscope("tui", str(bad))
    _assert_one_line(result, CASES[case][1])


def test_the_good_store_passes_every_check(good_store: Path, tmp_path: Path) -> None:
    """The same commands on the undamaged file succeed (the cases above fail for their damage)."""
    for command in ("report", "doctor", "graph", "export"):
        out = tmp_path / command
        out.mkdir()
        result = CliRunner().invoke(main, COMMANDS[command](good_store, out))
        assert result.exit_code == 0, result.output
    with gs.open_store(good_store, check=True) as run:
        assert run.steps == list(range(STEPS))


# -- output and store paths the system refuses -----------------------------------------------


def test_graph_output_in_a_missing_folder(good_store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["graph", str(good_store), "-o", str(tmp_path / "nope" / "graph.svg")]
    )
    _assert_one_line(result, "does not exist")


def test_output_under_a_regular_file(good_store: Path, tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("mine")
    for args, words in (
        (["graph", str(good_store), "-o", str(file / "graph.svg")], "is not a folder"),
        (
            ["export", str(good_store), "-f", "csv", "-q", "-o", str(file / "csv")],
            "Not a directory",
        ),
    ):
        _assert_one_line(CliRunner().invoke(main, args), words)
    assert file.read_text() == "mine"


# Root ignores file permissions; a root process that gives up the capabilities that let it
# (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER) before it starts Python is refused as any
# user would be.
_AS_PLAIN_USER = """
import ctypes, os, sys
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.exit(99)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


def _gradscope(*args: str, plain_user: bool = False) -> subprocess.CompletedProcess[str]:
    prefix = ["-c", _AS_PLAIN_USER] if plain_user else []
    return subprocess.run(
        [sys.executable, *prefix, "-m", "gradscope", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true", "COLUMNS": "100"},
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


@pytest.fixture
def read_only_folder(tmp_path: Path, good_store: Path) -> Iterator[Path]:
    """A folder holding a finished store that the commands below cannot write to."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    shutil.copyfile(good_store, folder / "old.gsdb")
    folder.chmod(0o555)
    probe = subprocess.run(
        [sys.executable, "-c", _AS_PLAIN_USER, "-c", f"open({str(folder / 'p')!r}, 'w')"],
        capture_output=True,
        check=False,
    )
    if probe.returncode == 0:
        folder.chmod(0o755)
        pytest.skip("this process can write to a folder without write permission")
    yield folder
    folder.chmod(0o755)


def test_commands_refuse_an_unwritable_folder_in_one_line(
    read_only_folder: Path, good_store: Path
) -> None:
    old = (read_only_folder / "old.gsdb").read_bytes()
    cases = (
        (["graph", str(good_store), "-o", str(read_only_folder / "g.svg")], "Permission denied"),
        (
            ["export", str(good_store), "-f", "csv", "-q", "-o", str(read_only_folder / "csv")],
            "Permission denied",
        ),
        (  # replacing an older store there
            [
                "demo",
                "linreg",
                "--steps",
                "2",
                "--no-tui",
                "--store",
                str(read_only_folder / "old.gsdb"),
            ],
            "Permission denied",
        ),
    )
    for args, words in cases:
        result = _gradscope(*args, plain_user=True)
        _assert_one_line(result, words)
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["old.gsdb"]
    assert (read_only_folder / "old.gsdb").read_bytes() == old
