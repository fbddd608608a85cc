"""``gradscope demo`` in a terminal: the dashboard follows the example while it trains.

The training runs in a child process (``gradscope demo NAME --no-tui``) that writes the store,
and the dashboard follows the store as it would any live run. This module imports neither
torch nor the examples, so the dashboard starts while the child is still importing torch.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradscope.store.reader import Run


def default_store(name: str) -> Path:
    """``runs/demo-NAME.gsdb``: where a demo writes unless told otherwise."""
    return Path("runs") / f"demo-{name}.gsdb"


def is_interactive() -> bool:
    """Whether a person is watching: stdin and stdout are a terminal and ``CI`` is not set."""
    return sys.stdin.isatty() and sys.stdout.isatty() and not os.environ.get("CI")


#: How long the dashboard waits for the training process to create its store.
START_TIMEOUT = 120.0
#: How long a training process stopped by quitting the dashboard gets to close its store.
STOP_TIMEOUT = 20.0
#: How long a finished training process gets to print its report and draw its graph.
FINISH_TIMEOUT = 120.0


def run_demo_live(
    name: str,
    *,
    steps: int | None = None,
    store: str | os.PathLike[str] | None = None,
    every: int = 1,
) -> tuple[Path, int]:
    """Train ``name`` in a child process and follow its store in the dashboard meanwhile.

    Returns the store path and an exit code: the dashboard's if it failed, else the child's
    (0 when the user quit the dashboard before training ended and the child stopped cleanly).
    The child's progress and report are printed once the dashboard has closed.
    """
    path = Path(store) if store is not None else default_store(name)
    args = [sys.executable, "-m", "gradscope", "demo", name, "--no-tui", "--store", str(path)]
    args += ["--every", str(every)] + (["--steps", str(steps)] if steps is not None else [])
    # The report is printed after the dashboard closes, at the terminal's width (a terminal
    # that reports no size, as a bare pty does, gets 100 columns).
    columns = shutil.get_terminal_size((100, 24)).columns or 100
    started = time.time()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        child = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": str(columns), "CI": ""},
            preexec_fn=interruptible if os.name == "posix" else None,
        )
        code = 0
        finished = False
        try:
            run = _wait_for_store(path, child, since=started)
            if run is not None:
                from gradscope.tui.app import make_app

                app = make_app(run, interval=0.5)
                app.run()
                code = app.return_code or 0
                run.refresh()
                finished = "finished" in run.meta
        finally:
            # Training that is over only has its report and graph image left to write: let
            # it. Training still going is stopped (the user quit the dashboard).
            stopped = _stop(child, wait=FINISH_TIMEOUT if finished else 0.0)
        log.seek(0)
        sys.stdout.write(log.read())
    if stopped:
        print(f"training stopped when the dashboard closed; {path} holds the steps so far")
        return path, code
    return path, code or (child.returncode or 0)


def _wait_for_store(path: Path, child: subprocess.Popen[bytes], *, since: float) -> Run | None:
    """The child's store once it exists (not an older run at the same path), or ``None``
    when the child ended or did not create it in time."""
    from gradscope.errors import GradscopeError
    from gradscope.store.reader import Run

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and child.poll() is None:
        try:
            run = Run(path)
        except GradscopeError:
            run = None
        if run is not None:
            if float(run.meta.get("started") or 0) >= since - 1:
                return run
            run.close()
        time.sleep(0.1)
    return None


def interruptible() -> None:
    """In the child before it starts: take Ctrl-C as Python does by default, even when the
    demo itself was started with SIGINT ignored (``cmd &`` in a script, ``nohup``), so that
    :func:`_stop` can end the training with its store closed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(child: subprocess.Popen[bytes], *, wait: float = 0.0) -> bool:
    """Stop a child that is still running after ``wait`` seconds (Ctrl-C, so its scope closes
    the store); True if it had to be stopped."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(wait)
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGINT)
    try:
        child.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    return True


__all__ = ["default_store", "is_interactive", "run_demo_live"]
