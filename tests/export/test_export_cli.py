"""``gradscope export``: the click command, invoked in-process."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from export_helpers import STEPS, execute

from gradscope.cli import GradscopeGroup
from gradscope.export.cli import export_command, progress_bar


@click.group(cls=GradscopeGroup)
def main() -> None:
    """The main group as the lead will register the command on it."""


main.add_command(export_command)


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["export", *args])


@pytest.mark.parametrize(
    ("fmt", "files"),
    [
        ("csv", ["modules.csv", "params.csv", "steps.csv"]),
        ("parquet", ["modules.parquet", "params.parquet", "steps.parquet"]),
    ],
)
def test_output_folder_is_respected(store: Path, tmp_path: Path, fmt: str, files: list) -> None:
    out = tmp_path / "here"
    result = invoke(str(store), "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"{fmt} export written to {out}\n"
    assert sorted(p.name for p in out.iterdir()) == files


def test_default_output_is_under_runs(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(str(store), "-f", "tensorboard", "--quiet")
    assert result.exit_code == 0, result.output
    files = list((tmp_path / "runs" / "mlp-tb" / "mlp").glob("events.out.tfevents.*"))
    assert len(files) == 1 and files[0].stat().st_size > 0


def test_rank_stores_share_one_default_folder(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for rank in (0, 1):
        (tmp_path / f"job.rank{rank}.gsdb").write_bytes(store.read_bytes())
    result = invoke("job.rank0.gsdb", "job.rank1.gsdb", "-f", "csv")
    assert result.exit_code == 0, result.output
    with (tmp_path / "runs" / "job-csv" / "steps.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rank"] for r in rows] == ["0"] * STEPS + ["1"] * STEPS


def test_metric_option_filters_columns(store: Path, tmp_path: Path) -> None:
    result = invoke(str(store), "-f", "csv", "-o", str(tmp_path), "-m", "grad_norm", "-m", "act_*")
    assert result.exit_code == 0, result.output
    header = (tmp_path / "params.csv").read_text().splitlines()[0]
    assert header == "step,param,grad_norm"


def test_unknown_format_is_a_usage_error(store: Path, tmp_path: Path) -> None:
    result = invoke(str(store), "--format", "hdf5", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "Invalid value for '--format' / '-f': 'hdf5' is not one of" in result.output
    assert not (tmp_path / "x").exists()


def test_format_is_required(store: Path) -> None:
    result = invoke(str(store))
    assert result.exit_code == 2 and "Missing option '--format'" in result.output


def test_not_a_store_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.gsdb"
    bogus.write_text("not sqlite")
    result = CliRunner().invoke(main, ["export", str(bogus), "-f", "csv", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (
        f"gradscope: error: {str(bogus)!r} is not a gradscope store (not an SQLite file)\n"
    )


def test_bad_metric_is_one_line_and_exit_2(store: Path, tmp_path: Path) -> None:
    result = invoke(str(store), "-f", "csv", "-o", str(tmp_path / "o"), "-m", "nope")
    assert result.exit_code == 2
    assert result.output.startswith("gradscope: error: no recorded metric matches nope:")


def test_progress_bar_is_off_without_a_tty_and_on_when_asked() -> None:
    with progress_bar(enabled=False) as update:
        assert update is None
    with progress_bar(enabled=True) as update:
        assert update is not None
        update(5, 10)
        update(10, 10)


def test_help_names_the_formats() -> None:
    result = CliRunner().invoke(export_command, ["--help"])
    assert result.exit_code == 0
    assert "[tensorboard|csv|parquet]" in result.output and "--output" in result.output


def test_importing_the_command_loads_no_format_library() -> None:
    """``gradscope --help`` must not pay for pyarrow or tensorboard (or rich's progress)."""
    code = (
        "import sys, gradscope.export, gradscope.export.cli;"
        "print(sorted(m for m in ('pyarrow', 'tensorboard', 'rich') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def distributed(store: Path, folder: Path, world: int = 2) -> Path:
    """A run as torchrun leaves it: ``job.rank<R>.gsdb`` with rank and world size in meta."""
    for rank in range(world):
        path = folder / f"job.rank{rank}.gsdb"
        path.write_bytes(store.read_bytes())
        execute(path, "UPDATE meta SET value = ? WHERE key = 'rank'", (str(rank),))
        execute(path, "UPDATE meta SET value = ? WHERE key = 'world_size'", (str(world),))
    return folder / "job.gsdb"


def test_logical_path_exports_every_rank(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    logical = distributed(store, tmp_path)
    result = invoke(logical.name, "-f", "csv")
    assert result.exit_code == 0, result.output
    with (tmp_path / "runs" / "job-csv" / "params.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rank"] for r in rows] == ["0"] * (STEPS * 4) + ["1"] * (STEPS * 4)
    result = invoke(logical.name, "-f", "tensorboard", "-o", "tb")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "tb" / "job").iterdir()) == ["rank0", "rank1"]


def test_rank_option_exports_one_rank(store: Path, tmp_path: Path) -> None:
    logical = distributed(store, tmp_path, world=3)
    result = invoke(str(logical), "-f", "csv", "--rank", "2", "-o", str(tmp_path / "r2"))
    assert result.exit_code == 0, result.output
    with (tmp_path / "r2" / "steps.csv").open(newline="") as f:
        assert {r["rank"] for r in csv.DictReader(f)} == {"2"}
    result = invoke(str(logical), "-f", "csv", "--rank", "7", "-o", str(tmp_path / "r7"))
    assert result.exit_code == 2
    assert result.output.startswith("gradscope: error: no store for rank 7 of")
    result = invoke(str(logical), str(logical), "-f", "csv", "--rank", "1")
    assert result.exit_code == 2 and "--rank takes one STORE" in result.output
