"""Sharpness-aware minimization (SAM) as its popular reference implementation writes it: an
``Optimizer`` subclass that wraps a base optimizer and needs two forward-backward passes per
step (``first_step`` climbs to the worst nearby weights, ``second_step`` updates from there)."""

import hashlib

import torch
from torch import nn


class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        defaults = dict(rho=rho, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                p.add_(p.grad * scale.to(p))
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    def _grad_norm(self):
        return torch.norm(
            torch.stack(
                [p.grad.norm(p=2) for group in self.param_groups for p in group["params"]
                 if p.grad is not None]
            ),
            p=2,
        )  # fmt: skip


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(37)
x = torch.randn(256, 8)
y = (x[:, 0] * x[:, 1] + x[:, 2] > 0).long()
model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2))
criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
optimizer = SAM(model.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9)
losses = []
for step in range(20):
    idx = torch.randint(0, 256, (32,))
    inputs, targets = x[idx], y[idx]
    # first forward-backward pass
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.first_step(zero_grad=True)
    # second forward-backward pass
    criterion(model(inputs), targets).backward()
    optimizer.second_step(zero_grad=True)
    losses.append(loss.item())
    if step % 4 == 0:
        print(f"step {step:2d} loss {loss.item():.10f}")
print("STEPS", len(losses))
print("LOSSES", ",".join(repr(v) for v in losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("FINAL", fingerprint(model.state_dict().values()))
