"""Measure the doctor on the corpus of plain training scripts it was not tuned on.

Each ``tests/doctor/corpus/*.py`` is ordinary training code (no gradscope import) whose first
line says what the doctor should find: ``# expect: <code> @ <where>`` (``<where>`` may list
several acceptable places separated by ``|``) or ``# expect: clean``. Every script runs as a
user would run it, ``python -m gradscope run SCRIPT --store S.gsdb``, and is judged by
``python -m gradscope doctor S.gsdb --json``:

* a buggy script is *found* when the expected code is reported at warning/error severity at an
  expected ``where``;
* any other warning/error on a buggy script is an *extra* alarm, and any warning/error on a
  clean script is a *false alarm*.

Run by hand (not collected by pytest):
``python tests/doctor/measure_corpus.py [FOLDER] [NAME ...]``.
``FOLDER`` (default ``tests/doctor/corpus``) is any folder of scripts with the same headers:
``corpus_b`` to ``corpus_f`` were each written after the rules by someone who had not read them
(``corpus_e`` imitates third-party styles: Lightning-like modules, HuggingFace loops, Kaggle
notebooks, the PyTorch tutorials), so that they measure code the rules were not tuned on;
``NAME`` keeps only the scripts whose name contains it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).parent / "corpus"
#: The checkout these scripts belong to: its gradscope is the one measured, whatever an
#: editable install elsewhere points at.
ROOT = Path(__file__).resolve().parents[2]


def expectation(script: Path) -> tuple[str, set[str]] | None:
    """The ``(code, wheres)`` a script's header expects, or None for a clean script."""
    first = script.read_text().splitlines()[0]
    if not first.startswith("# expect:"):
        raise ValueError(f"{script.name} has no '# expect:' header on its first line; add one.")
    spec = first.removeprefix("# expect:").strip()
    if spec == "clean":
        return None
    code, _, where = spec.partition("@")
    return code.strip(), {w.strip() for w in where.split("|")}


def judge(script: Path, folder: Path) -> tuple[list[dict[str, Any]], float, str]:
    """Run one script under ``gradscope run`` and return the doctor's alerts and the time."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "CI": "true", "PYTHONWARNINGS": "ignore", "PYTHONPATH": path}
    store = folder / f"{script.stem}.gsdb"
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "gradscope", "run", "--store", str(store), str(script)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    elapsed = time.monotonic() - start
    if not store.exists():
        return [], elapsed, f"run failed ({run.returncode}): {run.stderr.strip()[-300:]}"
    doctor = subprocess.run(
        [sys.executable, "-m", "gradscope", "doctor", str(store), "--json"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if doctor.returncode != 0:
        return [], elapsed, f"doctor failed: {doctor.stderr.strip()[-300:]}"
    return json.loads(doctor.stdout), elapsed, ""


def main(args: list[str]) -> int:
    folder = CORPUS
    if args and Path(args[0]).is_dir():
        folder, args = Path(args[0]), args[1:]
    names = args
    scripts = sorted(folder.glob("*.py"))
    if names:
        scripts = [s for s in scripts if any(n in s.stem for n in names)]
    found = buggy = false_alarms = clean = extras = 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for script in scripts:
            expected = expectation(script)
            alerts, elapsed, failure = judge(script, Path(tmp))
            loud = [a for a in alerts if a["severity"] in ("warning", "error")]
            got = ", ".join(f"{a['code']}@{a['where']}" for a in loud) or "-"
            if expected is None:
                clean += 1
                false_alarms += bool(loud) or bool(failure)
                verdict = "ok" if not loud and not failure else "FALSE ALARM"
            else:
                buggy += 1
                code, wheres = expected
                hit = [a for a in loud if a["code"] == code and a["where"] in wheres]
                found += bool(hit)
                extra = [a for a in loud if a not in hit and a["code"] != code]
                extras += bool(extra)
                verdict = "found" if hit else "MISSED"
                if hit and extra:
                    verdict = "found+extra"
            rows.append((script.stem, verdict, f"{elapsed:.1f}s", failure or got))
            print(f"{script.stem:38} {verdict:12} {elapsed:5.1f}s  {failure or got}", flush=True)
    print()
    if buggy:
        print(f"found: {found}/{buggy} ({100 * found / buggy:.0f}%), extra alarms on {extras}")
    if clean:
        print(f"false alarms: {false_alarms}/{clean} clean scripts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
