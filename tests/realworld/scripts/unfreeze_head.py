"""Fine-tuning in two phases: the "pretrained" backbone starts frozen and the optimizer holds
only the new head; after a few steps the backbone is unfrozen and joins the optimizer with
``optimizer.add_param_group`` at a lower learning rate (the transfer-learning recipe)."""

import hashlib

import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.backbone(x))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(21)
x = torch.randn(320, 12)
y = (x[:, :4] * torch.tensor([1.0, -1.0, 0.5, 2.0])).argmax(1)
model = Model()
for param in model.backbone.parameters():
    param.requires_grad = False
optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()
losses = []
for step in range(24):
    if step == 10:
        for param in model.backbone.parameters():
            param.requires_grad = True
        optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 0.01})
        print("unfroze the backbone; groups:", len(optimizer.param_groups))
    idx = torch.randint(0, 320, (32,))
    optimizer.zero_grad()
    loss = criterion(model(x[idx]), y[idx])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 4 == 0:
        print(f"step {step:2d} loss {loss.item():.10f}")
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
