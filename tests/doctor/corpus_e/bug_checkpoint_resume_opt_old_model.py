# expect: step-without-grad @ optimizer1:Adam|optimizer0:Adam
"""Trains, saves a checkpoint mid-training, then resumes "as a fresh process would"; the resume code builds the optimizer from the old `model` global before re-creating the model from the checkpoint, so the resumed optimizer steps parameters that no longer get gradients."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(11)
CKPT_DIR = tempfile.mkdtemp(prefix="ckpt_")


def build_model():
    return nn.Sequential(
        nn.Conv1d(2, 16, 5, padding=2),
        nn.ReLU(),
        nn.Conv1d(16, 16, 5, padding=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(16, 4),
    )


def train_one_epoch(model, loader, optimizer):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
    return total / len(loader.dataset)


def save_checkpoint(path, model, optimizer, epoch):
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )


# toy signal classification: which of 4 frequencies is in channel 0
t = torch.linspace(0, 1, 64)
labels = torch.randint(0, 4, (512,))
freqs = torch.tensor([2.0, 4.0, 7.0, 11.0])[labels]
signal = torch.sin(2 * torch.pi * freqs[:, None] * t) + 0.3 * torch.randn(512, 64)
x = torch.stack([signal, 0.3 * torch.randn(512, 64)], 1)
loader = DataLoader(TensorDataset(x, labels), batch_size=64, shuffle=True)

model = build_model()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(3):
    print(f"epoch {epoch}: loss {train_one_epoch(model, loader, optimizer):.4f}")
ckpt_path = os.path.join(CKPT_DIR, "last.pt")
save_checkpoint(ckpt_path, model, optimizer, epoch)

# ---- resume (as if the job had been pre-empted) ----
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
checkpoint = torch.load(ckpt_path)
model = build_model()
model.load_state_dict(checkpoint["model_state_dict"])
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
start_epoch = checkpoint["epoch"] + 1

for epoch in range(start_epoch, start_epoch + 3):
    print(f"epoch {epoch}: loss {train_one_epoch(model, loader, optimizer):.4f}")
