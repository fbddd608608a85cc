"""``gradscope run`` on unmodified scripts, compared with plain ``python`` and with gs.watch."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gradscope as gs

SCRIPTS = Path(__file__).parent.parent / "fixtures" / "scripts"
DEMOS = Path(__file__).parent.parent.parent / "demos"
GRADSCOPE_PACKAGE = str(Path(gs.__file__).resolve().parent)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "CI": "true"},
        stdin=subprocess.DEVNULL,
        timeout=1200,
        check=False,
    )


def gs_run(script: Path, *args: str, store: Path, extra: tuple[str, ...] = ()):
    return run(
        sys.executable, "-m", "gradscope", "run", "--store", str(store), *extra, str(script), *args
    )


def test_exit_code_and_output_are_kept(tmp_path: Path) -> None:
    script = SCRIPTS / "exits_3.py"
    plain = run(sys.executable, str(script), "x", "--flag")
    watched = gs_run(script, "x", "--flag", store=tmp_path / "e.gsdb")
    assert plain.returncode == watched.returncode == 3
    assert watched.stdout == plain.stdout == "about to exit ['x', '--flag']\n"
    assert "2 steps recorded" in watched.stderr
    with gs.open_store(tmp_path / "e.gsdb") as store:
        assert store.steps == [0, 1]


@pytest.mark.parametrize("form", ["split", "equals"])
def test_a_gsdb_store_written_after_the_script_is_gradscopes(tmp_path: Path, form: str) -> None:
    script = SCRIPTS / "exits_3.py"
    store = tmp_path / "after.gsdb"
    option = ["--store", str(store)] if form == "split" else [f"--store={store}"]
    watched = run(
        sys.executable, "-m", "gradscope", "run", str(script), "x", *option, "--flag", cwd=tmp_path
    )
    assert watched.returncode == 3
    assert watched.stdout == "about to exit ['x', '--flag']\n"
    assert not (tmp_path / "runs").exists()
    with gs.open_store(store) as run_store:
        assert run_store.steps == [0, 1]


def test_script_options_that_are_not_a_store_path_stay_the_scripts(tmp_path: Path) -> None:
    watched = run(
        sys.executable,
        "-m",
        "gradscope",
        "run",
        str(SCRIPTS / "exits_3.py"),
        "--store",
        "db.sqlite",
        cwd=tmp_path,
    )
    assert watched.stdout == "about to exit ['--store', 'db.sqlite']\n"
    assert len(list((tmp_path / "runs").glob("*.gsdb"))) == 1


def test_script_exception_shows_traceback_exit_1_and_store_readable(tmp_path: Path) -> None:
    script = SCRIPTS / "raises.py"
    plain = run(sys.executable, str(script))
    watched = gs_run(script, store=tmp_path / "r.gsdb")
    assert plain.returncode == watched.returncode == 1
    assert watched.stdout == plain.stdout
    tb = watched.stderr.split("gradscope:")[0]
    assert tb.startswith("Traceback (most recent call last):")
    assert 'raises.py", line 17, in <module>' in tb
    assert tb.strip().endswith("ValueError: validation set is empty")
    frames = re.findall(r'^  File "([^"]+)"', tb, flags=re.MULTILINE)
    assert frames and all(Path(f).resolve() == script.resolve() for f in frames), frames
    assert "runpy" not in tb and GRADSCOPE_PACKAGE not in tb
    assert tb.strip().splitlines()[-4:] == plain.stderr.strip().splitlines()[-4:]
    with gs.open_store(tmp_path / "r.gsdb") as store:
        assert store.steps == [0, 1, 2]


def test_gan_records_both_models_and_optimizers(tmp_path: Path) -> None:
    result = gs_run(SCRIPTS / "gan.py", store=tmp_path / "gan.gsdb", extra=("--detail-every", "1"))
    assert result.returncode == 0, result.stderr
    with gs.open_store(tmp_path / "gan.gsdb") as store:
        assert [o.type for o in store.optimizers] == ["Adam", "Adam"]
        assert "main.0.weight" in store.params
        assert "netG.main.0.weight" in store.params
        assert store.steps == list(range(12))
        for name in ("main.0.weight", "netG.main.0.weight"):
            steps, norms = store.series("grad_norm", name)
            assert steps == list(range(12)) and all(n > 0 for n in norms)
            assert store.series("state.step.value", name)[1] == [float(i + 1) for i in range(12)]


def test_manual_updates_without_optimizer(tmp_path: Path) -> None:
    result = gs_run(SCRIPTS / "manual_linreg.py", store=tmp_path / "m.gsdb")
    assert result.returncode == 0, result.stderr
    assert result.stdout == run(sys.executable, str(SCRIPTS / "manual_linreg.py")).stdout
    with gs.open_store(tmp_path / "m.gsdb") as store:
        assert sorted(store.params) == ["b", "w"]
        assert store.steps == list(range(25))
        _, losses = store.series("loss")
        assert losses[-1] < 0.1 * losses[0]
        _, weights = store.series("weight_mean", "w")
        assert weights[0] != weights[-1]


@pytest.mark.parametrize("workers", [0, 2])
def test_recorded_run_equals_gs_watch(tmp_path: Path, workers: int) -> None:
    script = SCRIPTS / "same_as_watch.py"
    own = run(sys.executable, str(script), "--watch", str(tmp_path / "own.gsdb"),
              "--workers", str(workers))  # fmt: skip
    assert own.returncode == 0, own.stderr
    auto = gs_run(script, "--workers", str(workers), store=tmp_path / "auto.gsdb")
    assert auto.returncode == 0, auto.stderr
    assert auto.stdout == own.stdout
    with gs.open_store(tmp_path / "own.gsdb") as a, gs.open_store(tmp_path / "auto.gsdb") as b:
        assert a.params == b.params == ["0.weight", "0.bias", "3.weight", "3.bias"]
        assert a.steps == b.steps == list(range(16))
        assert a.series("loss") == b.series("loss")
        for name in a.params:
            assert a.series("grad_norm", name) == b.series("grad_norm", name)
            assert a.series("update_norm", name) == b.series("update_norm", name)


def test_python_dash_m_works_and_missing_script_is_one_line(tmp_path: Path) -> None:
    result = run(sys.executable, "-m", "gradscope", "run", str(tmp_path / "nope.py"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no script at" in result.stderr


@pytest.mark.skipif(not (DEMOS / "mlp.py").exists(), reason="demos not present")
def test_demo_script_runs_under_gradscope_run(tmp_path: Path) -> None:
    result = gs_run(DEMOS / "mlp.py", "--steps", "5", "--store", str(tmp_path / "inner.gsdb"),
                    store=tmp_path / "outer.gsdb")  # fmt: skip
    assert result.returncode == 0, result.stderr
    with gs.open_store(tmp_path / "inner.gsdb") as inner:
        assert inner.steps == list(range(5))


def test_torchrun_records_one_file_per_rank(tmp_path: Path) -> None:
    result = run(
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_port=29561", "-m", "gradscope", "run", "--store", str(tmp_path / "ddp.gsdb"),
        str(SCRIPTS / "ddp_train.py"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The two ranks share one stdout pipe, so their lines may interleave.
    done = sorted(re.findall(r"rank \d of 2 done", result.stdout))
    assert done == ["rank 0 of 2 done", "rank 1 of 2 done"]
    stores = [gs.open_store(tmp_path / f"ddp.rank{r}.gsdb") for r in (0, 1)]
    try:
        assert [s.meta["rank"] for s in stores] == [0, 1]
        assert stores[0].params == stores[1].params == ["0.weight", "0.bias", "2.weight", "2.bias"]
        assert [s.steps for s in stores] == [list(range(8))] * 2
        # gradients are all-reduced, so both ranks record the same norms; losses differ by data
        assert stores[0].series("grad_norm", "0.weight") == stores[1].series(
            "grad_norm", "0.weight"
        )
        assert stores[0].series("loss") != stores[1].series("loss")
    finally:
        for s in stores:
            s.close()


SKIPPING_SCALER = """
import torch
from torch import nn

