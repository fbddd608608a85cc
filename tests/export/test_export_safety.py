"""An export never deletes or overwrites a file it did not create: a user's own event files and
tables survive, a second export is refused, and ``--force`` replaces only gradscope's output."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from export_helpers import STEPS

from gradscope.cli import main
from gradscope.errors import GradscopeError
from gradscope.export import to_csv, to_tensorboard

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

EVENTS = "events.out.tfevents.*"
USER_EVENTS = "events.out.tfevents.1700000000.myhost.4242.0"


def export(*args: str) -> Result:
    return CliRunner().invoke(main, ["export", *args, "--quiet"])


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def scalars(logdir: Path, tag: str) -> list[float]:
    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    acc.Reload()
    return [e.value for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def user_logdir(folder: Path) -> Path:
    """A TensorBoard log folder holding a user's own run: one event file, bytes that matter."""
    folder.mkdir(parents=True)
    (folder / USER_EVENTS).write_bytes(b"the user's own training curves")
    (folder / "notes.txt").write_text("mine")
    return folder


def test_tensorboard_writes_a_run_folder_and_keeps_the_users_event_file(
    store: Path, tmp_path: Path
) -> None:
    logdir = user_logdir(tmp_path / "tb")
    before = tree(logdir)
    result = export(str(store), "-f", "tensorboard", "-o", str(logdir))
    assert result.exit_code == 0, result.output
    assert result.output == f"tensorboard export written to {logdir / 'mlp'}\n"
    after = tree(logdir)
    assert {k: after[k] for k in before} == before  # nothing of the user's changed
    (ours,) = (logdir / "mlp").glob(EVENTS)
    assert ours.name.endswith(".gradscope")
    assert len(scalars(logdir / "mlp", "loss")) == STEPS


def test_tensorboard_export_again_is_refused_in_one_line(store: Path, tmp_path: Path) -> None:
    logdir = tmp_path / "tb"
    assert export(str(store), "-f", "tensorboard", "-o", str(logdir)).exit_code == 0
    before = tree(logdir)
    result = export(str(store), "-f", "tensorboard", "-o", str(logdir))
    assert result.exit_code == 2
    assert result.output == (
        f"gradscope: error: {str(logdir / 'mlp')!r} already holds an earlier gradscope export, "
        "which gradscope does not overwrite: pass --force (force=True from Python) to replace "
        "it, or choose another output folder\n"
    )
    assert tree(logdir) == before


def test_tensorboard_force_replaces_only_gradscopes_event_files(
    store: Path, tmp_path: Path
) -> None:
    logdir = user_logdir(tmp_path / "tb")
    user_files = tree(logdir)
    assert export(str(store), "-f", "tensorboard", "-o", str(logdir)).exit_code == 0
    (first,) = (logdir / "mlp").glob(EVENTS)
    again = ("-f", "tensorboard", "-o", str(logdir), "-m", "grad_norm", "--force")
    result = export(str(store), *again)
    assert result.exit_code == 0, result.output
    (second,) = (logdir / "mlp").glob(EVENTS)
    assert second != first and not first.exists()
    assert len(scalars(logdir / "mlp", "grad_norm/fc1.weight")) == STEPS
    assert scalars(logdir / "mlp", "grad_mean/fc1.weight") == []  # the new export, not the old
    after = tree(logdir)
    assert {k: after[k] for k in user_files} == user_files


def test_tensorboard_force_never_deletes_a_foreign_event_file_in_the_run_folder(
    store: Path, tmp_path: Path
) -> None:
    run_folder = user_logdir(tmp_path / "tb" / "mlp")
    before = tree(run_folder)
    result = export(str(store), "-f", "tensorboard", "-o", str(tmp_path / "tb"), "--force")
    assert result.exit_code == 2
    assert result.output.startswith(
        f"gradscope: error: {str(run_folder)!r} holds TensorBoard event files that gradscope did "
        f"not write ({USER_EVENTS} …), which it never deletes"
    )
    assert result.output.count("\n") == 1
    assert tree(run_folder) == before


def test_interrupted_tensorboard_export_leaves_no_event_file(store: Path, tmp_path: Path) -> None:
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        to_tensorboard(store, tmp_path / "tb", progress=interrupt)
    assert list((tmp_path / "tb").rglob(EVENTS)) == []
    to_tensorboard(store, tmp_path / "tb")  # so the next export is not refused


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_never_overwrite_a_users_file(store: Path, tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / "out"
    out.mkdir()
    (out / f"steps.{fmt}").write_text("the user's own table")
    result = export(str(store), "-f", fmt, "-o", str(out))
    assert result.exit_code == 2
    assert result.output == (
        f"gradscope: error: {str(out)!r} already holds steps.{fmt}, which gradscope does not "
        "overwrite: pass --force (force=True from Python) to replace them, or choose another "
        "output folder\n"
    )
    assert tree(out) == {f"steps.{fmt}": b"the user's own table"}


def test_csv_export_again_is_refused_and_force_replaces_only_the_three_tables(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.csv").write_text("a,b\n1,2\n")
    assert export(str(store), "-f", "csv", "-o", str(out)).exit_code == 0
    first = tree(out)
    assert sorted(first) == ["modules.csv", "notes.csv", "params.csv", "steps.csv"]
    result = export(str(store), "-f", "csv", "-o", str(out), "-m", "grad_norm")
    assert result.exit_code == 2
    assert "already holds params.csv, steps.csv and modules.csv" in result.output
    assert tree(out) == first
    result = export(str(store), "-f", "csv", "-o", str(out), "-m", "grad_norm", "--force")
    assert result.exit_code == 0, result.output
    second = tree(out)
    assert sorted(second) == sorted(first) and second["notes.csv"] == b"a,b\n1,2\n"
    assert second["params.csv"].splitlines()[0] == b"step,param,grad_norm"
    assert second["steps.csv"] == first["steps.csv"]


def test_interrupted_csv_export_keeps_the_earlier_export_whole(store: Path, tmp_path: Path) -> None:
    out = to_csv(store, tmp_path / "out")
    before = tree(out)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        to_csv(store, out, metrics=["grad_norm"], progress=interrupt, force=True)
    assert tree(out) == before  # no partial table, no temporary file left


def test_python_api_refuses_too(store: Path, tmp_path: Path) -> None:
    to_csv(store, tmp_path / "out")
    with pytest.raises(GradscopeError, match=r"already holds params\.csv"):
        to_csv(store, tmp_path / "out")
