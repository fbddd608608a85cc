"""``gradscope run SCRIPT``: run a script exactly as ``python SCRIPT`` would, watched.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT, *ARGS]`` and its folder first on
``sys.path``. Its output, traceback and exit code pass through; gradscope adds a short summary
on stderr after the script has finished.

SIGTERM (a job scheduler, ``kill``, a container stopping) would end the process before the store
is closed. While the script runs, a SIGTERM unwinds it instead, the store is closed and the
summary printed, and then the process ends by SIGTERM as the plain script would have (exit
status 143 in a shell). A script that installs its own SIGTERM handler keeps it.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

from gradscope.capture.auto import Discovery
from gradscope.errors import GradscopeError
from gradscope.options import WatchOptions
from gradscope.records import Alert
from gradscope.store.ranks import (
    env_world,
    launch_stamp,
    rank_path,
    split_rank,
    timestamped_default,
)
from gradscope.text_safety import visible


def default_run_store(script: Path, folder: str = "runs") -> Path:
    """``runs/<script-stem>-<YYYYmmdd-HHMMSS>.gsdb``, made unique if taken.

    Under a launcher (torchrun) every rank derives the same name from the launcher's start
    time, so the ranks' files sit side by side (see :func:`rank_store`).
    """
    if world_size() > 1:
        return Path(folder) / f"{script.stem}-{launch_stamp()}.gsdb"
    return timestamped_default(folder, script.stem)


def world_size() -> int:
    return env_world()[1]


def rank_store(path: Path) -> Path:
    """One file per rank when several processes run: ``run.gsdb`` → ``run.rank1.gsdb``."""
    rank, size = env_world()
    return rank_path(path, rank) if size > 1 else path


def run_script(
    script: str,
    args: list[str],
    *,
    store: str | os.PathLike[str] | None = None,
    options: WatchOptions | None = None,
    quiet: bool = False,
) -> int:
    """Run ``script`` with gradscope discovering its models; return the script's exit code."""
    path = Path(script)
    if not path.is_file():
        raise GradscopeError(f"no script at {script!r}: pass the path of a Python file to run")
    store_path = rank_store(Path(store) if store is not None else default_run_store(path))
    discovery = Discovery(store_path, options or WatchOptions())
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [script, *args]
    sys.path.insert(0, str(path.resolve().parent))
    code = 0
    terminated = interrupted = False
    previous = _catch_sigterm()
    try:
        discovery.start()
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt as exc:
        _print_script_traceback(exc, path)
        interrupted = True
        code = 128 + signal.SIGINT
    except Terminated:
        terminated = True
        code = 128 + signal.SIGTERM
    except BaseException as exc:
        _print_script_traceback(exc, path)
        code = 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        try:
            discovery.stop()
        finally:
            if not quiet:
                _summary(discovery, store_path)
            _restore_sigterm(previous)
    if terminated:
        _end_by_sigterm()
    if interrupted:
        _end_by(signal.SIGINT)
    return code


class Terminated(BaseException):
    """SIGTERM arrived while the script ran (a BaseException, like KeyboardInterrupt, so the
    script's ``except Exception`` blocks do not swallow it)."""


_RUNNER_PID: int | None = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _RUNNER_PID:  # a forked worker (DataLoader, Pool) inherited the handler
        _end_by_sigterm(flush=False)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the closing
    raise Terminated


def _catch_sigterm() -> signal.Handlers | None:
    """Install the SIGTERM handler when SIGTERM would kill the process outright; else ``None``."""
    global _RUNNER_PID
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None
    _RUNNER_PID = os.getpid()
    signal.signal(signal.SIGTERM, _on_sigterm)
    return signal.SIG_DFL


def _restore_sigterm(previous: signal.Handlers | None) -> None:
    """Put back the default, unless the script installed a handler of its own meanwhile."""
    if previous is None:
        return
    if signal.getsignal(signal.SIGTERM) in (_on_sigterm, signal.SIG_IGN):
        signal.signal(signal.SIGTERM, previous)


def _end_by_sigterm(*, flush: bool = True) -> None:
    """End the process by SIGTERM, as the plain script would have ended."""
    _end_by(signal.SIGTERM, flush=flush)


def _end_by(signum: int, *, flush: bool = True) -> None:
    """End the process by ``signum``, as the plain script would have ended: Python itself
    ends by SIGINT after an uncaught KeyboardInterrupt, which is what a calling shell checks
    to stop a loop of commands."""
    if flush:
        sys.stdout.flush()
        sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _exit_code(exc: SystemExit) -> int:
    """What the interpreter would exit with for ``sys.exit(exc.code)``."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def _print_script_traceback(exc: BaseException, script: Path) -> None:
    """Print the traceback as Python would, starting at the script's own frames."""
    tb = exc.__traceback__
    target = str(script.resolve())
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    sys.stdout.flush()
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__, file=sys.stderr)


def _verdict(path: Path, live: list[Alert]) -> tuple[list[Alert], list[str]]:
    """The closed store judged as ``gradscope doctor`` judges it (the ``live`` alerts were
    found on part of the run), and the checks that could not run; ``live`` if that fails."""
    from gradscope.doctor.coverage import unchecked
    from gradscope.doctor.runner import findings
    from gradscope.store.reader import open_store

    try:
        with open_store(path) as run:
            alerts = findings(run)
            return alerts, [] if alerts else unchecked(run)
    except Exception:  # the store could not be judged again: say what was seen live
        return live, []


def _summary(discovery: Discovery, store: Path) -> None:
    scope = discovery.scope
    sys.stdout.flush()
    if scope is None:
        print("gradscope: no model or optimizer ran; nothing was recorded", file=sys.stderr)
        return
    print(f"gradscope: {scope.step} steps recorded in {store}", file=sys.stderr)
    alerts, notes = (
        _verdict(scope.path, scope.alerts) if scope.options.doctor else (scope.alerts, [])
    )
    for alert in alerts:
        when = f" (step {alert.step})" if alert.step is not None else ""
        print(
            f"gradscope: {alert.severity}: {alert.code} at {visible(alert.where)}{when}: "
            f"{visible(alert.message, multiline=True)}",
            file=sys.stderr,
        )
    if not alerts and scope.options.doctor:
        if notes:
            print("gradscope: the doctor found nothing wrong in the checks that ran; not "
                  "checked:", file=sys.stderr)  # fmt: skip
            for note in notes:
                print(f"gradscope:   - {visible(note)}", file=sys.stderr)
        else:
            print("gradscope: the doctor found nothing wrong", file=sys.stderr)
    logical = split_rank(store)[0] if world_size() > 1 else store  # every rank, merged
    hint = f"gradscope doctor {logical}" if alerts else f"gradscope report {logical}"
    print(f"gradscope: see `{hint}` or `gradscope tui {store}`", file=sys.stderr)