torch.manual_seed(6)
x = torch.randn(512, 16)
y = (x[:, :4].sum(1) > 0).long()
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=4)
for step in range(24):
    idx = torch.randint(0, 512, (64,))
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
    opt.zero_grad()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
"""


def test_the_exit_summary_is_the_doctors_verdict_on_the_whole_run(tmp_path: Path) -> None:
    """Live alerts are found on part of the run (a GradScaler's first skip); the summary at
    exit judges the closed store, so it says what `gradscope doctor` says."""
    script = tmp_path / "scaler.py"
    script.write_text(SKIPPING_SCALER)
    store = tmp_path / "scaler.gsdb"
    done = gs_run(script, store=store)
    assert done.returncode == 0, done.stderr
    verdict = run(sys.executable, "-m", "gradscope", "doctor", str(store), "--json")
    alerts = json.loads(verdict.stdout)
    (skips,) = [a for a in alerts if a["code"] == "nonfinite-grad"]
    assert re.search(r"skipped [2-9]\d* optimizer steps", skips["message"]), (
        skips
    )  # not only the first
    summary = [line for line in done.stderr.splitlines() if line.startswith("gradscope: ")]
    for a in alerts:
        where = f" (step {a['step']})" if a["step"] is not None else ""
        line = f"gradscope: {a['severity']}: {a['code']} at {a['where']}{where}: {a['message']}"
        assert line in summary, summary
