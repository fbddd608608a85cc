"""Step-time overhead of gradscope against plain training and against its peers.

Run by hand (pytest does not collect this file)::

    python tests/bench/overhead.py                      # default run, about 15 minutes on 2 cores
    python tests/bench/overhead.py --quick              # about 2-3 minutes
    python tests/bench/overhead.py --models gru,lenet --blocks 8 --steps-per-block 50
    python tests/bench/overhead.py --models transformer --profile gs_every1

What is measured
----------------
For each model, every *arm* (plain training, gradscope at ``every=1`` and ``every=10``, and the
peer instruments) trains its own fresh copy of the same architecture (same seed) with Adam on the
same pre-generated synthetic batches, in one process with ``torch.set_num_threads(2)``. After an
untimed warm-up of every arm, the arms run in interleaved *blocks* of K steps: round r runs every
arm once, in an order rotated by r (A B C … then B C … A …), so slow drifts of the machine (other
processes, thermal state) hit every arm alike. Each step (``zero_grad`` → forward → loss →
``backward`` → ``optimizer.step()``, plus ``wandb.log`` in the wandb arms) is timed on its own.

* ``median ms``: median of every timed step of the arm; ``ratio`` = median_arm / median_plain.
  This is the typical step. A cadenced instrument (gradscope ``every=10``, its histograms every
  10*every steps, wandb ``log_freq=100``) does its work on a minority of steps, which a median
  does not see, so the table also has:
* ``mean ms``: the median over blocks of the block's mean step time (amortised cost, periodic
  work included); ``ratio(mean)`` = that / the same for plain.
* ``rounds``: the range over rounds of the per-round ratio of block medians (a noise indicator).

Fairness choices
----------------
* gradscope (``--attach arm``, default): the scope is opened once per arm (``gs.watch`` before
  the warm-up), kept across all that arm's blocks, and closed at the end, as in a real run: the
  logging cadence runs undisturbed and the background writer commits at its natural pace (its
  work lands in whatever block is running, which may be another arm's: rotation spreads it).
  While any scope is open, gradscope wraps ``torch.autograd.backward`` process-wide (to see the
  loss), so the other arms' backward calls also pass through that thin wrapper (a clone of the
  scalar loss): this flatters gradscope's ratio by that cost, which is printed as
  ``backward-wrapper cost``. ``--attach block`` instead opens a new scope (new store file)
  before each block and closes it after (attach/close untimed): no leak into other arms, but the
  first-step work recurs every block, histograms of ``every=10`` come at each block start, and
  the writer's final commit of each block is not timed.
* tensorboard: one ``SummaryWriter`` per arm, kept across blocks; the ``add_histogram`` calls
  (every gradient and every weight, every step) run in an optimizer step pre-hook.
* wandb: one offline run for the whole process (``wandb.init(mode="offline")``, started before
  any timing, finished at the end); ``wandb.watch(model, log="all", log_freq=F)`` once per arm,
  kept across blocks (its counters need continuity); ``wandb.log({"loss": …})`` every step.
  wandb's service process lives for the whole benchmark, for every arm alike.
* ``foreach_norm floor``: a step pre-hook doing one ``torch._foreach_norm`` over all gradients
  and one ``torch.stack(...).cpu()`` — the least any per-step gradient-norm logger can do.
* ``hand .norm().item()``: a step pre-hook doing ``p.grad.norm().item()`` per parameter.

Shared machine
--------------
On a 2-core machine, another process running torch (or anything CPU-bound) makes a 2-thread
step many times slower, so timings taken beside it are meaningless. Before each block the
benchmark waits (up to ``--max-wait`` s) until other processes use less than
``--quiet-threshold`` of the CPUs, and it redoes a block (up to ``--retries`` times) during
which they used more. CPU used by this process and its children (wandb's service) does not
count as foreign. The output says how many blocks were redone and the worst foreign load of an
accepted block.

Store size: the ``.gsdb`` file (plus any ``-wal``) after close, divided by the logged steps
(warm-up included) and by the parameter count, both per parameter *element* and per parameter
*tensor*.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

try:
    from .models import MODELS, BenchModel
except ImportError:  # run as a script: python tests/bench/overhead.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from models import MODELS, BenchModel  # type: ignore[no-redef]

THREADS = 2
N_BATCHES = 8
LR = 1e-3

# Per-model defaults: (blocks, steps per block, warm-up steps). Chosen for ~15 min in total on
# 2 CPU cores (and the --quick variant for ~2-3 min).
DEFAULTS: dict[str, tuple[int, int, int]] = {
    "mlp": (6, 100, 30),
    "lenet": (6, 50, 20),
    "gru": (5, 20, 6),
    "transformer": (8, 10, 3),
    "wide": (6, 15, 5),
}
QUICK: dict[str, tuple[int, int, int]] = {
    "mlp": (3, 50, 20),
    "lenet": (3, 30, 10),
    "gru": (3, 10, 4),
    "transformer": (2, 5, 2),
    "wide": (2, 8, 3),
}

ARMS: dict[str, str] = {
    "plain": "plain",
    "gs_every1": "gradscope every=1",
    "gs_every10": "gradscope every=10",
    "gs_every1_bare": "gradscope every=1, no doctor/graph",
    "gs_detail1": "gradscope every=1 detail_every=1",
    "foreach_floor": "foreach_norm floor",
    "hand_item": "hand .norm().item()",
    "tb_hist": "tensorboard add_histogram",
    "wandb_1": "wandb.watch all, log_freq=1",
    "wandb_100": "wandb.watch all, log_freq=100",
}


class CpuMeter:
    """CPU used by *other* processes (not this one or its children, e.g. wandb's service).

    On a shared 2-core machine one foreign process running torch makes a 2-thread step many
    times slower (thread oversubscription), so blocks that ran beside foreign load are redone.
    Linux only (``/proc``); elsewhere it reports nothing and nothing is retried.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.ncpu = os.cpu_count() or 1
        self.available = Path("/proc/stat").exists()

    @staticmethod
    def _busy() -> int:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        return user + nice + system + irq + softirq + steal

    def _own(self) -> int:
        stats: dict[int, tuple[int, int]] = {}  # pid -> (ppid, cpu ticks)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    raw = f.read()
            except OSError:
                continue
            rest = raw.rsplit(")", 1)[1].split()
            stats[int(entry)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
        own = {self.pid}
        changed = True
        while changed:
            changed = False
            for pid, (ppid, _) in stats.items():
                if ppid in own and pid not in own:
                    own.add(pid)
                    changed = True
        return sum(stats[p][1] for p in own if p in stats)

    def sample(self) -> tuple[float, int, int] | None:
        if not self.available:
            return None
        try:
            return time.monotonic(), self._busy(), self._own()
        except (OSError, ValueError, IndexError):
            return None

    def foreign(self, a: tuple[float, int, int] | None, b: tuple[float, int, int] | None) -> float:
        """Fraction of the whole machine other processes used between two samples."""
        if a is None or b is None or b[0] <= a[0]:
            return 0.0
        ticks = (b[1] - a[1]) - (b[2] - a[2])
        return max(0.0, ticks / self.tick / ((b[0] - a[0]) * self.ncpu))

    def wait_quiet(self, threshold: float, max_wait: float, window: float = 0.3) -> float:
        """Sleep until other processes use < threshold of the machine; return seconds waited
        beyond the first (always taken) window, which doubles as a settle pause."""
        if not self.available or max_wait <= 0:
            return 0.0
        t0 = time.monotonic()
        while True:
            a = self.sample()
            time.sleep(window)
            if self.foreign(a, self.sample()) < threshold or time.monotonic() - t0 > max_wait:
                break
        return max(0.0, time.monotonic() - t0 - window)


class Unavailable(Exception):
    """An arm cannot run here (package missing, init failed)."""


# -- arms ---------------------------------------------------------------------------------------


class Arm:
    """One way of training: attaches its instrument to a model/optimizer pair."""

    key = "plain"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        """Attach for the whole arm (before warm-up)."""

    def begin_block(self) -> None:
        """Called before each timed block (untimed)."""

    def end_block(self) -> None:
        """Called after each timed block (untimed)."""

    def after_step(self, loss: torch.Tensor) -> None:
        """Called inside the timed step, after ``optimizer.step()``."""

    def close(self) -> dict[str, Any]:
        """Detach; return extra results (store size …)."""
        return {}


class GradscopeArm(Arm):
    def __init__(
        self, tmp: Path, every: int, attach: str, *, bare: bool = False, detail: int | None = None
    ) -> None:
        super().__init__(tmp)
        self.key = f"gs_every{every}" + ("_bare" if bare else "")
        self.every = every
        # bare: without the live doctor and the first-step graph, to show what those cost
        self.extra_options: dict[str, Any] = {"doctor": False, "graph": False} if bare else {}
        if detail is not None:  # everything on every logged step
            self.key = f"gs_detail{detail}"
            self.extra_options["detail_every"] = detail
        self.attach = attach
        self.scope: Any = None
        self.files: list[Path] = []
        self.steps_per_file: list[int] = []
        self._steps_before = 0
        self.model: nn.Module | None = None
        self.opt: torch.optim.Optimizer | None = None

    def _open(self) -> None:
        import gradscope as gs

        path = self.tmp / f"{self.key}-{len(self.files)}.gsdb"
        self.files.append(path)
        self.scope = gs.watch(
            self.model, self.opt, store=path, every=self.every, **self.extra_options
        )
        self._steps_before = 0

    def _close_scope(self) -> None:
        if self.scope is not None:
            self.steps_per_file.append(self.scope.step)
            self.scope.close()
            self.scope = None

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        self.model, self.opt = model, opt
        self._open()  # warm-up runs under a scope in both modes

    def begin_block(self) -> None:
        if self.attach == "block":
            self._close_scope()  # the warm-up scope, or the previous block's
            self._open()

    def end_block(self) -> None:
        if self.attach == "block":
            self._close_scope()

    def close(self) -> dict[str, Any]:
        self._close_scope()
        failed = {}
        size = 0
        for path in self.files:
            for suffix in ("", "-wal"):
                p = Path(f"{path}{suffix}")
                if p.exists():
                    size += p.stat().st_size
            with contextlib.suppress(Exception):
                import sqlite3

                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = 'failed_instruments'"
                ).fetchone()
                conn.close()
                if row and row[0] not in ("{}", None):
                    failed[str(path.name)] = row[0]
        logged = sum(math.ceil(n / self.every) for n in self.steps_per_file)
        return {
            "store_bytes": size,
            "logged_steps": logged,
            "files": len(self.files),
            "failed_instruments": failed,
        }


class ForeachFloorArm(Arm):
    key = "foreach_floor"

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        params = [p for p in model.parameters() if p.requires_grad]
        self.sink: list[torch.Tensor] = []

        def hook(optimizer: Any, args: Any, kwargs: Any) -> None:
            grads = [p.grad for p in params if p.grad is not None]
            self.sink.append(torch.stack(torch._foreach_norm(grads)).cpu())
            if len(self.sink) > 1000:
                self.sink.clear()

        self.handle = opt.register_step_pre_hook(hook)

    def close(self) -> dict[str, Any]:
        self.handle.remove()
        return {}


class HandItemArm(Arm):
    key = "hand_item"

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        params = [p for p in model.parameters() if p.requires_grad]
        self.sink: list[list[float]] = []

        def hook(optimizer: Any, args: Any, kwargs: Any) -> None:
            self.sink.append([p.grad.norm().item() for p in params if p.grad is not None])
            if len(self.sink) > 1000:
                self.sink.clear()

        self.handle = opt.register_step_pre_hook(hook)

    def close(self) -> dict[str, Any]:
        self.handle.remove()
        return {}


class TensorboardArm(Arm):
    key = "tb_hist"

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception as exc:  # tensorboard not installed
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        self.writer = SummaryWriter(log_dir=str(self.tmp / "tb"))
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.step = 0

        def hook(optimizer: Any, args: Any, kwargs: Any) -> None:
            for name, p in named:
                self.writer.add_histogram(f"weight/{name}", p.detach(), self.step)
                if p.grad is not None:
                    self.writer.add_histogram(f"grad/{name}", p.grad, self.step)
            self.step += 1

        self.handle = opt.register_step_pre_hook(hook)

    def close(self) -> dict[str, Any]:
        self.handle.remove()
        self.writer.close()
        return {}


class WandbSession:
    """One offline wandb run shared by the wandb arms of the whole process."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.run: Any = None
        self.error: str | None = None
        self.watched = 0

    def get(self) -> Any:
        if self.error is not None:
            raise Unavailable(self.error)
        if self.run is None:
            try:
                os.environ["WANDB_MODE"] = "offline"
                os.environ["WANDB_SILENT"] = "true"
                os.environ.setdefault("WANDB_CONSOLE", "off")
                wdir = self.tmp / "wandb"
                wdir.mkdir(parents=True, exist_ok=True)
                os.environ["WANDB_DIR"] = str(wdir)
                import wandb

                self.run = wandb.init(mode="offline", dir=str(wdir), project="gradscope-overhead")
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                raise Unavailable(self.error) from None
        return self.run

    def finish(self) -> None:
        if self.run is not None:
            with contextlib.suppress(Exception):
                self.run.finish(quiet=True)
            self.run = None


class WandbArm(Arm):
    def __init__(self, tmp: Path, session: WandbSession, log_freq: int) -> None:
        super().__init__(tmp)
        self.session = session
        self.log_freq = log_freq
        self.key = f"wandb_{log_freq}"

    def setup(self, model: nn.Module, opt: torch.optim.Optimizer) -> None:
        run = self.session.get()
        try:
            run.watch(model, log="all", log_freq=self.log_freq, idx=self.session.watched)
        except Exception as exc:
            raise Unavailable(f"wandb.watch failed: {type(exc).__name__}: {exc}") from None
        self.session.watched += 1
        self.model = model
        self.run = run

    def after_step(self, loss: torch.Tensor) -> None:
        self.run.log({"loss": loss.item()})

    def close(self) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            self.run.unwatch(self.model)
        return {}


def make_arm(key: str, tmp: Path, attach: str, wandb_session: WandbSession) -> Arm:
    if key == "plain":
        return Arm(tmp)
    if key == "gs_every1":
        return GradscopeArm(tmp, 1, attach)
    if key == "gs_every10":
        return GradscopeArm(tmp, 10, attach)
    if key == "gs_every1_bare":
        return GradscopeArm(tmp, 1, attach, bare=True)
    if key == "gs_detail1":
        return GradscopeArm(tmp, 1, attach, detail=1)
    if key == "foreach_floor":
        return ForeachFloorArm(tmp)
    if key == "hand_item":
        return HandItemArm(tmp)
    if key == "tb_hist":
        return TensorboardArm(tmp)
    if key == "wandb_1":
        return WandbArm(tmp, wandb_session, 1)
    if key == "wandb_100":
        return WandbArm(tmp, wandb_session, 100)
    raise SystemExit(f"unknown arm {key!r}; choose from {', '.join(ARMS)}")


# -- training -----------------------------------------------------------------------------------


@dataclass
class Lane:
    """One arm with its own model, optimizer, loss and timings."""

    arm: Arm
    model: nn.Module
    opt: torch.optim.Optimizer
    loss_fn: nn.Module
    cursor: int = 0
    blocks: list[list[float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def train_steps(
    lane: Lane, batches: list[tuple[torch.Tensor, torch.Tensor]], n: int, times: list[float] | None
) -> None:
    model, opt, loss_fn, arm = lane.model, lane.opt, lane.loss_fn, lane.arm
    clock = time.perf_counter
    for _ in range(n):
        x, y = batches[lane.cursor % len(batches)]
        lane.cursor += 1
        t0 = clock()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        arm.after_step(loss)
        t1 = clock()
        if times is not None:
            times.append(t1 - t0)


def new_lane(spec: BenchModel, arm: Arm) -> Lane:
    model = spec.model(seed=0)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    return Lane(arm=arm, model=model, opt=opt, loss_fn=nn.CrossEntropyLoss())


def backward_wrapper_cost(spec: BenchModel) -> float | None:
    """Seconds that gradscope's process-wide ``torch.autograd.backward`` wrapper adds per call.

    Measured on a tiny graph with a scope open on an unrelated module (what the other arms pay
    while a gradscope arm keeps its scope open).
    """
    try:
        import gradscope as gs
    except Exception:
        return None
    w = torch.randn(8, requires_grad=True)

    def run(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            (w * 2).sum().backward()
        return (time.perf_counter() - t0) / n

    n = 3000
    run(200)
    base = min(run(n) for _ in range(3))
    with tempfile.TemporaryDirectory() as d:
        other = nn.Linear(2, 2)
        scope = gs.watch(
            other, torch.optim.SGD(other.parameters(), lr=0.1), store=Path(d) / "wrap.gsdb"
        )
        try:
            run(200)
            wrapped = min(run(n) for _ in range(3))
        finally:
            scope.close()
    w.grad = None
    return wrapped - base


@dataclass
class ModelResult:
    model: str
    describe: str
    n_elements: int
    n_tensors: int
    blocks: int
    steps_per_block: int
    warmup: int
    arms: dict[str, dict[str, Any]]
    unavailable: dict[str, str]
    wall_seconds: float
    wrapper_cost_s: float | None = None
    discarded_blocks: int = 0
    waited_s: float = 0.0
    foreign_max: float = 0.0


def bench_model(
    spec: BenchModel,
    arm_keys: list[str],
    blocks: int,
    steps: int,
    warmup: int,
    attach: str,
    wandb_session: WandbSession,
    tmp_root: Path,
    settle: float,
    log: Callable[[str], None],
    meter: CpuMeter,
    quiet: float,
    retries: int,
    max_wait: float,
) -> ModelResult:
    started = time.perf_counter()
    batches = spec.batches(N_BATCHES)
    probe = spec.model(seed=0)
    n_elements = sum(p.numel() for p in probe.parameters())
    n_tensors = sum(1 for _ in probe.parameters())
    del probe
    tmp = tmp_root / spec.name
    tmp.mkdir(parents=True, exist_ok=True)

    lanes: dict[str, Lane] = {}
    unavailable: dict[str, str] = {}
    for key in arm_keys:
        arm_tmp = tmp / key
        arm_tmp.mkdir(exist_ok=True)
        arm = make_arm(key, arm_tmp, attach, wandb_session)
        lane = new_lane(spec, arm)
        try:
            arm.setup(lane.model, lane.opt)
        except Unavailable as exc:
            unavailable[key] = str(exc)
            log(f"  {ARMS[key]}: unavailable: {exc}")
            continue
        lanes[key] = lane

    # Warm-up: every arm, untimed (allocator, kernels, lazy imports, first-step work).
    for key, lane in lanes.items():
        t0 = time.perf_counter()
        train_steps(lane, batches, warmup, None)
        log(f"  warm-up {ARMS[key]}: {warmup} steps in {time.perf_counter() - t0:.1f}s")

    keys = list(lanes)
    discarded = 0
    waited = 0.0
    accepted_foreign: list[float] = []
    for r in range(blocks):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        t_round = time.perf_counter()
        worst_round = 0.0
        for key in order:
            lane = lanes[key]
            for attempt in range(retries + 1):
                lane.arm.begin_block()
                gc.collect()
                if settle:
                    time.sleep(settle)
                waited += meter.wait_quiet(quiet, max_wait)
                times: list[float] = []
                before = meter.sample()
                train_steps(lane, batches, steps, times)
                foreign = meter.foreign(before, meter.sample())
                lane.arm.end_block()
                if foreign > quiet and attempt < retries:
                    discarded += 1
                    continue
                break
            lane.blocks.append(times)
            accepted_foreign.append(foreign)
            worst_round = max(worst_round, foreign)
        log(
            f"  round {r + 1}/{blocks}: {time.perf_counter() - t_round:.1f}s, "
            f"{discarded} block(s) discarded so far, {waited:.0f}s waited for quiet, "
            f"foreign CPU in accepted blocks <= {worst_round:.0%}"
        )

    for lane in lanes.values():
        try:
            lane.extra = lane.arm.close()
        except Exception as exc:  # report, keep the timings
            lane.extra = {"close_error": f"{type(exc).__name__}: {exc}"}

    arms: dict[str, dict[str, Any]] = {}
    for key, lane in lanes.items():
        flat = [t for b in lane.blocks for t in b]
        arms[key] = {
            "median_s": statistics.median(flat),
            "block_medians_s": [statistics.median(b) for b in lane.blocks],
            "block_means_s": [statistics.fmean(b) for b in lane.blocks],
            "n_steps": len(flat),
            **lane.extra,
        }
    wrapper = None
    if attach == "arm" and any(k.startswith("gs_") for k in lanes):
        wrapper = backward_wrapper_cost(spec)
    return ModelResult(
        model=spec.name,
        describe=spec.describe,
        n_elements=n_elements,
        n_tensors=n_tensors,
        blocks=blocks,
        steps_per_block=steps,
        warmup=warmup,
        arms=arms,
        unavailable=unavailable,
        wall_seconds=time.perf_counter() - started,
        wrapper_cost_s=wrapper,
        discarded_blocks=discarded,
        waited_s=waited,
        foreign_max=max(accepted_foreign, default=0.0),
    )


# -- reporting ----------------------------------------------------------------------------------


def ratios(res: ModelResult) -> dict[str, dict[str, float]]:
    """Per arm: median ratio, mean ratio and the range of per-round ratios against plain."""
    plain = res.arms.get("plain")
    out: dict[str, dict[str, float]] = {}
    if plain is None:
        return out
    plain_mean = statistics.median(plain["block_means_s"])
    for key, a in res.arms.items():
        per_round = [
            am / pm for am, pm in zip(a["block_medians_s"], plain["block_medians_s"], strict=True)
        ]
        out[key] = {
            "median": a["median_s"] / plain["median_s"],
            "mean": statistics.median(a["block_means_s"]) / plain_mean,
            "round_lo": min(per_round),
            "round_hi": max(per_round),
        }
    return out


@dataclass
class Check:
    model: str
    what: str
    limit: float | None
    values: dict[str, float]  # statistic -> value
    verdict: str


def target_checks(results: list[ModelResult]) -> list[Check]:
    checks: list[Check] = []
    limits = {
        ("mlp", "gs_every1"): 1.5,
        ("mlp", "gs_every10"): 1.05,
        ("lenet", "gs_every1"): 1.20,
        ("lenet", "gs_every10"): 1.03,
        ("lenet", "gs_detail1"): 1.5,
        ("gru", "gs_every1"): 1.10,
        ("gru", "gs_every10"): 1.02,
        ("gru", "gs_detail1"): 1.25,
        ("transformer", "gs_every1"): 1.05,
        ("transformer", "gs_every10"): 1.01,
        ("transformer", "gs_detail1"): 1.15,
        ("wide", "gs_every1"): 1.5,
        ("wide", "gs_every10"): 1.05,
    }
    for res in results:
        rt = ratios(res)
        for (model, arm), limit in limits.items():
            if res.model != model:
                continue
            if arm not in rt:
                checks.append(Check(model, f"{ARMS[arm]} <= {limit:.2f}x", limit, {}, "n/a"))
                continue
            v = {"median": rt[arm]["median"], "mean": rt[arm]["mean"]}
            ok_median = v["median"] <= limit
            ok_mean = v["mean"] <= limit
            verdict = (
                "PASS"
                if ok_median and ok_mean
                else ("MISS" if not ok_median else "PASS (median) / MISS (mean)")
            )
            checks.append(Check(model, f"{ARMS[arm]} <= {limit:.2f}x", limit, v, verdict))
        if "gs_every1" in rt:
            for peer in ("wandb_1", "tb_hist", "hand_item"):
                if peer not in rt:
                    continue
                v = {
                    "gradscope": rt["gs_every1"]["median"],
                    "peer": rt[peer]["median"],
                    "gradscope(mean)": rt["gs_every1"]["mean"],
                    "peer(mean)": rt[peer]["mean"],
                }
                ok = v["gradscope"] < v["peer"]
                ok_mean = v["gradscope(mean)"] < v["peer(mean)"]
                verdict = (
                    "PASS"
                    if ok and ok_mean
                    else ("MISS" if not ok else "PASS (median) / MISS (mean)")
                )
                checks.append(
                    Check(res.model, f"gradscope every=1 ahead of {ARMS[peer]}", None, v, verdict)
                )
        if "gs_every10" in rt and "wandb_100" in rt:
            v = {
                "gradscope": rt["gs_every10"]["median"],
                "peer": rt["wandb_100"]["median"],
                "gradscope(mean)": rt["gs_every10"]["mean"],
                "peer(mean)": rt["wandb_100"]["mean"],
            }
            checks.append(
                Check(
                    res.model,
                    "every=10 vs wandb log_freq=100 (unequal frequency)",
                    None,
                    v,
                    "report only",
                )
            )
    return checks


def print_results(results: list[ModelResult], attach: str, console: Any) -> None:
    from rich.table import Table

    for res in results:
        rt = ratios(res)
        title = (
            f"{res.model}: {res.describe} — {res.n_elements:,} parameter elements in "
            f"{res.n_tensors} tensors; {res.blocks} rounds x {res.steps_per_block} steps "
            f"(+{res.warmup} warm-up); {res.wall_seconds:.0f}s"
        )
        table = Table(title=title, title_justify="left")
        for col in (
            "arm",
            "median ms",
            "ratio",
            "mean ms",
            "ratio(mean)",
            "rounds",
            "store MB",
            "B/elem/logged step",
            "B/tensor/logged step",
        ):
            table.add_column(col, justify="left" if col == "arm" else "right")
        for key in ARMS:
            if key in res.unavailable:
                table.add_row(ARMS[key], f"unavailable: {res.unavailable[key]}", *[""] * 7)
                continue
            if key not in res.arms:
                continue
            a = res.arms[key]
            r = rt.get(key, {})
            store = per_elem = per_tensor = ""
            if "store_bytes" in a and a.get("logged_steps"):
                store = f"{a['store_bytes'] / 1e6:.2f}"
                per_elem = f"{a['store_bytes'] / (res.n_elements * a['logged_steps']):.4f}"
                per_tensor = f"{a['store_bytes'] / (res.n_tensors * a['logged_steps']):.0f}"
            table.add_row(
                ARMS[key],
                f"{a['median_s'] * 1e3:.2f}",
                f"{r['median']:.3f}" if r else "",
                f"{statistics.median(a['block_means_s']) * 1e3:.2f}",
                f"{r['mean']:.3f}" if r else "",
                f"{r['round_lo']:.2f}–{r['round_hi']:.2f}" if r else "",
                store,
                per_elem,
                per_tensor,
            )
        console.print(table)
        notes = []
        for key in ("gs_every1", "gs_every10"):
            a = res.arms.get(key, {})
            if a.get("failed_instruments"):
                notes.append(f"{ARMS[key]}: instruments switched off: {a['failed_instruments']}")
            if a.get("close_error"):
                notes.append(f"{ARMS[key]}: close failed: {a['close_error']}")
            if a.get("logged_steps"):
                notes.append(
                    f"{ARMS[key]}: {a['logged_steps']} logged steps in {a['files']} store file(s)"
                )
        if res.wrapper_cost_s is not None and "plain" in res.arms:
            frac = res.wrapper_cost_s / res.arms["plain"]["median_s"]
            notes.append(
                f"backward-wrapper cost paid by the other arms while a scope is open: "
                f"{res.wrapper_cost_s * 1e6:.1f} µs per backward = {frac:.2%} of a plain step"
            )
        notes.append(
            f"contention: {res.discarded_blocks} block(s) discarded and redone, "
            f"{res.waited_s:.0f}s waited for quiet; other processes used at most "
            f"{res.foreign_max:.0%} of the CPUs during an accepted block"
        )
        for n in notes:
            console.print(f"  [dim]{n}[/dim]")
        console.print()

    console.print(
        "ratio = median step (arm) / median step (plain), steps of interleaved blocks; "
        "ratio(mean) = median over blocks of the block-mean step, / plain's; rounds = range of "
        "per-round ratios. Store: B/elem = bytes per parameter element per logged step; "
        f"B/tensor = bytes per parameter tensor per logged step. gradscope attach mode: {attach}."
    )
    checks = target_checks(results)
    if checks:
        table = Table(title="Targets", title_justify="left")
        for col in ("model", "target", "measured (ratio; ratio(mean))", "verdict"):
            table.add_column(col)
        for c in checks:
            if "gradscope" in c.values:
                measured = (
                    f"gradscope {c.values['gradscope']:.3f}; {c.values['gradscope(mean)']:.3f} "
                    f"vs peer {c.values['peer']:.3f}; {c.values['peer(mean)']:.3f}"
                )
            elif c.values:
                measured = f"{c.values['median']:.3f}; {c.values['mean']:.3f}"
            else:
                measured = "not run"
            style = {"PASS": "green", "MISS": "red"}.get(c.verdict, "yellow")
            table.add_row(c.model, c.what, measured, f"[{style}]{c.verdict}[/{style}]")
        console.print(table)


def result_json(results: list[ModelResult], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "threads": THREADS,
        "cpus": os.cpu_count(),
        "argv": sys.argv,
        "attach": args.attach,
        "results": [{**r.__dict__, "ratios": ratios(r)} for r in results],
        "targets": [c.__dict__ for c in target_checks(results)],
    }


# -- profiling ----------------------------------------------------------------------------------


def profile_arm(spec: BenchModel, key: str, steps: int, warmup: int, top: int) -> None:
    """Run one arm alone under cProfile and print the top costs (plain run timed alongside)."""
    import cProfile
    import pstats

    with tempfile.TemporaryDirectory(prefix="gs-bench-") as d:
        session = WandbSession(Path(d))
        batches = spec.batches(N_BATCHES)
        base = new_lane(spec, Arm(Path(d)))
        train_steps(base, batches, warmup, None)
        t_plain: list[float] = []
        train_steps(base, batches, steps, t_plain)
        arm = make_arm(key, Path(d), "arm", session)
        lane = new_lane(spec, arm)
        arm.setup(lane.model, lane.opt)
        train_steps(lane, batches, warmup, None)
        prof = cProfile.Profile()
        t_arm: list[float] = []
        prof.enable()
        train_steps(lane, batches, steps, t_arm)
        prof.disable()
        arm.close()
        session.finish()
        print(
            f"{spec.name} {ARMS[key]}: median step {statistics.median(t_arm) * 1e3:.2f} ms under "
            f"cProfile vs plain {statistics.median(t_plain) * 1e3:.2f} ms (no profiler)"
        )
        stats = pstats.Stats(prof)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Step-time overhead of gradscope vs plain training and peer loggers."
    )
    parser.add_argument(
        "--models",
        default="mlp,lenet,gru,transformer,wide",
        help="comma-separated subset of: " + ",".join(MODELS),
    )
    parser.add_argument(
        "--arms", default=",".join(ARMS), help="comma-separated subset of: " + ",".join(ARMS)
    )
    parser.add_argument(
        "--blocks", type=int, default=None, help="interleaved rounds (default per model)"
    )
    parser.add_argument(
        "--steps-per-block",
        type=int,
        default=None,
        help="timed steps per block (default per model)",
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="untimed warm-up steps per arm (default per model)"
    )
    parser.add_argument("--quick", action="store_true", help="short run (~2-3 min)")
    parser.add_argument(
        "--attach",
        choices=("arm", "block"),
        default="arm",
        help="gradscope scope kept for the whole arm (default) or per block",
    )
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds of idle before each block (untimed)"
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.03,
        help="redo a block if other processes used more than this fraction "
        "of the CPUs during one of its blocks (default 0.03)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=3,
        help="retries per block under foreign CPU load (default 3)",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=20.0,
        help="seconds to wait for the machine to go quiet before a block",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep stores/logs in this folder instead of a temp dir",
    )
    parser.add_argument(
        "--profile",
        metavar="ARM",
        default=None,
        help="instead of the benchmark, cProfile ARM alone on each model",
    )
    parser.add_argument("--profile-steps", type=int, default=30)
    args = parser.parse_args(argv)

    torch.set_num_threads(THREADS)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; choose from {', '.join(MODELS)}")
    arm_keys = [a.strip() for a in args.arms.split(",") if a.strip()]
    for a in arm_keys:
        if a not in ARMS:
            parser.error(f"unknown arm {a!r}; choose from {', '.join(ARMS)}")
    if "plain" not in arm_keys:
        arm_keys.insert(0, "plain")

    if args.profile:
        if args.profile not in ARMS:
            parser.error(f"unknown arm {args.profile!r}")
        for m in models:
            profile_arm(
                MODELS[m],
                args.profile,
                args.profile_steps,
                (QUICK if args.quick else DEFAULTS)[m][2],
                30,
            )
        return 0

    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 200)
    meter = CpuMeter()
    console.print(
        f"gradscope overhead benchmark — torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, python "
        f"{sys.version.split()[0]}"
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        tmp_ctx: Any = contextlib.nullcontext(str(args.keep))
    else:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="gs-bench-")
    results: list[ModelResult] = []
    t_all = time.perf_counter()
    with tmp_ctx as tmp_name:
        tmp = Path(tmp_name)
        session = WandbSession(tmp)
        if any(k.startswith("wandb") for k in arm_keys):
            try:  # start wandb before any timing
                session.get()
            except Unavailable as exc:
                console.print(f"wandb arms unavailable: {exc}")
        try:
            for m in models:
                blocks, steps, warmup = (QUICK if args.quick else DEFAULTS)[m]
                blocks = args.blocks or blocks
                steps = args.steps_per_block or steps
                warmup = args.warmup if args.warmup is not None else warmup
                console.print(
                    f"[bold]{m}[/bold]: {blocks} rounds x {steps} steps, warm-up {warmup}"
                )
                res = bench_model(
                    MODELS[m],
                    arm_keys,
                    blocks,
                    steps,
                    warmup,
                    args.attach,
                    session,
                    tmp,
                    args.settle,
                    console.print,
                    meter,
                    args.quiet_threshold,
                    args.retries,
                    args.max_wait,
                )
                results.append(res)
                gc.collect()
        finally:
            session.finish()
        if not args.keep:
            shutil.rmtree(tmp / "wandb", ignore_errors=True)
    console.print(f"total {time.perf_counter() - t_all:.0f}s\n")
    print_results(results, args.attach, console)
    if args.json:
        args.json.write_text(json.dumps(result_json(results, args), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
