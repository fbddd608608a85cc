# expect: clean
"""Saves mid-training both ways (torch.save(model) of the whole module and a state_dict checkpoint with the optimizer and scheduler), then resumes in the right order: re-create the model, load its weights, build the optimizer over the new model, load the optimizer and scheduler state, keep training."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F


class Forecaster(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def make_windows(n, length=20):
    t0 = torch.rand(n, 1) * 6.28
    t = t0 + torch.arange(length + 1) * 0.3
    s = torch.sin(t) + 0.5 * torch.sin(2.3 * t)
    return s[:, :-1].unsqueeze(-1), s[:, -1:]


def run_steps(model, optimizer, scheduler, n_steps, start):
    for step in range(start, start + n_steps):
        x, y = make_windows(32)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 10 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {scheduler.get_last_lr()[0]:.2e}")
    return start + n_steps


torch.manual_seed(4)
workdir = tempfile.mkdtemp(prefix="resume_")
model = Forecaster()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.98)
step = run_steps(model, optimizer, scheduler, 30, 0)

torch.save(model, os.path.join(workdir, "model_full.pt"))
torch.save(
    {
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    },
    os.path.join(workdir, "ckpt.pt"),
)
del model, optimizer, scheduler

# the whole pickled module is only used for a quick evaluation
full = torch.load(os.path.join(workdir, "model_full.pt"), weights_only=False)
full.eval()
with torch.no_grad():
    xv, yv = make_windows(128)
    print("reloaded full model, val mse", F.mse_loss(full(xv), yv).item())

# resume from the state_dict checkpoint
ckpt = torch.load(os.path.join(workdir, "ckpt.pt"))
model = Forecaster()
model.load_state_dict(ckpt["model"])
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
optimizer.load_state_dict(ckpt["optimizer"])
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.98)
scheduler.load_state_dict(ckpt["scheduler"])
run_steps(model, optimizer, scheduler, 30, ckpt["step"])
