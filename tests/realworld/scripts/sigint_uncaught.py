"""Training stopped by Ctrl-C that nothing catches: the KeyboardInterrupt ends the program with
its traceback. The interrupt is raised by the script itself at a fixed step
(``signal.raise_signal(SIGINT)``), after printing what it has trained so far."""

import hashlib
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


torch.manual_seed(19)
x = torch.randn(400, 8)
y = (x.pow(2).sum(1, keepdim=True) > 8).float()
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
criterion = nn.BCEWithLogitsLoss()
losses = []
for step in range(1000):
    idx = torch.randint(0, 400, (50,))
    optimizer.zero_grad()
    loss = criterion(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    print(f"step {step} loss {loss.item():.10f}", flush=True)
    if step == 9:
        print("STEPS", len(losses))
        print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
        print("LOSSES", ",".join(repr(v) for v in losses))
        print("FINAL", fingerprint(model.state_dict().values()), flush=True)
        signal.raise_signal(signal.SIGINT)  # the user presses Ctrl-C here
