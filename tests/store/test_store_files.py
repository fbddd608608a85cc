"""The store on disk: crash safety, following a live store, and refusing bad files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import gradscope as gs
from gradscope.store import schema

TRAIN_FOREVER = textwrap.dedent(
    """
    import sys, time, torch
    import gradscope as gs
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    scope = gs.watch(model, opt, store=sys.argv[1])
    step = 0
    while True:
        opt.zero_grad()
        loss = model(torch.randn(4, 8)).pow(2).mean()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            scope.flush()
            print(step, flush=True)
    """
)


def _train(store: Path, steps: int) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=store):
        for _ in range(steps):
            opt.zero_grad()
            model(torch.randn(5, 4)).pow(2).mean().backward()
            opt.step()


def test_sigkill_leaves_readable_store_with_committed_steps(tmp_path: Path) -> None:
    store = tmp_path / "killed.gsdb"
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN_FOREVER, str(store)], stdout=subprocess.PIPE, text=True
    )
    try:
        flushed = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            flushed = int(line)
            if flushed >= 150:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with gs.open_store(store) as run:
        steps = run.steps
        assert steps[:flushed] == list(range(flushed))
        grad_steps, norms = run.series("grad_norm", "0.weight")
        assert grad_steps[:flushed] == list(range(flushed))
        assert all(n > 0 for n in norms)
        assert "finished" not in run.meta


def test_reader_follows_a_store_being_written(tmp_path: Path) -> None:
    store = tmp_path / "live.gsdb"
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scope = gs.watch(model, opt, store=store)
    release = threading.Event()

    def train(n: int) -> None:
        for _ in range(n):
            opt.zero_grad()
            model(torch.randn(2, 3)).sum().backward()
            opt.step()

    try:
        train(5)
        scope.flush()
        run = gs.open_store(store)
        assert run.steps == [0, 1, 2, 3, 4]
        worker = threading.Thread(target=lambda: (train(7), release.set()))
        worker.start()
        worker.join(30)
        assert release.is_set()
        scope.flush()
        assert run.steps == list(range(12))
        assert run.series("grad_norm", "weight")[0] == list(range(12))
        run.close()
    finally:
        scope.close()


def test_not_a_store_is_refused_with_exit_2(tmp_path: Path) -> None:
    text = tmp_path / "notes.gsdb"
    text.write_text("hello\n" * 100)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for path, words in ((text, "not an SQLite file"), (other, "not a gradscope store")):
        with pytest.raises(gs.StoreError, match=words):
            gs.open_store(path)
        result = _cli("report", str(path))
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and words in result.stderr


def test_truncated_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    _train(store, 30)
    data = store.read_bytes()
    cut = tmp_path / "cut.gsdb"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(gs.StoreError, match="truncated"):
        gs.open_store(cut)
    result = _cli("report", str(cut))
    assert result.returncode == 2
    assert "truncated" in result.stderr and result.stderr.count("\n") == 1


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    _train(store, 3)
    conn = sqlite3.connect(store)
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION + 1),)
    )
    conn.commit()
    conn.close()
    with pytest.raises(gs.StoreError, match="newer gradscope"):
        gs.open_store(store)
    result = _cli("report", str(store))
    assert result.returncode == 2 and "newer gradscope" in result.stderr


def test_missing_store_is_refused(tmp_path: Path) -> None:
    result = _cli("report", str(tmp_path / "nope.gsdb"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_store_replaces_an_older_run_but_never_a_foreign_file(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    _train(store, 6)
    _train(store, 2)
    with gs.open_store(store) as run:
        assert run.steps == [0, 1]
    foreign = tmp_path / "data.gsdb"
    foreign.write_text("precious")
    with pytest.raises(gs.GradscopeError, match="not a gradscope store"):
        gs.watch(nn.Linear(2, 2), store=foreign)
    assert foreign.read_text() == "precious"


def test_histograms_and_state_are_raw_blobs_not_pickle(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    _train(store, 2)
    conn = sqlite3.connect(store)
    (blob,) = conn.execute("SELECT counts FROM histograms LIMIT 1").fetchone()
    conn.close()
    assert len(blob) == 32 * 4
    assert not blob.startswith(b"\x80")  # pickle protocol marker


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "gradscope", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_writer_never_blocks_training_when_far_behind(tmp_path: Path) -> None:
    from gradscope.records import Histogram, StepBatch, StepRecord
    from gradscope.store.writer import StoreWriter

    writer = StoreWriter(tmp_path / "w.gsdb", flush_interval=10.0, batch_size=10**9, max_pending=4)
    hist = Histogram(0, "w", "grad", "linear", 0.0, 1.0, (1,) * 32, 0, 0, 0, 0, 32)
    start = time.perf_counter()
    for step in range(50):
        batch = StepBatch(steps=[StepRecord(step, 0.0, 0.0, 1.0, 1, True)], histograms=[hist])
        writer.put("batch", batch)
    assert time.perf_counter() - start < 1.0
    assert writer.dropped == 46
    writer.close()
    with gs.open_store(tmp_path / "w.gsdb") as run:
        assert run.steps == list(range(50))
