"""How a run ends: a scope never closed is closed at interpreter exit, SIGTERM (under
``gradscope run`` or with ``gs.watch``) closes the store and still ends the process by SIGTERM,
and a script's own SIGTERM handler is left alone."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest
import torch
from torch import nn

import gradscope as gs
from gradscope.capture import lifetime

TRAIN = """
import torch, torch.nn as nn, torch.nn.functional as F

torch.manual_seed(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
"""

NEVER_CLOSED = (
    TRAIN
    + """
import sys
import gradscope as gs

scope = gs.watch(model, opt, store=sys.argv[1])
for step in range(7):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
print("trained", flush=True)
"""
)

TERMINATED = (
    TRAIN
    + """
import os, signal, time

for step in range(1000):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    print(f"step {step}", flush=True)
    if step == 4:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
print("not reached")
"""
)


def python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "CI": "true"},
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_a_scope_never_closed_keeps_every_step_at_exit(tmp_path: Path) -> None:
    script = tmp_path / "never_closed.py"
    script.write_text(textwrap.dedent(NEVER_CLOSED))
    store = tmp_path / "open.gsdb"
    done = python("-W", "error", str(script), str(store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "trained\n"
    with gs.open_store(store) as run:
        assert run.steps == list(range(7))
        assert run.meta["steps"] == 7
        assert "finished" in run.meta


WATCHED_TERMINATED = TERMINATED.replace(
    "import os, signal, time",
    "import os, signal, sys, time\nimport gradscope as gs\nscope = gs.watch(model, opt, "
    "store=sys.argv[1])",
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_sigterm_with_gs_watch_closes_the_store_and_ends_by_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "terminated.py"
    script.write_text(textwrap.dedent(WATCHED_TERMINATED))
    store = tmp_path / "term.gsdb"
    done = python(str(script), str(store), cwd=tmp_path)
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout == "".join(f"step {i}\n" for i in range(5))
    with gs.open_store(store) as run:
        assert run.steps == list(range(5))
        assert "finished" in run.meta


def test_sigterm_handler_is_installed_only_over_the_default_and_removed_at_close(
    tmp_store: Path,
) -> None:
    model = nn.Linear(2, 1)
    before = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with gs.watch(model, store=tmp_store):
            assert signal.getsignal(signal.SIGTERM) is lifetime._on_sigterm
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

        def own(signum: int, frame: object) -> None: ...

        signal.signal(signal.SIGTERM, own)
        with gs.watch(model, store=tmp_store.with_name("own.gsdb")):
            assert signal.getsignal(signal.SIGTERM) is own
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_sigterm_under_gradscope_run_closes_the_store_and_ends_by_sigterm(
    tmp_path: Path,
) -> None:
    script = tmp_path / "terminated.py"
    script.write_text(textwrap.dedent(TERMINATED))
    store = tmp_path / "term.gsdb"
    plain = python(str(script), cwd=tmp_path)
    watched = python("-m", "gradscope", "run", "--store", str(store), str(script), cwd=tmp_path)
    assert plain.returncode == watched.returncode == -signal.SIGTERM  # 143 in a shell
    assert watched.stdout == plain.stdout == "".join(f"step {i}\n" for i in range(5))
    assert "5 steps recorded" in watched.stderr
    assert "Traceback" not in watched.stderr
    with gs.open_store(store) as run:
        assert run.steps == list(range(5))
        assert run.meta["steps"] == 5
        assert "finished" in run.meta


def test_the_exit_registry_holds_scopes_weakly(tmp_store: Path) -> None:
    model = nn.Linear(2, 1)
    scope = gs.watch(model, store=tmp_store)
    assert scope in lifetime._OPEN
    model(torch.randn(3, 2)).sum().backward()
    scope.close()
    assert scope not in lifetime._OPEN

    class Closable:
        def close(self) -> None:
            raise AssertionError("a collected object is never closed")

    other = Closable()
    lifetime.close_at_exit(other)
    ref = weakref.ref(other)
    del other
    gc.collect()
    assert ref() is None
    assert all(type(s) is not Closable for s in lifetime._OPEN)


def test_a_scope_whose_result_is_dropped_records_the_whole_run(tmp_store: Path) -> None:
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gs.watch(model, opt, store=tmp_store)  # the scope is not kept: its hooks keep it alive
    for _ in range(6):
        opt.zero_grad()
        model(torch.randn(3, 2)).sum().backward()
        opt.step()
        gc.collect()
    lifetime.close_open_scopes()  # what the interpreter runs at exit
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(6))
        assert run.meta["steps"] == 6


def test_close_open_scopes_closes_what_is_left_open(tmp_store: Path) -> None:
    model = nn.Linear(2, 1)
    scope = gs.watch(model, store=tmp_store)
    model(torch.randn(3, 2)).sum().backward()
    lifetime.close_open_scopes()  # what the interpreter runs at exit
    assert scope.closed
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0]
        assert "finished" in run.meta


@pytest.mark.slow
def test_a_warning_queued_without_any_scope_is_emitted_at_exit(tmp_path: Path) -> None:
    code = (
        "from gradscope.capture.guard import defer_warning\n"
        "from gradscope.errors import GradscopeWarning\n"
        "defer_warning('gradscope: queued inside a hook', GradscopeWarning)\n"
        "print('done')\n"
    )
    done = python("-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert "GradscopeWarning: gradscope: queued inside a hook" in done.stderr
    strict = python("-W", "error", "-c", code, cwd=tmp_path)
    assert strict.returncode == 0, strict.stderr
    assert "GradscopeWarning: gradscope: queued inside a hook" in strict.stderr  # logged
