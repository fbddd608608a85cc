"""A job preempted by its scheduler: SIGTERM arrives in the middle of training and nothing
handles it, so the process dies by the signal (as under SLURM or Kubernetes). The script sends
the signal to itself at a fixed step, after printing what it has trained so far."""

import hashlib
import os
import signal

import torch
from torch import nn


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(31)
x = torch.randn(256, 4)
y = torch.sin(x).sum(1, keepdim=True)
model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.NAdam(model.parameters(), lr=1e-2)
losses = []
for step in range(500):
    idx = torch.randint(0, 256, (32,))
    optimizer.zero_grad()
    loss = nn.functional.smooth_l1_loss(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"step {step} loss {loss.item():.10f}")
    if step == 11:
        print("STEPS", len(losses))
        print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
        print("LOSSES", ",".join(repr(v) for v in losses))
        print("FINAL", fingerprint(model.state_dict().values()), flush=True)
        os.kill(os.getpid(), signal.SIGTERM)  # the scheduler preempts the job here
