"""``gradscope run SCRIPT``: run a script exactly as ``python SCRIPT`` would, watched.

The script runs as ``__main__`` with ``sys.argv = [SCRIPT, *ARGS]`` and its folder first on
``sys.path``. Its output, traceback and exit code pass through; gradscope adds a short summary
on stderr after the script has finished.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path

from gradscope.capture.auto import Discovery
from gradscope.errors import GradscopeError
from gradscope.options import WatchOptions
from gradscope.store.ranks import (
    env_world,
    launch_stamp,
    rank_path,
    split_rank,
    timestamped_default,
)


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
    try:
        discovery.start()
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt as exc:
        _print_script_traceback(exc, path)
        code = 130
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
    return code


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


def _summary(discovery: Discovery, store: Path) -> None:
    scope = discovery.scope
    sys.stdout.flush()
    if scope is None:
        print("gradscope: no model or optimizer ran; nothing was recorded", file=sys.stderr)
        return
    print(f"gradscope: {scope.step} steps recorded in {store}", file=sys.stderr)
    alerts = scope.alerts
    for alert in alerts:
        when = f" (step {alert.step})" if alert.step is not None else ""
        print(
            f"gradscope: {alert.severity}: {alert.code} at {alert.where}{when}: {alert.message}",
            file=sys.stderr,
        )
    if not alerts and scope.options.doctor:
        print("gradscope: the doctor found nothing wrong", file=sys.stderr)
    logical = split_rank(store)[0] if world_size() > 1 else store  # every rank, merged
    hint = f"gradscope doctor {logical}" if alerts else f"gradscope report {logical}"
    print(f"gradscope: see `{hint}` or `gradscope tui {store}`", file=sys.stderr)
