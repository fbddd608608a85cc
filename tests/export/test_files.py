"""CSV and Parquet round-trip: every value of the store comes back from the files."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from export_helpers import STEPS, execute, same

import gradscope as gs
from gradscope.export import to_csv, to_parquet
from gradscope.records import MODULE_METRICS, PARAM_METRICS

pq = pytest.importorskip("pyarrow.parquet")

INT_COLUMNS = {"step", "rank", "n_backward", "calls"}
BOOL_COLUMNS = {"logged", "training"}


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Rows as a pandas user gets them: empty → None, numbers → float, booleans → bool."""

    def parse(key: str, text: str) -> Any:
        if key in ("param", "module"):
            return text
        if text == "":
            return None
        if key in BOOL_COLUMNS:
            return {"True": True, "False": False}[text]
        return int(text) if key in INT_COLUMNS else float(text)

    with path.open(newline="") as f:
        return [{k: parse(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def read_parquet(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


READERS = {"csv": (to_csv, read_csv), "parquet": (to_parquet, read_parquet)}


def tables(run: gs.Run | Path, fmt: str, out: Path, **kwargs: Any) -> dict[str, list[dict]]:
    write, read = READERS[fmt]
    folder = write(run, out, **kwargs)
    assert folder == out
    return {name: read(out / f"{name}.{fmt}") for name in ("params", "steps", "modules")}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_param_rows_round_trip_every_metric_and_state(
    store: Path, tmp_path: Path, fmt: str
) -> None:
    run = gs.open_store(store)
    rows = tables(run, fmt, tmp_path / fmt)["params"]
    assert len(rows) == STEPS * len(run.params)
    assert [(r["step"], r["param"]) for r in rows] == [
        (s, p) for s in range(STEPS) for p in run.params
    ]
    states = sorted(k for k in rows[0] if k.startswith("state."))
    assert "state.exp_avg.norm" in states and "state.step.value" in states
    assert list(rows[0]) == ["step", "param", *PARAM_METRICS, *states]
    for param in run.params:
        mine = [r for r in rows if r["param"] == param]
        for metric in (*PARAM_METRICS, *states):
            steps, values = run.series(metric, param)
            got = [(r["step"], r[metric]) for r in mine if r[metric] is not None]
            assert got == list(zip(steps, values, strict=True)), (param, metric)
        assert run.state(param, step=4) == {k: r[k] for r in mine if r["step"] == 4 for k in states}
    assert {r["grad_norm_preclip"] is None for r in rows} == {False}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_step_rows_hold_loss_lrs_times_and_logged_scalars(
    store: Path, tmp_path: Path, fmt: str
) -> None:
    run = gs.open_store(store)
    rows = tables(run, fmt, tmp_path / fmt)["steps"]
    assert list(rows[0]) == [
        "step", "wall_time", "duration", "loss", "n_backward", "logged", "lr", "lr.1", "acc",
    ]  # fmt: skip
    for column in ("loss", "duration", "lr", "lr.1", "acc"):
        steps, values = run.series(column)
        assert [(r["step"], r[column]) for r in rows] == list(zip(steps, values, strict=True))
    assert [(r["lr"], r["lr.1"]) for r in rows] == [(0.001, 0.01)] * STEPS
    expected = run.step_rows()
    assert [r["wall_time"] for r in rows] == [s.wall_time for s in expected]
    assert [(r["n_backward"], r["logged"]) for r in rows] == [(1, True)] * STEPS


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_module_rows_round_trip(store: Path, tmp_path: Path, fmt: str) -> None:
    run = gs.open_store(store)
    rows = tables(run, fmt, tmp_path / fmt)["modules"]
    assert list(rows[0]) == ["step", "module", "calls", "training", *MODULE_METRICS]
    paths = [m.path for m in run.modules]
    assert [r["module"] for r in rows[: len(paths)]] == ["", "fc1", "act", "fc2"]
    for path in paths:
        mine = [r for r in rows if r["module"] == path]
        assert {(r["calls"], r["training"]) for r in mine} == {(1, True)}
        for metric in MODULE_METRICS:
            steps, values = run.series(metric, module=path)
            got = [(r["step"], r[metric]) for r in mine if r[metric] is not None]
            assert got == list(zip(steps, values, strict=True)), (path, metric)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_nan_stays_nan_and_absent_stays_empty(nan_store: Path, tmp_path: Path, fmt: str) -> None:
    run = gs.open_store(nan_store)
    out = tables(run, fmt, tmp_path / fmt)
    weight = next(r for r in out["params"] if r["param"] == "weight")
    assert math.isnan(weight["grad_norm"]) and math.isnan(weight["grad_mean"])
    assert weight["grad_nan"] == 12.0 and weight["grad_inf"] == 0.0
    assert math.isnan(weight["state.momentum_buffer.norm"])
    assert weight["update_ratio"] is None or math.isnan(weight["update_ratio"])
    assert math.isnan(out["steps"][0]["loss"])
    for metric in PARAM_METRICS:
        _, values = run.series(metric, "weight")
        got = [weight[metric]] if weight[metric] is not None else []
        assert len(got) == len(values) and all(map(same, got, values)), metric


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_tells_nan_from_absent(
    nan_store: Path, store_copy: Path, tmp_path: Path, fmt: str
) -> None:
    execute(store_copy, "UPDATE param_stats SET update_norm = NULL WHERE step = 3")
    rows = tables(store_copy, fmt, tmp_path / fmt)["params"]
    assert [r["update_norm"] is None for r in rows if r["step"] == 3] == [True] * 4
    if fmt == "csv":
        text = (tmp_path / "csv" / "params.csv").read_text()
        assert ",nan," not in text
        to_csv(nan_store, tmp_path / "nan")
        assert ",nan," in (tmp_path / "nan" / "params.csv").read_text()


def test_parquet_types_and_metadata(store: Path, tmp_path: Path) -> None:
    to_parquet(store, tmp_path / "pq")
    table = pq.read_table(tmp_path / "pq" / "params.parquet")
    types = {f.name: str(f.type) for f in table.schema}
    assert types["step"] == "int64" and types["param"] == "string"
    assert {types[m] for m in PARAM_METRICS} == {"double"}
    steps = pq.read_table(tmp_path / "pq" / "steps.parquet").schema
    assert str(steps.field("logged").type) == "bool"
    assert b"gradscope" in table.schema.metadata
    assert b"mlp.gsdb" in table.schema.metadata[b"gradscope"]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_several_stores_get_a_rank_column(store: Path, tmp_path: Path, fmt: str) -> None:
    """Single-process stores all say rank 0, so their place in the list tells them apart."""
    run = gs.open_store(store)
    rows = tables([store, store], fmt, tmp_path / fmt)
    assert list(rows["params"][0])[:3] == ["step", "rank", "param"]
    n = STEPS * len(run.params)
    assert [r["rank"] for r in rows["params"]] == [0] * n + [1] * n
    assert [r["rank"] for r in rows["steps"]] == [0] * STEPS + [1] * STEPS
    first = [{k: v for k, v in r.items() if k != "rank"} for r in rows["params"][:n]]
    second = [{k: v for k, v in r.items() if k != "rank"} for r in rows["params"][n:]]
    assert first == second


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_distributed_store_keeps_its_recorded_rank(
    store_copy: Path, tmp_path: Path, fmt: str
) -> None:
    execute(store_copy, "UPDATE meta SET value = '3' WHERE key = 'rank'")
    execute(store_copy, "UPDATE meta SET value = '4' WHERE key = 'world_size'")
    rows = tables(store_copy, fmt, tmp_path / fmt)
    assert {r["rank"] for r in rows["params"]} == {r["rank"] for r in rows["modules"]} == {3}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_metric_globs_choose_the_columns(store: Path, tmp_path: Path, fmt: str) -> None:
    rows = tables(store, fmt, tmp_path / fmt, metrics=["grad_norm", "state.exp_avg.*"])
    assert list(rows["params"][0]) == [
        "step", "param", "grad_norm",
        "state.exp_avg.absmax", "state.exp_avg.mean", "state.exp_avg.norm",
    ]  # fmt: skip
    assert list(rows["modules"][0]) == ["step", "module", "calls", "training"]
    assert "loss" in rows["steps"][0]


def test_metric_matching_nothing_is_refused(store: Path, tmp_path: Path) -> None:
    with pytest.raises(gs.GradscopeError, match="no recorded metric matches grad_nrom"):
        to_csv(store, tmp_path / "out", metrics=["grad_nrom"])
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file_is_refused(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "params.csv"
    target.write_text("mine")
    with pytest.raises(gs.GradscopeError, match="is a file"):
        to_csv(store, target)
    assert target.read_text() == "mine"


def test_missing_pyarrow_names_the_extra(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyarrow", None)
    with pytest.raises(gs.GradscopeError) as info:
        to_parquet(store, tmp_path / "pq")
    assert str(info.value) == 'Parquet export needs pyarrow: pip install "gradscope[parquet]"'
    assert not (tmp_path / "pq").exists()


def test_not_a_store_raises_store_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gsdb"
    bogus.write_text("hello")
    with pytest.raises(gs.StoreError, match="not a gradscope store"):
        to_csv(bogus, tmp_path / "out")


@pytest.mark.parametrize("column", ["lrs", "scalars"])
def test_a_damaged_json_value_is_a_store_error_and_writes_nothing(
    store_copy: Path, tmp_path: Path, column: str
) -> None:
    execute(store_copy, f"UPDATE steps SET {column} = '[0.1' WHERE step = 3")
    with pytest.raises(gs.StoreError, match=r"is damaged: a stored value is not valid JSON"):
        to_csv(store_copy, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_run_without_steps_gives_headers_only(tmp_path: Path, fmt: str) -> None:
    from torch import nn

    with gs.watch(nn.Linear(2, 1), store=tmp_path / "empty.gsdb"):
        pass
    out = tables(tmp_path / "empty.gsdb", fmt, tmp_path / fmt)
    assert out == {"params": [], "steps": [], "modules": []}
    if fmt == "csv":
        header = (tmp_path / "csv" / "steps.csv").read_bytes()
        assert header == b"step,wall_time,duration,loss,n_backward,logged\r\n"
    else:
        names = pq.read_table(tmp_path / "parquet" / "params.parquet").schema.names
        assert names == ["step", "param", *PARAM_METRICS]
