"""``GradscopeTrainerCallback`` on a real ``transformers`` ``Trainer`` (a tiny random BERT, CPU).

The model is built from a config (random weights, nothing downloaded); conftest.py puts the
Hugging Face libraries offline before they are imported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from integration_helpers import assert_no_hooks, assert_report_reads, dashboard_lines

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

import gradscope as gs  # noqa: E402
from gradscope.integrations.huggingface import GradscopeTrainerCallback  # noqa: E402
from gradscope.options import OptionError  # noqa: E402

STEPS = 8


class Tokens(torch.utils.data.Dataset):
    """Random token ids and labels, the same on every run."""

    def __init__(self, n: int = 64) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 100, (n, 12), generator=g)
        self.labels = torch.randint(0, 2, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


class Reference(TrainerCallback):
    """What the Trainer itself saw: the gradient it stepped with, and what it logged."""

    def __init__(self) -> None:
        self.grad_norms: list[float] = []
        self.logs: list[dict[str, float]] = []
        self.optimizer: Any = None

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # after backward and clipping, just before optimizer.step()
        self.grad_norms.append(kwargs["model"].classifier.weight.grad.norm().item())
        self.optimizer = kwargs["optimizer"]

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
        if logs and "loss" in logs:
            self.logs.append(dict(logs))


def tiny_bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=32,
    )
    return BertForSequenceClassification(config)


def train(
    tmp_path: Path, callbacks: list[Any], *, steps: int = STEPS, **args: Any
) -> tuple[Trainer, BertForSequenceClassification]:
    model = tiny_bert()
    arguments = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=steps,
        per_device_train_batch_size=8,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
        **args,
    )
    trainer = Trainer(model=model, args=arguments, train_dataset=Tokens(), callbacks=callbacks)
    trainer.train()
    return trainer, model


def test_train_records_a_store_the_report_and_dashboard_read(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    cb, ref = GradscopeTrainerCallback(store=store), Reference()
    trainer, model = train(tmp_path, [cb, ref])
    assert trainer.state.global_step == STEPS
    assert cb.store_path == store and cb.scope is not None and cb.scope.closed
    accelerated = ref.optimizer
    assert type(accelerated).__name__ == "AcceleratedOptimizer"
    assert_no_hooks(model, accelerated, accelerated.optimizer)
    names = [n for n, _ in model.named_parameters()]
    with gs.open_store(store) as run:
        assert run.steps == list(range(STEPS))
        assert run.params == names and names[0] == "bert.embeddings.word_embeddings.weight"
        assert run.meta["model"] == "BertForSequenceClassification"
        assert run.meta["optimizers"] == ["AdamW"]  # the torch optimizer, not accelerate's wrapper
        steps, losses = run.series("loss")
        assert steps == run.steps
        assert losses == [log["loss"] for log in ref.logs]  # logging_steps=1: the same floats
        _, norms = run.series("grad_norm", "classifier.weight")
        assert norms == pytest.approx(ref.grad_norms, rel=1e-6)
        # the Trainer logs the total norm before clipping; gradscope keeps it per parameter
        for step, log in enumerate(ref.logs):
            pre = [run.param_row_at(n, step).values["grad_norm_preclip"] for n in names]
            total = math.sqrt(sum(v * v for v in pre if v is not None))
            assert total == pytest.approx(log["grad_norm"], rel=1e-4)
        _, lrs = run.series("lr")
        assert lrs == pytest.approx([log["learning_rate"] for log in ref.logs], rel=1e-9)
        assert_report_reads(run, names, STEPS)
        # a freshly initialised BERT is healthy: its tiny query/key gradients are no diagnosis
        assert run.alerts == [] and cb.scope.alerts == []
    lines = dashboard_lines(store, "p:classifier.weight")
    assert any("classifier" in line.split() for line in lines)


def test_training_is_bit_identical_with_and_without_the_callback(tmp_path: Path) -> None:
    _, plain = train(tmp_path, [], steps=4)
    _, watched = train(tmp_path, [GradscopeTrainerCallback(store=tmp_path / "w.gsdb")], steps=4)
    for (name, a), b in zip(plain.state_dict().items(), watched.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_gradient_accumulation_counts_optimizer_steps(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    cb, ref = GradscopeTrainerCallback(store=store), Reference()
    trainer, _ = train(tmp_path, [cb, ref], steps=3, gradient_accumulation_steps=2)
    assert trainer.state.global_step == 3
    with gs.open_store(store) as run:
        rows = run.step_rows()
        assert [r.n_backward for r in rows] == [2, 2, 2]
        # the step's loss is the sum of the two halved micro-batch losses, as the Trainer logs it
        losses = [r.loss for r in rows]
        assert losses == pytest.approx([log["loss"] for log in ref.logs], rel=1e-6)


def test_options_are_checked_and_reach_the_scope(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="every must be a positive integer"):
        GradscopeTrainerCallback(every=-1)
    store = tmp_path / "run.gsdb"
    cb = GradscopeTrainerCallback(store=store, every=2, include="classifier")
    train(tmp_path, [cb], steps=4)
    with gs.open_store(store) as run:
        assert run.params == ["classifier.weight", "classifier.bias"]
        assert [r.step for r in run.step_rows() if r.logged] == [0, 2]


@pytest.mark.parametrize("scaled", [True, False])
def test_logged_loss_replaces_only_a_scaled_one(tmp_path: Path, scaled: bool) -> None:
    """Drive the hooks in the Trainer's order around a real ``AcceleratedOptimizer``.

    With a GradScaler the backward root is loss × 256 and the logged loss replaces it; without
    one the captured loss stands and what ``on_log`` brings is ignored (never counted twice).
    """
    from accelerate import Accelerator
    from accelerate.optimizer import AcceleratedOptimizer
    from transformers import TrainerControl, TrainerState

    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[], use_cpu=True)
    Accelerator(cpu=True)  # after the arguments: building them resets accelerate's state
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8) if scaled else None
    optimizer = AcceleratedOptimizer(torch.optim.SGD(model.parameters(), lr=0.1), scaler=scaler)
    state, control = TrainerState(), TrainerControl()
    store = tmp_path / "run.gsdb"
    cb = GradscopeTrainerCallback(store=store)
    hook_args = {"model": model, "optimizer": optimizer}
    cb.on_train_begin(args, state, control, **hook_args)
    losses = []
    try:
        for _ in range(3):
            loss = model(torch.randn(4, 3)).pow(2).mean()
            (scaler.scale(loss) if scaler is not None else loss).backward()
            cb.on_pre_optimizer_step(args, state, control, **hook_args)
            optimizer.step()
            optimizer.zero_grad()
            cb.on_step_end(args, state, control, **hook_args)
            losses.append(loss.item())
            logged = loss.item() if scaled else 123.0
            cb.on_log(args, state, control, logs={"loss": logged}, **hook_args)
        cb.on_train_end(args, state, control, **hook_args)
    finally:
        cb.close()
    assert_no_hooks(model, optimizer.optimizer)
    with gs.open_store(store) as run:
        assert run.steps == [0, 1, 2]
        assert run.series("loss")[1] == pytest.approx(losses, rel=1e-6)
