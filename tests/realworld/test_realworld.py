"""Real training scripts, written as users and tutorials write them, watched by gradscope.

Each script in ``scripts/`` (no gradscope import) runs plain, under ``python -m gradscope run``
(mode ``run``) and with ``gs.watch`` or an integration's callback added by hand (mode ``watch``,
see ``ATTACH``), each in a folder of its own. These are correct scripts, so for every one: the same
exit status, the same standard output (every printed number, and the final hash of parameters,
buffers and RNG state: gradscope changed nothing), one recorded step per optimizer step (per
backward pass without an optimizer), the names the user would write, the loss of every step, a
closed store with no instrument switched off, and no warning or error from ``gradscope doctor
--json``. A check that fails because of a known gradscope defect is listed in ``KNOWN_DEFECTS`` with
what was observed; it is a strict xfail, so it turns into a failure once the defect is fixed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from realworld_runs import (
    ATTACH,
    EXPECTED_EXIT,
    MODES,
    ScriptRuns,
    is_finite,
    prints_losses,
    run_scripts,
    script_names,
)

pytestmark = pytest.mark.slow

NAMES = script_names()

#: (check, script, mode) → the defect observed. Remove an entry when its fix lands.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}


CHECKS = (
    "exit", "output", "final", "steps", "names", "loss", "loss_values", "warnings", "closed",
    "doctor",
)  # fmt: skip


def cases(check: str, names: list[str] = NAMES) -> list[object]:
    """``(name, mode)`` for every script and way of attaching, known defects as strict xfails."""
    assert check in CHECKS
    return [
        pytest.param(
            n, mode, marks=pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[check, n, mode])
        )
        if (check, n, mode) in KNOWN_DEFECTS
        else pytest.param(n, mode, id=f"{n}-{mode}")
        for n in names
        for mode in MODES
    ]


def selected_scripts(request: pytest.FixtureRequest) -> set[str]:
    """The scripts the selected tests of this module need (``-k`` runs only those)."""
    here = request.node.path
    return {
        item.callspec.params["name"]
        for item in request.session.items
        if item.path == here and hasattr(item, "callspec") and "name" in item.callspec.params
    }


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], ScriptRuns]:
    return run_scripts(selected_scripts(request), tmp_path_factory.mktemp("realworld"))


@pytest.fixture
def r(name: str, mode: str, runs: dict[tuple[str, str], ScriptRuns]) -> ScriptRuns:
    """The runs of one script, once its plain run is known to be right."""
    got = runs[name, mode]
    absent = re.search(r"ModuleNotFoundError: No module named '([^']+)'", got.plain.stderr)
    if got.plain.returncode != 0 and absent:
        pytest.skip(f"the script needs {absent[1]}, which is not installed")
    if name == "compiled_model" and got.plain.returncode != 0:
        if not torch._dynamo.is_dynamo_supported():
            pytest.skip("torch.compile is not supported on this Python/platform")
        if "BackendCompilerFailed" in got.plain.stderr or "InductorError" in got.plain.stderr:
            pytest.skip(f"torch.compile cannot compile on this machine: {got.plain.tail(1)}")
    assert got.plain.returncode == EXPECTED_EXIT.get(name, 0), (
        f"the script itself failed:\n{got.plain.tail()}"
    )
    for key in ("STEPS", "PARAMS", "FINAL"):
        assert got.plain.protocol(key), f"the script printed no {key} line"
    return got


def store_ok(r: ScriptRuns) -> None:
    assert r.view.error is None, f"{r.view.error}\n--- watched run's stderr:\n{r.watched.tail()}"


@pytest.mark.parametrize(("name", "mode"), cases("exit"))
def test_same_exit_status(name: str, r: ScriptRuns) -> None:
    got, want = r.watched.returncode, r.plain.returncode
    assert got == want, r.watched.tail()


@pytest.mark.parametrize(("name", "mode"), cases("output"))
def test_same_printed_numbers(name: str, r: ScriptRuns) -> None:
    got, want = r.watched.training_lines(), r.plain.training_lines()
    assert got == want, r.watched.tail()


@pytest.mark.parametrize(("name", "mode"), cases("final"))
def test_bit_identical_final_state(name: str, r: ScriptRuns) -> None:
    """Parameters, buffers and the RNG state after training hash the same."""
    got, want = r.watched.protocol("FINAL"), r.plain.protocol("FINAL")
    assert got == want, r.watched.tail()


@pytest.mark.parametrize(("name", "mode"), cases("steps"))
def test_one_step_per_optimizer_step(name: str, r: ScriptRuns) -> None:
    store_ok(r)
    recorded, made = r.view.steps, r.expected_steps
    assert recorded == list(range(made)), f"{len(recorded)} steps recorded, the script made {made}"
    assert r.view.meta.get("steps") == made


@pytest.mark.parametrize(("name", "mode"), cases("names"))
def test_parameters_named_as_the_user_names_them(name: str, r: ScriptRuns) -> None:
    store_ok(r)
    expected = r.expected_params
    assert len(set(expected)) == len(expected)
    missing = [n for n in expected if n not in r.view.params]
    extra = [n for n in r.view.params if n not in expected]
    assert (missing, extra) == ([], []), f"recorded: {r.view.params}"


@pytest.mark.parametrize(("name", "mode"), cases("loss"))
def test_loss_of_every_step(name: str, r: ScriptRuns) -> None:
    store_ok(r)
    points, made = len(r.view.losses), r.expected_steps
    assert points == made, f"{points} loss points for {made} steps"
    assert r.view.loss_steps == r.view.steps
    assert is_finite(r.view.losses)


LOSS_PRINTERS = [n for n in NAMES if prints_losses(n)]


@pytest.mark.parametrize(("name", "mode"), cases("loss_values", LOSS_PRINTERS))
def test_loss_values_are_the_scripts(name: str, r: ScriptRuns) -> None:
    """Where the script prints the loss of each step, the store holds the same numbers."""
    store_ok(r)
    want = r.expected_losses
    assert len(want) == r.expected_steps
    got = r.view.losses
    assert got == pytest.approx(want, rel=1e-6), f"recorded {got[:4]}…, printed {want[:4]}…"


@pytest.mark.parametrize(("name", "mode"), cases("warnings"))
def test_no_warning_added(name: str, r: ScriptRuns) -> None:
    """Watching adds no warning to the script's stderr (gradscope's own, or torch's about it)."""
    plain = set(r.plain.warnings())
    added = [w for w in r.watched.warnings() if w not in plain]
    assert added == []


