"""TensorBoard event files, read back with TensorBoard's own event reader."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from export_helpers import HIST_EVERY, STEPS, same

import gradscope as gs
from gradscope.export import to_tensorboard
from gradscope.export.tensorboard import bucket_limits
from gradscope.records import MODULE_METRICS, PARAM_METRICS

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(logdir: Path) -> event_accumulator.EventAccumulator:
    """Everything in the log folder: no reservoir sampling (size 0 keeps all)."""
    acc = event_accumulator.EventAccumulator(
        str(logdir), size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0}
    )
    acc.Reload()
    return acc


def f32(values: list[float]) -> list[float]:
    """TensorBoard stores scalars as float32."""
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]


def test_scalars_equal_the_store_at_float32(store: Path, tmp_path: Path) -> None:
    run = gs.open_store(store)
    acc = read(to_tensorboard(run, tmp_path / "tb"))
    tags = set(acc.Tags()["scalars"])
    states = sorted(run.state("fc1.weight"))
    expected = {"loss", "duration", "lr/group0", "lr/group1", "acc"}
    expected |= {f"{m}/{p}" for m in (*PARAM_METRICS, *states) for p in run.params}
    expected |= {f"{m}/{p or '(root)'}" for m in MODULE_METRICS for p in ("", "fc1", "act", "fc2")}
    assert tags == expected
    for metric, tag in [("loss", "loss"), ("duration", "duration"), ("lr", "lr/group0"),
                        ("lr.1", "lr/group1"), ("acc", "acc")]:  # fmt: skip
        steps, values = run.series(metric)
        events = acc.Scalars(tag)
        assert [e.step for e in events] == steps
        assert [e.value for e in events] == f32(values), tag
    for param in run.params:
        for metric in (*PARAM_METRICS, *states):
            steps, values = run.series(metric, param)
            events = acc.Scalars(f"{metric}/{param}")
            assert [e.step for e in events] == steps
            assert [e.value for e in events] == f32(values), (metric, param)
    for path in ("", "fc1", "act", "fc2"):
        for metric in MODULE_METRICS:
            steps, values = run.series(metric, module=path)
            events = acc.Scalars(f"{metric}/{path or '(root)'}")
            assert ([e.step for e in events], [e.value for e in events]) == (steps, f32(values))


def test_wall_times_are_the_recorded_ones(store: Path, tmp_path: Path) -> None:
    run = gs.open_store(store)
    acc = read(to_tensorboard(run, tmp_path / "tb"))
    walls = [row.wall_time for row in run.step_rows()]
    assert [e.wall_time for e in acc.Scalars("loss")] == walls
    assert [e.wall_time for e in acc.Scalars("grad_norm/fc2.weight")] == walls


def test_histograms_hold_the_stored_bins(store: Path, tmp_path: Path) -> None:
    run = gs.open_store(store)
    acc = read(to_tensorboard(run, tmp_path / "tb"))
    hist_steps = list(range(0, STEPS, HIST_EVERY))
    assert sorted(acc.Tags()["histograms"]) == sorted(
        f"{kind}_hist/{p}" for kind in ("grad", "weight") for p in run.params
    )
    for param in run.params:
        for kind in ("grad", "weight"):
            events = acc.Histograms(f"{kind}_hist/{param}")
            assert [e.step for e in events] == hist_steps
            for e in events:
                stored = run.histogram(param, kind, step=e.step)
                assert stored is not None and stored.step == e.step
                h = e.histogram_value
                assert h.bucket == [float(c) for c in stored.counts]
                assert (h.min, h.max, h.num) == (stored.lo, stored.hi, sum(stored.counts))
                assert h.bucket_limit == bucket_limits(stored.lo, stored.hi, len(stored.counts))
                assert h.bucket_limit[-1] == stored.hi


def test_log_scale_histograms_get_their_own_tag(log_store: Path, tmp_path: Path) -> None:
    run = gs.open_store(log_store)
    acc = read(to_tensorboard(run, tmp_path / "tb"))
    assert "grad_hist_log10/fc1.weight" in acc.Tags()["histograms"]
    (first, *_) = acc.Histograms("grad_hist_log10/fc1.weight")
    stored = run.histogram("fc1.weight", "grad", step=0)
    assert stored is not None and stored.scale == "log"
    assert first.histogram_value.bucket == [float(c) for c in stored.counts]
    assert first.histogram_value.min == stored.lo < 0  # log10 of gradients below 1


def test_bucket_limits_end_at_hi() -> None:
    assert bucket_limits(-1.0, 3.0, 4) == [0.0, 1.0, 2.0, 3.0]


def test_nan_values_are_written_as_nan(nan_store: Path, tmp_path: Path) -> None:
    acc = read(to_tensorboard(nan_store, tmp_path / "tb"))
    (loss,) = acc.Scalars("loss")
    (norm,) = acc.Scalars("grad_norm/weight")
    (count,) = acc.Scalars("grad_nan/weight")
    assert same(loss.value, float("nan")) and same(norm.value, float("nan"))
    assert count.value == 12.0
    (hist,) = acc.Histograms("grad_hist/weight")
    assert hist.histogram_value.num == 0  # NaN never goes into bins: grad_nan counts it


def test_several_stores_write_one_folder_per_rank(store: Path, tmp_path: Path) -> None:
    run = gs.open_store(store)
    out = to_tensorboard([store, store], tmp_path / "tb")
    assert out == tmp_path / "tb" / "mlp"
    assert sorted(p.name for p in out.iterdir()) == ["rank0", "rank1"]
    for rank in ("rank0", "rank1"):
        events = read(out / rank).Scalars("grad_norm/fc1.weight")
        assert [e.value for e in events] == f32(run.series("grad_norm", "fc1.weight")[1])


def test_export_with_force_replaces_the_event_file(store: Path, tmp_path: Path) -> None:
    to_tensorboard(store, tmp_path / "tb")
    run_folder = to_tensorboard(store, tmp_path / "tb", metrics=["grad_norm"], force=True)
    assert run_folder == tmp_path / "tb" / "mlp"
    files = list(run_folder.glob("events.out.tfevents.*"))
    assert len(files) == 1
    acc = read(run_folder)
    assert len(acc.Scalars("grad_norm/fc1.weight")) == STEPS
    assert "grad_mean/fc1.weight" not in acc.Tags()["scalars"]
    assert acc.Tags()["histograms"] == []


def test_progress_reaches_the_total(store: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    to_tensorboard(store, tmp_path / "tb", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (STEPS, STEPS)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_missing_tensorboard_names_the_extra(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m.startswith("tensorboard")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(gs.GradscopeError) as info:
        to_tensorboard(store, tmp_path / "tb")
    assert str(info.value) == (
        'TensorBoard export needs the tensorboard package: pip install "gradscope[tensorboard]"'
    )
    assert not (tmp_path / "tb").exists()


def test_run_without_steps_gives_an_empty_log(tmp_path: Path) -> None:
    from torch import nn

    with gs.watch(nn.Linear(2, 1), store=tmp_path / "empty.gsdb"):
        pass
    acc = read(to_tensorboard(tmp_path / "empty.gsdb", tmp_path / "tb"))
    assert acc.Tags()["scalars"] == [] and acc.Tags()["histograms"] == []
