"""The graph view's export and the stores it must cope with: SVG drawn from the view (parsed
when Graphviz's ``dot`` is installed), DOT text and the install hint without it, a write that
fails, and stores with no snapshot, one that arrives late, a damaged one, one with zero and
non-finite gradients, one without a heat map.
"""

from __future__ import annotations

import copy
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from graph_pilot import FIRST_ROWS, SIZE, copy_store, export, notifications, text_of, tree
from textual.widgets import Input
from tui_fixtures import add_graph, builder, sync

from gradscope.render.image import INSTALL_HINT
from gradscope.tui import make_app
from gradscope.tui.screens.graph import NO_GRAPH


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@sync
async def test_export_draws_the_view_as_svg(graph_store: Path, tmp_path: Path) -> None:
    store = copy_store(graph_store, tmp_path)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "minus", "minus")  # layers.0 and layers.1 as one node each
        exported = await export(app, pilot)
        svg = tmp_path / "run-graph.svg"
        assert exported.path == svg and exported.severity == "information"
        assert exported.message == f"graph written to {svg} (14 nodes)"
        assert notifications(app)[-1] == (exported.message, "information")
        root = ET.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "layers.0" in texts and "Block" in texts
        assert "layers.0.fc.weight" not in texts  # inside the collapsed node
        assert "head.weight" in texts


