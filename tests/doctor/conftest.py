"""Stores the doctor tests judge, recorded once per session.

The fixture scripts are plain training code (no gradscope import) run as ``gradscope run`` runs
them, through :func:`gradscope.runner.run_script`, all in one subprocess: torch's import
dominates the cost of a script, so one interpreter for all of them keeps the suite fast while
each script still runs as ``__main__`` in a fresh module namespace, exactly as a user's would.
Under pytest-xdist the workers share one recording (the first worker to need it makes it, the
others wait for it), so the scripts run once per session, not once per worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from doctor_helpers import with_events
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "doctor"
GAN = ROOT / "tests" / "fixtures" / "scripts" / "gan.py"
DEMOS = ROOT / "demos"

#: Runs every (script, store) pair given as arguments; prints ``<store> <exit code>`` per run.
RUN_ALL = """
import sys
from gradscope.runner import run_script
pairs = sys.argv[1:]
for script, store in zip(pairs[::2], pairs[1::2]):
    print(store, run_script(script, [], store=store, quiet=True), flush=True)
"""

#: Records the demo models with fewer steps for the slow ones (full length: thresholds.md).
DEMO_ALL = """
import sys
from rich.console import Console
from gradscope.demo.run import run_demo
quiet = Console(file=open("/dev/null", "w"))
folder, full = sys.argv[1], sys.argv[2] == "1"
steps = {"linreg": None, "mlp": None, "lenet": None, "gru": 30, "transformer": 8}
for name, n in steps.items():
    run_demo(name, steps=None if full else n, store=f"{folder}/{name}.gsdb", console=quiet)
"""


def subprocess_env() -> dict[str, str]:
    """The scripts record with this checkout's gradscope, whatever an installed one is."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "CI": "true", "PYTHONWARNINGS": "ignore", "PYTHONPATH": path}


def run_scripts(scripts: list[Path], folder: Path) -> dict[str, Path]:
    """Run each script through ``gradscope run`` in one subprocess; store paths by stem."""
    stores = {s.stem: folder / f"{s.stem}.gsdb" for s in scripts}
    pairs = [str(x) for s in scripts for x in (s, stores[s.stem])]
    result = subprocess.run(
        [sys.executable, "-c", RUN_ALL, *pairs],
        capture_output=True,
        text=True,
        cwd=folder,
        env=subprocess_env(),
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    codes = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines() if ".gsdb " in line)
    failed = {k: v for k, v in codes.items() if v != "0"}
    assert len(codes) == len(scripts) and not failed, (failed, result.stderr[-3000:])
    return stores


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, bool]:
    """A folder every xdist worker of this session sees, and whether it is recorded already.

    Call under :func:`recording_lock`. Without xdist it is a fresh temporary folder.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return tmp_path_factory.mktemp(name), False
    folder = tmp_path_factory.getbasetemp().parent / name
    done = (folder / "recorded").exists()
    folder.mkdir(exist_ok=True)
    return folder, done


def recording_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> FileLock:
    return FileLock(str(tmp_path_factory.getbasetemp().parent / f"{name}.lock"))


@pytest.fixture(scope="session")
def script_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stores of every fixture script, the GAN script and the bug showcases in demos/."""
    scripts = [*sorted(FIXTURES.glob("*.py")), GAN, *sorted(DEMOS.glob("bug_*.py"))]
    with recording_lock(tmp_path_factory, "doctor-scripts"):
        folder, done = shared_folder(tmp_path_factory, "doctor-scripts")
        if done:
            return {s.stem: folder / f"{s.stem}.gsdb" for s in scripts}
        stores = run_scripts(scripts, folder)
        (folder / "recorded").touch()
    return stores


@pytest.fixture(scope="session")
def demo_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stores of the five demo models (GRU and transformer shortened unless
    ``GRADSCOPE_DOCTOR_FULL=1``, which trains every demo for its default steps)."""
    full = os.environ.get("GRADSCOPE_DOCTOR_FULL") == "1"
    names = ("linreg", "mlp", "lenet", "gru", "transformer")
    with recording_lock(tmp_path_factory, "doctor-demos"):
        folder, done = shared_folder(tmp_path_factory, "doctor-demos")
        if not done:
            subprocess.run(
                [sys.executable, "-c", DEMO_ALL, str(folder), "1" if full else "0"],
                check=True,
                capture_output=True,
                env=subprocess_env(),
                timeout=1800 if full else 1200,
            )
            (folder / "recorded").touch()
    return {name: folder / f"{name}.gsdb" for name in names}


@pytest.fixture
def add_events(tmp_path: Path) -> Callable[[Path, list[tuple[int, str, str, str]]], Path]:
    """``add_events(store, events)``: a copy of ``store`` with the events inserted."""
    return lambda base, events: with_events(base, tmp_path, events)
