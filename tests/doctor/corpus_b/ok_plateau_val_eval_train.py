# expect: clean
"""ReduceLROnPlateau on a validation loss; eval() for validation, train() back before training."""

import torch
import torch.nn as nn

torch.manual_seed(8)
Xtr, Xva = torch.randn(512, 8), torch.randn(128, 8)
f = lambda X: (X[:, 0] * X[:, 1] + X[:, 2:].sum(1)).unsqueeze(1)  # noqa: E731
ytr, yva = f(Xtr), f(Xva)

model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 1))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
crit = nn.MSELoss()


def evaluate():
    model.eval()
    with torch.no_grad():
        return crit(model(Xva), yva).item()


for epoch in range(6):
    model.train()
    perm = torch.randperm(512)
    for i in range(0, 512, 64):
        idx = perm[i : i + 64]
        loss = crit(model(Xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    val = evaluate()
    sched.step(val)
    print(f"epoch {epoch} val {val:.3f}")