@sync
async def test_export_never_replaces_an_existing_file(
    graph_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gradscope.render.image.has_dot", lambda: False)
    store = copy_store(graph_store, tmp_path)
    mine = tmp_path / "run-graph.svg"
    mine.write_text("the user's own drawing")
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        first = await export(app, pilot)
        second = await export(app, pilot)
    assert mine.read_text() == "the user's own drawing"
    assert first.path == tmp_path / "run-graph-2.gv"
    assert second.path == tmp_path / "run-graph-3.gv"


@sync
async def test_export_without_dot_writes_dot_text(
    graph_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gradscope.render.image.has_dot", lambda: False)
    store = copy_store(graph_store, tmp_path)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "down", "f")  # only layers.0
        exported = await export(app, pilot)
        gv = tmp_path / "run-graph.gv"
        assert exported.path == gv and exported.severity == "warning"
        assert exported.message == f"{INSTALL_HINT}. DOT text written to {gv}"
        assert notifications(app)[-1] == (exported.message, "warning")
        dot = gv.read_text()
        assert dot.startswith("digraph gradscope {") and "// only layers.0 (Block)" in dot
        assert "layers.0.fc.weight" in dot and "head.weight" not in dot
        assert not (tmp_path / "run-graph.svg").exists()


@sync
async def test_a_failed_export_is_a_notification(
    graph_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = copy_store(graph_store, tmp_path)
    (tmp_path / "taken.svg").mkdir()  # nothing can be written where the export goes
    (tmp_path / "taken.gv").mkdir()
    monkeypatch.setattr(
        "gradscope.tui.screens.graph.export_path", lambda _store: tmp_path / "taken.svg"
    )
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        exported = await export(app, pilot)
        assert exported.path is None and exported.severity == "error"
        assert "Is a directory" in exported.message
        await pilot.press("1")  # still running
        assert app.current_mode == "overview"


@sync
async def test_a_store_without_a_graph_says_how_to_get_one(tmp_path: Path) -> None:
    store = builder.write_store(tmp_path / "run.gsdb", layers=2, steps=20, extras=True)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        assert text_of(app, "#graph-title") == NO_GRAPH
        assert "gradscope graph SCRIPT.py" in NO_GRAPH and "\n" not in NO_GRAPH
        assert not app.screen.query_one("#graph-body").display
        await pilot.press("x", "slash", "plus")  # the graph's keys do nothing here
        assert notifications(app) == [] and not isinstance(app.focused, Input)
        assert [p.name for p in tmp_path.iterdir() if "graph" in p.name] == []


@sync
async def test_a_snapshot_that_appears_later_is_shown(tmp_path: Path, graph_capture: Any) -> None:
    store = builder.write_store(
        tmp_path / "run.gsdb", layers=2, steps=20, extras=True, finished=False
    )
    with builder.live_writer(store):  # the training is still writing when the snapshot lands
        await _snapshot_arrives(store, graph_capture)


async def _snapshot_arrives(store: Path, graph_capture: Any) -> None:
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        assert text_of(app, "#graph-title") == NO_GRAPH
        add_graph(store, graph_capture[0])
        update = app.poll_store()
        await pilot.pause()
        assert update is not None and update.graph and not update.steps
        assert tree(app).keys == FIRST_ROWS
        assert app.poll_store() is None  # seen once, not news on every poll


@sync
async def test_damaged_snapshot_is_one_line(tmp_path: Path, graph_capture: Any) -> None:
    store = builder.write_store(tmp_path / "run.gsdb", layers=2, steps=20, extras=True)
    add_graph(store, {"nodes": [{"id": "n0"}], "edges": []})
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        title = text_of(app, "#graph-title")
        assert title.startswith("the graph snapshot in this store cannot be read (TypeError(")
        assert title.endswith("gradscope graph SCRIPT.py -o graph.svg")


@sync
async def test_inconsistent_snapshot_is_one_line(tmp_path: Path, graph_capture: Any) -> None:
    snapshot = copy.deepcopy(graph_capture[0])
    snapshot["calls"][2]["parent"] = 99  # layers.0's parent call does not exist
    store = builder.write_store(tmp_path / "run.gsdb", layers=2, steps=20, extras=True)
    add_graph(store, snapshot)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "plus", "minus", "x", "slash")  # nothing breaks the app
        await app.workers.wait_for_complete()
        title = text_of(app, "#graph-title")
        assert title.startswith("the graph snapshot in this store is inconsistent (IndexError(")
        assert title.endswith("gradscope graph SCRIPT.py -o graph.svg")
        assert not app.screen.query_one("#graph-body").display
        await pilot.press("escape", "1")
        assert app.current_mode == "overview"


@sync
async def test_zero_and_nonfinite_gradients_are_marked(tmp_path: Path, graph_capture: Any) -> None:
    snapshot = copy.deepcopy(graph_capture[0])
    snapshot["heat"]["norms"].update({"n42": "nan", "n38": 0.0, "n41": "inf"})
    store = builder.write_store(tmp_path / "run.gsdb", layers=2, steps=20, extras=True)
    add_graph(store, snapshot)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "down", "down", "enter")
        rows = {tree(app).get_node_at_line(i).data: tree(app).get_node_at_line(i) for i in range(9)}
        assert rows["n42"].label.plain.endswith("‖g‖ nan")
        assert rows["n38"].label.plain.endswith("‖g‖ 0")
        assert rows["n41"].label.plain.endswith("‖g‖ inf")
        await pilot.press("down")
        assert "gradient ‖g‖ nan: non-finite" in text_of(app, "#graph-detail")
        await pilot.press("down")
        assert "gradient ‖g‖ 0: a zero gradient flowed here" in text_of(app, "#graph-detail")
        await pilot.press("up", "up")
        assert "largest gradient inside: ‖g‖ nan at layers.0.fc.weight" in text_of(
            app, "#graph-detail"
        )


@sync
async def test_a_graph_without_heat_map_says_so(tmp_path: Path, graph_capture: Any) -> None:
    snapshot = {**graph_capture[0], "heat": None}
    store = builder.write_store(tmp_path / "run.gsdb", layers=2, steps=20, extras=True)
    add_graph(store, snapshot)
    app = make_app(store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        assert "· no gradient heat map" in text_of(app, "#graph-title")
        assert tree(app).get_node_at_line(10).label.plain == "head.weight  (1, 4)"
        tree(app).go_to("n46")
        await pilot.pause()
        assert "gradient not recorded: capture with grads=True" in text_of(app, "#graph-detail")