@pytest.mark.parametrize(("name", "mode"), cases("closed"))
def test_store_closed_with_every_instrument_on(name: str, r: ScriptRuns) -> None:
    store_ok(r)
    assert "finished" in r.view.meta, "the store was never closed"
    assert r.view.meta.get("failed_instruments") == {}


@pytest.mark.parametrize(("name", "mode"), cases("doctor"))
def test_doctor_finds_nothing_wrong(name: str, r: ScriptRuns) -> None:
    store_ok(r)
    serious = [a for a in r.view.doctor if a["severity"] in ("warning", "error")]
    assert serious == []


def test_the_corpus_is_complete() -> None:
    """The classes of real code the corpus must keep covering."""
    assert len(NAMES) >= 17
    text = {n: (Path(__file__).parent / "scripts" / f"{n}.py").read_text() for n in NAMES}
    needles = [
        "torch.save(model,", "copy.deepcopy(model)", "torch.optim.LBFGS", "p.data.add_(",
        "clip_grad_norm_", "create_graph=True", "torch.bfloat16", "use_reentrant=False",
        "use_reentrant=True", "torch.compile(", "torch.rand_like", "GradScaler(",
        "torch.export.export(", "torch.jit.trace(", "optimizerG", "list(embed.parameters())",
        "w -= lr * w.grad", "torch.float64", "add_param_group(", "Trainer(", "L.Trainer(",
        "sys.exit(0)", "signal.SIGINT", "signal.SIGTERM", "torch.autograd.Function", "BatchNorm",
        "Dropout",
    ]  # fmt: skip
    missing = [n for n in needles if not any(n in t for t in text.values())]
    assert missing == []
    assert all("gradscope" not in t for t in text.values())
    assert set(ATTACH) == set(NAMES)  # every script is also watched by hand


def test_known_defects_name_real_cases() -> None:
    """A misspelt entry would silently stop marking its case."""
    unknown = [
        k for k in KNOWN_DEFECTS if k[0] not in CHECKS or k[1] not in NAMES or k[2] not in MODES
    ]
    assert unknown == []
