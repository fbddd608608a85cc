"""The dashboard's data layer without a terminal: bulk reads, sampling, tree rows, health."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from tui_fixtures import FIXED_STEPS, builder

import gradscope as gs
from gradscope.doctor.thresholds import Thresholds
from gradscope.errors import GradscopeError
from gradscope.records import PARAM_METRICS
from gradscope.tui.viewmodel import health
from gradscope.tui.viewmodel.data import StoreData, newest_store, open_data
from gradscope.tui.viewmodel.rows import TreeModel, module_totals
from gradscope.tui.viewmodel.sampling import BinnedSeries, SampleGrid

# -- reader methods against the per-parameter reads they stand in for -------------------------


def test_latest_rows_are_each_parameters_last_row(trained_store: Path) -> None:
    with gs.open_store(trained_store) as run:
        rows = run.latest_rows()
        assert list(rows) == run.params
        for name in run.params:
            assert rows[name]["step"] == run.param_row_at(name).step
            detail, weights = run.series("weight_norm", name)
            # weights are measured on detail steps: the last one's value, and its step
            assert rows[name]["weight_norm"] == weights[-1]
            assert rows[name]["detail_step"] == detail[-1] <= rows[name]["step"]
        assert rows["head.weight"]["detail_step"] < rows["head.weight"]["step"]
        assert rows["unused.weight"]["grad_norm"] is None
        assert rows["head.weight"]["grad_norm"] == run.latest("head.weight")["grad_norm"]


def test_param_rows_at_picks_exactly_the_asked_steps(trained_store: Path) -> None:
    with gs.open_store(trained_store) as run:
        got = run.param_rows_at([0, 7, 29, 999], ("grad_norm", "weight_norm"))
        _, grads = run.series("grad_norm", "head.bias")
        weights = dict(zip(*run.series("weight_norm", "head.bias"), strict=True))
        assert 0 in weights and 7 not in weights and 29 not in weights  # detail steps only
        assert got["head.bias"] == [(s, grads[s], weights.get(s)) for s in (0, 7, 29)]
        assert run.param_rows_at([]) == {p: [] for p in run.params}
        with pytest.raises(GradscopeError, match="unknown per-parameter metric"):
            run.param_rows_at([0], ("grad_norm; DROP TABLE params",))


def test_binned_rows_keep_each_buckets_maximum(trained_store: Path) -> None:
    with gs.open_store(trained_store) as run:
        steps, values = run.series("grad_norm", "encoder.0.weight")
        binned = run.binned_rows("encoder.0.weight", ("grad_norm",), bucket=8)
        buckets: dict[int, list[tuple[int, float]]] = {}
        for s, v in zip(steps, values, strict=True):
            buckets.setdefault(s // 8, []).append((s, v))
        expected = [(max(p[0] for p in b), max(p[1] for p in b)) for b in buckets.values()]
        assert binned == expected
        assert (
            run.binned_rows("encoder.0.weight", ("grad_norm",), bucket=8, since=23)
            == (expected[3:])
        )


def test_state_groups_and_steps_at_a_step(trained_store: Path) -> None:
    with gs.open_store(trained_store) as run:
        assert run.state("head.weight", 12) == {}  # not a detail step: carried from step 10
        assert run.state_at("head.weight", 12) == run.state("head.weight", 10) != {}
        assert run.state_at("head.weight") == run.state("head.weight")
        assert run.state_at("unused.weight") == {}
        assert run.groups_at(0, 12)[0].lr == run.groups(0, 12)[0].lr == 5e-3
        assert run.group_indices(0) == [0]
        assert run.param_step("head.weight", 10, -1) == 9
        assert run.param_step("head.weight", 10, 5) == 15
        assert run.param_step("head.weight", 29, 1) is None
        assert run.param_step_range("head.weight") == (0, 29)
        assert run.param_row_at("head.weight", 4).step == 4
        lrs = run.lr_binned(0, bucket=10)[0]
        assert lrs == [(9, 1e-2), (19, 5e-3), (29, 2.5e-3)]


def test_alerts_since_returns_only_newer_rows(fixed_store: Path) -> None:
    with gs.open_store(fixed_store) as run:
        every = run.alerts_since(0)
        assert [a.code for _, a in every] == [a.code for a in run.alerts]
        assert run.alerts_since(every[0][0]) == every[1:]


# -- sampling -------------------------------------------------------------------------------


def test_sample_grid_doubles_its_stride_and_keeps_old_points() -> None:
    grid = SampleGrid(every=2, points=4)
    assert grid.advance(5) == ([0, 2, 4], False)
    new, grew = grid.advance(9)
    assert (new, grew, grid.stride) == ([8], True, 4)
    assert [s for s in (0, 2, 4) if grid.keep(s)] == [0, 4]
    assert grid.advance(9) == ([], False)


def test_binned_series_merges_partial_buckets() -> None:
    series = BinnedSeries(bins=4, bucket=1)
    series.fit(3)
    series.merge([(0, 1.0), (1, 5.0), (2, 2.0), (3, None)])
    assert series.since == 2
    series.fit(6)
    assert series.bucket == 2
    assert series.rows == [(1, 5.0), (3, 2.0)]
    series.merge([(3, 2.0), (5, 7.0), (6, 1.0)])
    assert series.column(0) == ([1, 3, 5, 6], [5.0, 2.0, 7.0, 1.0])


# -- following ------------------------------------------------------------------------------


def test_poll_reads_only_new_steps(tmp_path: Path, fixed_store: Path) -> None:
    path = tmp_path / "grow.gsdb"
    builder.write_store(path, layers=2, steps=100, finished=False)
    with builder.live_writer(path):
        _follow_new_steps(path)


def _follow_new_steps(path: Path) -> None:
    data = open_data(path)
    assert data.last_step == 99 and not data.finished
    assert data.poll() is None
    before = {p: list(v) for p, v in data.spark.items()}
    builder.append_steps(path, 100, 5, layers=2, steps=100)
    update = data.poll()
    assert update is not None and update.steps and not update.structure
    assert data.last_step == 104
    assert data.latest["layers.0.fc.bias"]["step"] == 104
    for name, points in data.spark.items():
        assert points[: len(before[name])] == before[name]
    assert data.last_row is not None and data.last_row.step == 104
    with sqlite3.connect(path) as conn:
        conn.execute(
            'INSERT INTO alerts (code, severity, "where", step, message, details)'
            " VALUES ('loss-stalled', 'warning', 'model', 104, 'm', '{}')"
        )
    update = data.poll()
    assert update is not None and update.alerts and not update.steps
    assert data.alert_counts() == {"error": 0, "warning": 1, "info": 0}


def test_sparklines_stay_short_on_long_runs(fixed_store: Path) -> None:
    data = StoreData(gs.open_store(fixed_store), points=16)
    assert data.grid.stride == 16
    assert len(data.spark["layers.0.fc.bias"]) == 13
    assert len(data.spark_values("layers.0.fc.bias")) == 14  # the latest step appended
    assert data.header_series("lr")[-1] == builder.lr_at(FIXED_STEPS - 1, FIXED_STEPS)


def test_newest_store_and_errors(tmp_path: Path, fixed_store: Path) -> None:
    with pytest.raises(GradscopeError, match=r"no \*\.gsdb under"):
        newest_store(tmp_path / "runs")
    (tmp_path / "runs" / "a").mkdir(parents=True)
    shutil.copy(fixed_store, tmp_path / "runs" / "a" / "x.gsdb")
    assert newest_store(tmp_path / "runs").name == "x.gsdb"
    with pytest.raises(GradscopeError, match="does not exist"):
        open_data(tmp_path / "missing.gsdb")


# -- tree rows, module totals, health -------------------------------------------------------


def test_tree_rows_fold_sort_and_search(fixed_store: Path) -> None:
    data = open_data(fixed_store)
    tree = TreeModel(data.modules, data.param_info)
    top = [r.name for r in tree.rows({}) if r.depth == 0]
    assert top == ["layers", "embed", "head", "unused"]
    tree.folded.add("layers")
    assert [r.name for r in tree.rows({})][:2] == ["layers", "embed"]
    assert tree.rows({})[0].folded
    tree.folded.clear()
    tree.sort_key = "grad_norm"
    values = {f"m:{p}": v for p, v in module_totals(tree, data.latest).items()}
    assert next(r.name for r in tree.rows(values) if r.depth == 0) == "head"
    hits = [r.name for r in tree.rows(values, "norm.bias")]
    assert hits == [
        "layers",
        "layers.0",
        "layers.0.norm",
        "layers.0.norm.bias",
        "layers.1",
        "layers.1.norm",
        "layers.1.norm.bias",
    ]
    tree.folded.add("layers.1")
    tree.unfold_to("p:layers.1.fc.weight")
    assert "layers.1" not in tree.folded


def test_module_totals_are_l2_norms(fixed_store: Path) -> None:
    data = open_data(fixed_store)
    tree = TreeModel(data.modules, data.param_info)
    totals = module_totals(tree, data.latest)
    w, b = (data.latest[f"head.{k}"]["grad_norm"] for k in ("weight", "bias"))
    assert totals["head"]["grad_norm"] == pytest.approx((w * w + b * b) ** 0.5)
    assert totals["layers.0.act"] == {"grad_norm": None, "weight_norm": None, "update_ratio": None}


def test_health_words(fixed_store: Path) -> None:
    data = open_data(fixed_store)
    got = {name: data.health(name) for name in data.params}
    assert got["layers.0.fc.weight"] == health.VANISHING
    assert got["head.weight"] == health.EXPLODING
    assert got["layers.1.norm.bias"] == health.NONFINITE
    assert got["embed.weight"] == health.FROZEN
    assert got["unused.weight"] == health.NO_GRAD
    assert got["head.bias"] == health.OK
    assert health.worst([health.OK, health.FROZEN]) == health.OK
    assert health.worst([health.FROZEN]) == health.FROZEN
    assert set(PARAM_METRICS) >= {"grad_norm", "grad_nan"}


def test_exploding_is_the_doctors_bound() -> None:
    """A parameter is drawn as exploding exactly when the doctor's bound calls its norm so."""
    bound = Thresholds().explode_bound
    word = {
        norm: health.param_health({"grad_norm": norm}, requires_grad=True)
        for norm in (bound * 0.99, bound, bound * 10)
    }
    assert word == {bound * 0.99: health.OK, bound: health.EXPLODING, bound * 10: health.EXPLODING}
    lower = Thresholds(explode_bound=10.0)
    assert [lower.is_exploding(v) for v in (9.9, 10.0, float("inf"), float("nan"), None)] == [
        False,
        True,
        False,  # non-finite norms are the NaN/Inf diagnosis, not this one
        False,
        False,
    ]


def test_locate_resolves_alert_places(fixed_store: Path) -> None:
    data = open_data(fixed_store)
    assert data.locate("head.weight") == ("param", "head.weight")
    assert data.locate("unused") == ("module", "unused")
    assert data.locate("layers.0.fc.weight, head.weight") == ("param", "layers.0.fc.weight")
    assert data.locate("layers.1.norm.running_mean") == ("module", "layers.1.norm")
    assert data.locate("loss") is None


def test_sample_grid_follows_every_and_accepts_an_open_run(tmp_path: Path) -> None:
    path = builder.write_store(tmp_path / "every.gsdb", layers=1, steps=400, every=4)
    run = gs.open_store(path)
    data = open_data(run)
    assert data.run is run and data.every == 4 and data.grid.stride % 4 == 0
    points = data.spark["layers.0.fc.bias"]
    assert len(points) >= 20 and all(s % 4 == 0 and v is not None for s, v in points)
