"""Run the real-world scripts plain and under ``gradscope run``, and read what each left behind.

Every script prints its training numbers and, at its end, four protocol lines the tests read:
``STEPS n`` (the optimizer steps it made, or its backward passes when it has no optimizer),
``PARAMS a,b,…`` (the parameter names a user would write), ``LOSSES v,…`` (optional: the loss of
each step, as the script computed it) and ``FINAL <sha256>`` (every parameter, buffer and the
global RNG state after training), so "gradscope changed nothing" is "the same standard output".
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import gradscope as gs
from gradscope.doctor.cli import doctor_command

SCRIPTS = Path(__file__).parent / "scripts"

#: Lines a library prints with wall-clock figures in them (the Hugging Face Trainer's closing
#: ``{'train_runtime': …}``): they differ between any two runs, watched or not.
VOLATILE = re.compile(r"train_runtime|_per_second")

#: ``path:line: SomeWarning: message``, as ``warnings`` prints it.
WARNING = re.compile(r":\d+: \w*Warning: ")
#: torch's own logged warnings: ``W1205 02:53:26.648000 27074 file.py:1994] …``.
TORCH_LOG = re.compile(r"^W\d{4} [\d:.]+ +\d+ ")

#: Exit status of the plain run where it is not 0: an uncaught KeyboardInterrupt ends Python by
#: SIGINT, an unhandled SIGTERM kills it; ``subprocess`` reports death by signal N as ``-N``.
EXPECTED_EXIT = {"sigint_uncaught": -2, "sigterm_preempted": -15}

#: Scripts that take longest start first, so the two workers finish together.
SLOW_FIRST = ("hf_trainer_gpt2", "lightning_classifier", "compiled_model", "export_trace_midrun")

TIMEOUT = 600  # seconds per script run: guards a hang only

#: How a user attaches gradscope to each script by hand: the statement is inserted after the
#: statement that starts with the anchor (or before it, for ``"before:"`` anchors), at its
#: indentation. ``STORE`` is the store path the test gives.
W = "import gradscope as gs; gs.watch({}, store=STORE)"
OPT = W.format("model, optimizer")
GAN = (
    "import gradscope as gs; scope = gs.watch(netD, [optimizerD, optimizerG], store=STORE); "
    'scope.add_model(netG, name="netG")'
)
ATTACH: dict[str, tuple[str, str]] = {
    "activation_checkpoint": ("optimizer = ", OPT),
    "amp_gradscaler": ("optimizer = ", OPT),
    "bf16_autocast": ("optimizer = ", OPT),
    "checkpoint_reload": ("optimizer = ", OPT),
    "cnn_plateau": ("optimizer = ", W.format("net, optimizer")),
    "compiled_model": ("optimizer = ", OPT),
    "dcgan": ("optimizerG = ", GAN),
    "early_exit": ("opt = ", W.format("net, opt")),
    "ema_deepcopy": ("optimizer = ", OPT),
    "export_trace_midrun": ("optimizer = ", OPT),
    "float64_model": ("optimizer = ", OPT),
    "hf_trainer_gpt2": (
        "trainer = Trainer(",
        "from gradscope.integrations.huggingface import GradscopeTrainerCallback; "
        "trainer.add_callback(GradscopeTrainerCallback(store=STORE))",
    ),
    "lbfgs_sine": ("optimizer = ", W.format("seq, optimizer")),
    "lightning_classifier": (
        "before:trainer.fit(",
        "from gradscope.integrations.lightning import GradscopeCallback; "
        "trainer.callbacks.append(GradscopeCallback(store=STORE))",
    ),
    "per_sample_grads": ("optimizer = ", OPT),
    "random_function": ("optimizer = ", OPT),
    "reentrant_checkpoint_bn": ("optimizer = ", OPT),
    "sam_optimizer": ("optimizer = ", OPT),
    "separate_modules": (
        "optimizer = ",
        W.format('nn.ModuleDict({"embed": embed, "gru": gru, "out": out}), optimizer'),
    ),
    "sigint_caught": ("optimizer = ", OPT),
    "sigint_uncaught": ("optimizer = ", OPT),
    "sigterm_preempted": ("optimizer = ", OPT),
    "tensor_regression": ("b = ", W.format("[w, b]")),
    "unfreeze_head": ("optimizer = ", OPT),
    "wgan_gp": ("optimizerG = ", GAN),
    "word_lm_tied": ("criterion = ", W.format("model")),
}


def attached(name: str, store: Path) -> str:
    """The script's text with gradscope attached by hand (``ATTACH``), recording into ``store``."""
    anchor, code = ATTACH[name]
    before = anchor.startswith("before:")
    anchor = anchor.removeprefix("before:")
    lines = (SCRIPTS / f"{name}.py").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith(anchor))
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    end = at
    if not before:  # after the whole statement, which may span lines
        depth = 0
        for end in range(at, len(lines)):
            depth += sum(lines[end].count(c) for c in "([{") - sum(
                lines[end].count(c) for c in ")]}"
            )
            if depth <= 0:
                break
        end += 1
    code = code.replace("STORE", repr(str(store)))
    return "\n".join([*lines[:end], indent + code, *lines[end:]]) + "\n"


def script_names() -> list[str]:
    return sorted(p.stem for p in SCRIPTS.glob("*.py"))


def prints_losses(name: str) -> bool:
    """Whether the script declares its per-step losses (a ``LOSSES`` line)."""
    return '"LOSSES"' in (SCRIPTS / f"{name}.py").read_text()


