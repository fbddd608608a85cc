"""Reading in bounded windows: the rows do not depend on the window size, and state recorded
without gradient statistics is not lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import STEPS, execute

import gradscope as gs
from gradscope.export import tables
from gradscope.export.layout import plan
from gradscope.records import PARAM_METRICS


def all_rows(run: gs.Run) -> dict[str, list[tuple]]:
    layout = plan([run])
    out: dict[str, list[tuple]] = {"steps": [], "params": [], "modules": [], "histograms": []}
    for chunk in tables.chunks(run, layout, histograms=True):
        for name, rows in out.items():
            rows.extend(getattr(chunk, name))
    return out


def test_windows_hold_at_most_chunk_rows(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = gs.open_store(store)
    whole = all_rows(run)
    # 8 parameters and modules: 20 rows a window means two logged steps a window
    monkeypatch.setattr(tables, "CHUNK_ROWS", 20)
    chunks = list(tables.chunks(run, plan([run]), histograms=True))
    windows = [(c.start, c.end) for c in chunks]
    assert windows == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 2**62)]
    assert all(len(c.params) + len(c.modules) <= 16 for c in chunks)
    assert all_rows(run) == whole
    assert len(whole["params"]) == STEPS * 4 and len(whole["histograms"]) == 3 * 4 * 2


def test_windows_skip_unlogged_steps(store_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    execute(store_copy, "UPDATE steps SET logged = 0 WHERE step % 3 != 0")
    run = gs.open_store(store_copy)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 8)  # one logged step a window
    windows = [(c.start, c.end) for c in tables.chunks(run, plan([run]))]
    assert windows == [(0, 3), (3, 6), (6, 9), (9, 2**62)]


def test_state_without_param_row_gets_a_row_of_its_own(store_copy: Path) -> None:
    execute(
        store_copy,
        "DELETE FROM param_stats WHERE step = 4"
        " AND param_id = (SELECT id FROM params WHERE name = 'fc1.bias')",
    )
    run = gs.open_store(store_copy)
    layout = plan([run])
    rows = [r for c in tables.chunks(run, layout) for r in c.params]
    assert [(r[0], r[1]) for r in rows if r[0] == 4] == [(4, p) for p in run.params]
    orphan = next(r for r in rows if r[0] == 4 and r[1] == "fc1.bias")
    assert orphan[2 : 2 + len(PARAM_METRICS)] == (None,) * len(PARAM_METRICS)
    states = dict(zip(layout.param_columns, orphan, strict=True))
    assert {k: v for k, v in states.items() if k.startswith("state.")} == run.state(
        "fc1.bias", step=4
    )


def test_ranks_come_from_meta_unless_they_repeat(store: Path, store_copy: Path) -> None:
    execute(store_copy, "UPDATE meta SET value = '5' WHERE key = 'rank'")
    a, b = gs.open_store(store), gs.open_store(store_copy)
    assert tables.ranks([b, a]) == [5, 0]
    assert tables.ranks([a, a]) == [0, 1]


def test_layout_puts_lrs_and_scalars_after_the_fixed_step_columns(store: Path) -> None:
    layout = plan([gs.open_store(store)])
    assert layout.step_columns[-3:] == ("lr", "lr.1", "acc") and not layout.rank
    assert layout.histograms == ("grad", "weight")


def test_scalar_named_like_a_column_is_prefixed(store_copy: Path) -> None:
    execute(store_copy, """UPDATE steps SET scalars = '{"duration": 1.5}' WHERE step = 2""")
    layout = plan([gs.open_store(store_copy)])
    assert layout.step_columns[-2:] == ("acc", "scalar.duration")
