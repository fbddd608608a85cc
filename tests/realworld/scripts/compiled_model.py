"""``model = torch.compile(model)`` and a normal training loop. The ``aot_eager`` backend runs
Dynamo and AOTAutograd (the compiled autograd Function) without a C++ toolchain, so the script
stays quick; Inductor would only change the kernels."""

import hashlib

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 32)
        self.act = nn.SiLU()
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 1)

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(5)
x = torch.randn(512, 10)
y = (x[:, :3].sum(1, keepdim=True)).tanh() + 0.05 * torch.randn(512, 1)
model = MLP()
model = torch.compile(model, backend="aot_eager")
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for step in range(16):
    idx = torch.randint(0, 512, (64,))
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 4 == 0:
        print(f"step {step} loss {loss.item():.10f}")

print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model._orig_mod.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
