"""A small network fitted in float64 (``torch.set_default_dtype(torch.float64)``), as scientific
codes do: an MLP with tanh learns the damped oscillator x(t) = exp(-t/4) cos(2t) with Adam and a
cosine-annealed learning rate."""

import hashlib

import torch
from torch import nn


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
t = torch.linspace(0, 6, 200).unsqueeze(1)
x = torch.exp(-t / 4) * torch.cos(2 * t)
model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
losses = []
for step in range(30):
    optimizer.zero_grad()
    loss = torch.mean((model(t) - x) ** 2)
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % 5 == 0:
        print(f"step {step:2d} loss {loss.item()!r}")
print("dtype", next(model.parameters()).dtype)
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