def script_env() -> dict[str, str]:
    """The environment of both runs: CI, no network, one intra-op thread (two runs share the
    machine's two cores), no hash randomisation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        CI="true",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONHASHSEED="0",
    )
    return env


@dataclass
class Outcome:
    """One run of a script: its exit status, output and wall time."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def protocol(self, key: str) -> str | None:
        """The value of the last ``KEY value`` line, or ``None``."""
        found = None
        for line in self.stdout.splitlines():
            if line.startswith(key + " "):
                found = line[len(key) + 1 :]
        return found

    def training_lines(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if not VOLATILE.search(line)]

    def warnings(self) -> list[str]:
        """Warning lines on stderr (``file:line: SomeWarning: …`` and torch's ``W…`` log
        lines, without their clock and pid), except live diagnoses, which the doctor checks."""
        found = []
        for line in self.stderr.splitlines():
            if TORCH_LOG.match(line):
                found.append(TORCH_LOG.sub("W ", line))
            elif WARNING.search(line) and "DiagnosisWarning" not in line:
                found.append(line)
        return found

    def tail(self, n: int = 25) -> str:
        return "\n".join(self.stderr.splitlines()[-n:])


@dataclass
class StoreView:
    """What the tests read from a store, read once (``error`` if it could not be read)."""

    error: str | None = None
    params: list[str] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    loss_steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    doctor: list[dict[str, Any]] = field(default_factory=list)


@dataclass(repr=False)
class ScriptRuns:
    """A script's plain run and one watched run: ``gradscope run`` (mode ``run``) or the script
    with ``gs.watch`` added by hand (mode ``watch``)."""

    name: str
    plain: Outcome
    watched: Outcome
    store: Path
    view: StoreView

    def __repr__(self) -> str:  # pytest prints it with every failure: keep it short
        return f"<runs of {self.name}.py: store {self.store}>"

    @property
    def expected_steps(self) -> int:
        return int(self.plain.protocol("STEPS") or -1)

    @property
    def expected_params(self) -> list[str]:
        return (self.plain.protocol("PARAMS") or "").split(",")

    @property
    def expected_losses(self) -> list[float]:
        return [float(v) for v in (self.plain.protocol("LOSSES") or "").split(",") if v]


def default_sigint() -> None:
    """Scripts that interrupt themselves need Ctrl-C to work as in a terminal, also when the
    suite runs with SIGINT ignored (started in the background by a non-interactive shell)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_one(args: list[str], cwd: Path) -> Outcome:
    cwd.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=cwd, env=script_env(), stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=TIMEOUT, check=False, preexec_fn=default_sigint,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    # kept beside the run for a look after a failure (pytest keeps the last three basetemps)
    (cwd / "stdout.txt").write_text(done.stdout)
    status = f"[exit {done.returncode} after {seconds:.1f} s]"
    (cwd / "stderr.txt").write_text(f"{done.stderr}\n{status}\n")
    return Outcome(done.returncode, done.stdout, done.stderr, seconds)


def read_store(store: Path) -> StoreView:
    """Names, steps, loss and meta through ``gs.open_store``; findings through
    ``gradscope doctor STORE --json``, as a user would call it."""
    try:
        with gs.open_store(store) as run:
            view = StoreView(params=list(run.params), steps=list(run.steps), meta=dict(run.meta))
            view.loss_steps, view.losses = (list(s) for s in run.series("loss"))
    except Exception as exc:  # the tests report it; every other check still runs
        return StoreView(error=f"{type(exc).__name__}: {exc}")
    doctor = CliRunner().invoke(doctor_command, [str(store), "--json"])
    if doctor.exit_code != 0:
        view.error = f"gradscope doctor exited {doctor.exit_code}: {doctor.output[-500:]}"
        return view
    view.doctor = json.loads(doctor.output)
    return view


MODES = ("run", "watch")


def run_scripts(names: Iterable[str], folder: Path) -> dict[tuple[str, str], ScriptRuns]:
    """Run each script plain (``python SCRIPT``), under ``python -m gradscope run --store STORE
    SCRIPT`` and with ``gs.watch`` added by hand, each in a folder of its own, one process per
    core (at least two). Keyed by ``(name, mode)``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(2, min(8, cores or 2))
    names = sorted(names, key=lambda n: (n not in SLOW_FIRST, n))
    jobs: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name in names:
            script = str(SCRIPTS / f"{name}.py")
            store = folder / name / "run.gsdb"
            watched = [sys.executable, "-m", "gradscope", "run", "--store", str(store), script]
            jobs[name, "run"] = pool.submit(run_one, watched, folder / name / "watched")
            plain = [sys.executable, script]
            jobs[name, "plain"] = pool.submit(run_one, plain, folder / name / "plain")
            hand = folder / name / "hand" / f"{name}.py"
            hand.parent.mkdir(parents=True, exist_ok=True)
            hand.write_text(attached(name, folder / name / "watch.gsdb"))
            jobs[name, "watch"] = pool.submit(run_one, [sys.executable, str(hand)], hand.parent)
        outcomes = {key: job.result() for key, job in jobs.items()}
    return {
        (name, mode): ScriptRuns(
            name,
            outcomes[name, "plain"],
            outcomes[name, mode],
            folder / name / f"{mode}.gsdb",
            read_store(folder / name / f"{mode}.gsdb"),
        )
        for name in names
        for mode in MODES
    }


def is_finite(values: Iterable[float | None]) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)
