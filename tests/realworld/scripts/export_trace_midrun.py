"""Exporting the model in the middle of training, as deployment pipelines do at each milestone:
``torch.jit.trace`` (saved with ``torch.jit.save``), ``torch.jit.script`` and
``torch.export.export``, each checked against the eager model, then training goes on."""

import hashlib

import torch
from torch import nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 24), nn.ReLU(), nn.Linear(24, 24), nn.ReLU())
        self.head = nn.Linear(24, 2)

    def forward(self, x):
        return self.head(self.body(x))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(8)
x = torch.randn(256, 6)
y = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3]], dim=1)
model = Regressor()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
losses = []
example = x[:4]
for step in range(16):
    idx = torch.randint(0, 256, (32,))
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step == 7:
        model.eval()
        traced = torch.jit.trace(model, example)
        torch.jit.save(traced, "model_traced.pt")
        scripted = torch.jit.script(model)
        exported = torch.export.export(model, (example,))
        with torch.no_grad():
            eager = model(example)
            reloaded = torch.jit.load("model_traced.pt")
            print("trace matches:", torch.allclose(reloaded(example), eager))
            print("script matches:", torch.allclose(scripted(example), eager))
            print("export matches:", torch.allclose(exported.module()(example), eager))
        model.train()
    if step % 4 == 0:
        print(f"step {step} loss {loss.item():.10f}")

print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
