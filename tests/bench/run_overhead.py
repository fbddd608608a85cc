"""``gradscope run SCRIPT`` against ``gs.watch`` in the script, and against plain training.

Run by hand (pytest does not collect this file)::

    python tests/bench/run_overhead.py                       # lenet and transformer, 3 rounds
    python tests/bench/run_overhead.py --models gru --rounds 5 --steps 80

Discovery (``gradscope run``) watches what it finds with the same hooks ``gs.watch`` uses, so
the two must cost the same per step. Each *arm* is one process running the same training
script (Adam, the overhead benchmark's models and batches, 2 threads):

* ``plain``: ``python train.py``;
* ``watch``: ``python train.py --watch`` (``gs.watch(model, opt)`` around the loop);
* ``run``:   ``gradscope run train.py`` (the script unmodified, discovery attaches).

The script times every step after a warm-up and reports the median. Rounds run the arms in a
rotated order (plain watch run, watch run plain, …) so drifts of the machine hit all alike;
the table gives the median over rounds of each arm's median step and the ratios to plain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, statistics, sys, time
import torch
sys.path.insert(0, {here!r})
from models import MODELS

torch.set_num_threads(2)
spec = MODELS[{model!r}]
model = spec.model(seed=0)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
batches = spec.batches(16)
watch = "--watch" in sys.argv
if watch:
    import gradscope as gs
    scope = gs.watch(model, opt, store={store!r})
times = []
for i in range({warmup} + {steps}):
    x, y = batches[i % len(batches)]
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    if i >= {warmup}:
        times.append(time.perf_counter() - t0)
if watch:
    scope.close()
with open({out!r}, "w") as f:
    json.dump({{"median": statistics.median(times), "mean": statistics.fmean(times)}}, f)
"""

ARMS = ("plain", "watch", "run")


def run_arm(arm: str, model: str, tmp: Path, steps: int, warmup: int, i: int) -> float:
    out = tmp / f"{model}-{arm}-{i}.json"
    store = tmp / f"{model}-{arm}-{i}.gsdb"
    script = tmp / f"train_{model}.py"
    script.write_text(
        SCRIPT.format(
            here=str(HERE), model=model, store=str(store), out=str(out), steps=steps, warmup=warmup
        )
    )
    if arm == "plain":
        cmd = [sys.executable, str(script)]
    elif arm == "watch":
        cmd = [sys.executable, str(script), "--watch"]
    else:
        cmd = [sys.executable, "-m", "gradscope", "run", "-q", "--store", str(store), str(script)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["median"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="lenet,transformer")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for model in args.models.split(","):
            medians: dict[str, list[float]] = {a: [] for a in ARMS}
            for r in range(args.rounds):
                order = ARMS[r % 3 :] + ARMS[: r % 3]
                for arm in order:
                    medians[arm].append(run_arm(arm, model, tmp, args.steps, args.warmup, r))
            typical = {a: statistics.median(v) for a, v in medians.items()}
            rows.append((model, typical, medians))
    print(f"{'model':12} {'plain ms':>9} {'watch ms':>9} {'run ms':>9} "
          f"{'watch/plain':>12} {'run/plain':>10} {'run/watch':>10}")  # fmt: skip
    for model, t, medians in rows:
        print(
            f"{model:12} {t['plain'] * 1e3:9.2f} {t['watch'] * 1e3:9.2f} {t['run'] * 1e3:9.2f} "
            f"{t['watch'] / t['plain']:12.3f} {t['run'] / t['plain']:10.3f} "
            f"{t['run'] / t['watch']:10.3f}"
        )
        spread = {a: f"{min(v) * 1e3:.2f}-{max(v) * 1e3:.2f}" for a, v in medians.items()}
        print(f"{'':12} per-round medians (ms): {spread}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
