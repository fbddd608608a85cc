"""One writer per store, and a store lock held by another client only delays writing.

A second scope (or process) on a store that is being written is refused and the live file is
left alone; a store whose writer died (even by SIGKILL) is replaced as any finished one is;
another SQLite client holding the write lock for longer than SQLite's busy timeout delays
recording, says so once, and loses no step.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from torch import nn

import gradscope as gs

TRAIN_FOREVER = textwrap.dedent(
    """
    import sys, torch
    import gradscope as gs
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    scope = gs.watch(model, opt, store=sys.argv[1])
    step = 0
    while True:
        opt.zero_grad()
        model(torch.randn(2, 4)).pow(2).mean().backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            scope.flush()
            print(step, flush=True)
    """
)


def _model() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def _steps(model: nn.Module, opt: torch.optim.Optimizer, n: int) -> None:
    for _ in range(n):
        opt.zero_grad()
        model(torch.randn(5, 4)).pow(2).mean().backward()
        opt.step()


def test_second_scope_in_this_process_is_refused_and_the_first_keeps_its_file(
    tmp_store: Path,
) -> None:
    model, opt = _model()
    first = gs.watch(model, opt, store=tmp_store)
    try:
        _steps(model, opt, 3)
        other, other_opt = _model()
        with pytest.raises(gs.GradscopeError, match="another scope in this process is writing"):
            gs.watch(other, other_opt, store=tmp_store)
        with pytest.raises(gs.GradscopeError, match="another scope in this process is writing"):
            gs.watch(other, store=Path(str(tmp_store.parent) + "/./" + tmp_store.name))
        _steps(model, opt, 3)
    finally:
        first.close()
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(6))
        assert "finished" in run.meta
    # Finished: the next run at that path replaces it, as documented.
    with gs.watch(model, opt, store=tmp_store):
        _steps(model, opt, 2)
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1]
    assert sorted(p.name for p in tmp_store.parent.iterdir()) == [tmp_store.name]


def test_writer_in_another_process_blocks_a_second_one_until_it_is_killed(tmp_store: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN_FOREVER, str(tmp_store)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        flushed = int(proc.stdout.readline())
        model, opt = _model()
        with pytest.raises(gs.GradscopeError, match=f"process {proc.pid} is writing store"):
            gs.watch(model, opt, store=tmp_store)
        flushed = int(proc.stdout.readline())  # still writing its own file
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with gs.open_store(tmp_store) as run:  # the killed run's file was never touched
        assert run.steps[:flushed] == list(range(flushed))
        assert "finished" not in run.meta
    # The dead writer's lock file is still there but blocks nothing: the store is replaced.
    assert Path(f"{tmp_store}-lock").exists()
    with gs.watch(model, opt, store=tmp_store):
        _steps(model, opt, 3)
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2]
        assert "finished" in run.meta
    assert sorted(p.name for p in tmp_store.parent.iterdir()) == [tmp_store.name]


def test_store_locked_by_another_client_delays_recording_and_keeps_every_step(
    tmp_store: Path,
) -> None:
    model, opt = _model()
    with pytest.warns(gs.GradscopeWarning) as caught:
        scope = gs.watch(model, opt, store=tmp_store)
        try:
            _steps(model, opt, 5)
            scope.flush()
            other = sqlite3.connect(tmp_store, isolation_level=None, timeout=30)
            other.execute("BEGIN IMMEDIATE")  # holds the write lock past SQLite's 5 s timeout
            held = time.monotonic()
            try:
                for _ in range(4):
                    _steps(model, opt, 5)
                    time.sleep(0.3)
                time.sleep(max(0.0, 6.5 - (time.monotonic() - held)))
                _steps(model, opt, 5)
            finally:
                other.execute("ROLLBACK")
                other.close()
            _steps(model, opt, 5)
        finally:
            scope.close()
    messages = [str(w.message) for w in caught]
    assert len([m for m in messages if "locked by another SQLite client" in m]) == 1, messages
    assert not [m for m in messages if "instrument failed" in m], messages
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(35))
        assert run.series("grad_norm", "0.weight")[0] == list(range(35))
        assert "finished" in run.meta
        assert run.meta["failed_instruments"] == {}


FORK_AND_TRAIN = textwrap.dedent(
    """
    import os, sys, time, torch
    import gradscope as gs
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    scope = gs.watch(model, opt, store=sys.argv[1])
    child = os.fork()  # a DataLoader worker would be forked like this
    if child == 0:
        time.sleep(120)
        os._exit(0)
    print(child, flush=True)
    while True:
        opt.zero_grad()
        model(torch.randn(2, 4)).pow(2).mean().backward()
        opt.step()
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_of_a_killed_writer_does_not_keep_the_store_locked(tmp_store: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", FORK_AND_TRAIN, str(tmp_store)], stdout=subprocess.PIPE, text=True
    )
    child = None
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        os.kill(child, 0)  # the orphaned child still runs, holding what it inherited
        model, opt = _model()
        with gs.watch(model, opt, store=tmp_store):
            _steps(model, opt, 2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1]
