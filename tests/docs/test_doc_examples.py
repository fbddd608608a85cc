"""The docs' Python examples run.

Every ```` ```python ```` block of every page under ``docs/`` runs, the blocks of one page in
order in one namespace, in a scratch folder. A page's examples may use what a reader has at
hand (``torch``, ``nn``, ``F``, ``gs``, and a small ``model``, ``optimizer``, ``loss_fn``,
``x``, ``y``, ``loss``, ``batches``, ``lr`` and ``train(model, optimizer)``: see
:data:`PRELUDE`) and the stores ``runs/quickstart.gsdb`` (written by the quickstart's own
example) and ``runs/exp1.gsdb`` (a copy of it).

A block that cannot run here is marked in the markdown: ```` ```python no-run ```` (a
signature, a command that needs a terminal, a multi-process launch, a long training). Pages
whose examples are fragments that do not run yet are listed in :data:`NOT_RUNNABLE_YET` as
strict expected failures: making one run makes its test fail until it leaves the list.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```", re.S | re.M)

PRELUDE = """
import torch
import torch.nn.functional as F
from torch import nn
import rich
import gradscope as gs

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = criterion = nn.CrossEntropyLoss()
x = torch.randn(64, 20)
y = x[:, :3].argmax(dim=1)
loss = loss_fn(model(x), y)
lr = 0.1
batches = [(torch.randn(8, 1), torch.randn(8, 1)) for _ in range(3)]


def train(model, optimizer, steps=3):
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
"""

#: Pages whose examples are fragments (a bug and its fix inside a training loop the reader
#: already has, a distributed launch): strict xfails until they run.
NOT_RUNNABLE_YET = {
    "distributed.md",
    "doctor/ddp-desync.md",
    "doctor/eval-mode-training.md",
    "doctor/grad-not-zeroed.md",
    "doctor/index.md",
    "doctor/kldiv-input-not-log.md",
    "doctor/loss-broadcast.md",
    "doctor/loss-stalled.md",
    "doctor/loss-target-range.md",
    "doctor/nll-input-not-log.md",
    "doctor/nonfinite-loss.md",
    "doctor/scheduler-order.md",
    "doctor/sigmoid-before-bce.md",
    "doctor/step-without-grad.md",
    "doctor/thresholds.md",
    "doctor/vanishing-gradients.md",
    "doctor/zero-gradient-flow.md",
}


def pages() -> list[str]:
    return sorted(
        str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md") if FENCE.search(p.read_text())
    )


#: Optional packages an example may import; without them the page is skipped, not failed.
OPTIONAL = {"pandas", "pyarrow", "tensorboard", "lightning", "transformers"}


def run_blocks(page: str, namespace: dict) -> int:
    """Run the page's blocks in order; return how many ran."""
    ran = 0
    for i, (info, code) in enumerate(FENCE.findall((DOCS / page).read_text())):
        if "no-run" in info.split():
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"docs/{page} block {i + 1}", "exec"), namespace)
        except ModuleNotFoundError as exc:
            if exc.name in OPTIONAL:
                pytest.skip(f"block {i + 1} needs {exc.name}, which is not installed")
            raise
        ran += 1
    return ran


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``runs/quickstart.gsdb`` from the quickstart's first example, and ``runs/exp1.gsdb``."""
    folder = tmp_path_factory.mktemp("docs")
    with contextlib.chdir(folder), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_blocks_first("quickstart.md", {"__name__": "__main__"})
    shutil.copy(folder / "runs" / "quickstart.gsdb", folder / "runs" / "exp1.gsdb")
    return folder


def run_blocks_first(page: str, namespace: dict) -> None:
    _, code = FENCE.findall((DOCS / page).read_text())[0]
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, f"docs/{page} block 1", "exec"), namespace)


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="fragments"))
        if p in NOT_RUNNABLE_YET
        else p
        for p in pages()
    ],
)
def test_page_examples_run(page: str, stores: Path, tmp_path: Path) -> None:
    for item in stores.iterdir():
        target = tmp_path / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copy(item, target)
    namespace: dict = {"__name__": "__main__"}
    with contextlib.chdir(tmp_path), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the doctor's warnings are part of some examples
        exec(PRELUDE, namespace)
        if run_blocks(page, namespace) == 0:
            pytest.skip("every example on this page is marked no-run")


def test_the_markers_are_known() -> None:
    """Every fence says ``python`` or ``python no-run``: a typo would silently run or skip."""
    for page in pages():
        for info, _ in FENCE.findall((DOCS / page).read_text()):
            assert info.strip() in ("", "no-run"), (page, info)
