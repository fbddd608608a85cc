"""A tiny GPT-2 built from a ``GPT2Config`` (no download) and trained for a few steps with the
Hugging Face ``Trainer`` on synthetic token sequences, as the causal-LM examples do."""

import hashlib
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from torch.utils.data import Dataset
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    set_seed,
)


class RepeatingTokens(Dataset):
    """Sequences that repeat a short random motif: next-token prediction can learn them."""

    def __init__(self, n, length, vocab):
        g = torch.Generator().manual_seed(0)
        motifs = torch.randint(0, vocab, (n, 4), generator=g)
        self.ids = motifs.repeat(1, length // 4)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


set_seed(0)
config = GPT2Config(
    vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0
)
model = GPT2LMHeadModel(config)
args = TrainingArguments(
    output_dir=os.path.join(os.getcwd(), "gpt2-out"),
    max_steps=8,
    per_device_train_batch_size=8,
    learning_rate=5e-3,
    warmup_steps=2,
    logging_steps=1,
    save_strategy="no",
    report_to=[],
    use_cpu=True,
    seed=0,
    disable_tqdm=True,
    log_level="error",
    dataloader_num_workers=0,
)
trainer = Trainer(model=model, args=args, train_dataset=RepeatingTokens(64, 16, 64))
result = trainer.train()
losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
for step, loss in enumerate(losses):
    print(f"step {step} loss {loss!r}")
print(f"train_loss {result.training_loss!r}")
print("STEPS", trainer.state.global_step)
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
