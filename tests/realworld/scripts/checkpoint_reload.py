"""A classifier saved as a whole with ``torch.save(model, PATH)`` whenever validation improves,
plus a full training checkpoint every epoch, both loaded back at the end (in the style of the
"Saving and loading models" tutorial)."""

import hashlib

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.bn1 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.bn1(self.fc1(x))))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(0)
centers = torch.randn(3, 20) * 2
labels = torch.randint(0, 3, (256,))
inputs = centers[labels] + torch.randn(256, 20) * 2
train_x, train_y = inputs[:192], labels[:192]
val_x, val_y = inputs[192:], labels[192:]

model = Net()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()
losses = []
best_acc = -1.0
for epoch in range(4):
    model.train()
    perm = torch.randperm(len(train_x))
    for i in range(0, len(train_x), 32):
        idx = perm[i : i + 32]
        optimizer.zero_grad()
        loss = criterion(model(train_x[idx]), train_y[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(val_x).argmax(1) == val_y).float().mean().item()
    print(f"epoch {epoch} loss {losses[-1]:.10f} val_acc {acc:.4f}")
    if acc > best_acc:
        best_acc = acc
        torch.save(model, "best_model.pt")
    torch.save(
        {
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "loss": losses[-1],
        },
        "checkpoint.pt",
    )

best = torch.load("best_model.pt", weights_only=False)
best.eval()
checkpoint = torch.load("checkpoint.pt")
resumed = Net()
resumed.load_state_dict(checkpoint["model_state_dict"])
resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=1e-2)
resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
with torch.no_grad():
    best_acc_again = (best(val_x).argmax(1) == val_y).float().mean().item()
print(f"best model reloaded: val_acc {best_acc_again:.4f} (saved {best_acc:.4f})")
same = all(
    torch.equal(a, b)
    for a, b in zip(resumed.state_dict().values(), model.state_dict().values(), strict=True)
)
print("checkpoint epoch", checkpoint["epoch"], "equal:", same)
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
