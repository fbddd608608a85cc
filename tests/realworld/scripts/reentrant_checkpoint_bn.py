"""A residual MLP whose blocks (Linear, BatchNorm, ReLU, Dropout) run under
``checkpoint_sequential(..., use_reentrant=True)``, the older reentrant checkpoint: the segment is
re-run in backward with the RNG state restored, so Dropout draws the same mask twice and
BatchNorm updates its running statistics again."""

import hashlib

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint_sequential


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.bn = nn.BatchNorm1d(width)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.2)

    def forward(self, x):
        return x + self.drop(self.act(self.bn(self.fc(x))))


class ResMLP(nn.Module):
    def __init__(self, width=32, depth=4):
        super().__init__()
        self.stem = nn.Linear(8, width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        x = self.stem(x)
        if self.training:
            x = checkpoint_sequential(self.blocks, 2, x, use_reentrant=True)
        else:
            x = self.blocks(x)
        return self.head(x)


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(2)
x = torch.randn(384, 8)
y = ((x[:, 0] * x[:, 1] > 0) ^ (x[:, 2] > 0.5)).long()
model = ResMLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(3):
    model.train()
    for i in range(0, 320, 64):
        optimizer.zero_grad()
        loss = criterion(model(x[i : i + 64]), y[i : i + 64])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(x[320:]).argmax(1) == y[320:]).float().mean().item()
    print(f"epoch {epoch} loss {losses[-1]:.10f} val_acc {acc:.4f}")
print("num_batches_tracked", model.blocks[0].bn.num_batches_tracked.item())
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
