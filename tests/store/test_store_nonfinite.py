"""Non-finite values cross the store boundary as floats: NaN, +Inf and -Inf written by a real
training come back from every read as ``float`` values, never as text."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import torch
from torch import nn

import gradscope as gs
from gradscope.store.codec import decode_row


def test_nan_and_inf_read_back_as_floats(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    x = torch.randn(4, 3)
    with gs.watch(model, opt, store=tmp_store, doctor=False):
        for i in range(3):
            opt.zero_grad()
            loss = model(x).sum()
            if i == 1:
                loss = loss * float("nan")
            loss.backward()
            opt.step()
        with torch.no_grad():
            model[0].weight.fill_(float("inf"))
    with gs.open_store(tmp_store) as run:
        steps, norms = run.series("grad_norm", "0.weight")
        assert steps == [0, 1, 2]
        assert all(isinstance(v, float) for v in norms)
        assert math.isfinite(norms[0]) and math.isnan(norms[1])
        rows = run.step_rows()
        assert math.isnan(rows[1].loss) and math.isfinite(rows[0].loss)
        latest = run.latest("0.weight")
        assert all(isinstance(v, float) for v in latest.values())
        assert any(math.isnan(v) for v in latest.values())
        bulk = run.latest_rows()["0.weight"]
        steps_of = ("step", "detail_step")
        assert all(
            isinstance(v, float) for k, v in bulk.items() if k not in steps_of and v is not None
        )
        at = run.param_rows_at([0, 1, 2])["0.weight"]
        assert math.isnan(at[1][1]) and isinstance(at[0][1], float)
        binned = run.binned_rows("0.weight", ("grad_norm", "weight_norm"), bucket=2)
        assert math.isnan(binned[0][1])  # a bin's maximum shows the NaN it holds
        assert math.isnan(run.param_row_at("0.weight", 1).values["grad_norm"])
        state = run.state("0.weight")
        assert state and all(isinstance(v, float) for v in state.values())


def test_a_name_that_reads_nan_stays_a_name() -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = decode_row
    conn.execute("CREATE TABLE t (name TEXT, value REAL)")
    conn.execute("INSERT INTO t VALUES ('NaN', 'NaN'), ('x', ?)", (math.inf,))
    rows = conn.execute("SELECT name, value FROM t ORDER BY rowid").fetchall()
    assert rows[0][0] == "NaN" and math.isnan(rows[0][1])
    assert rows[1] == ("x", math.inf)
