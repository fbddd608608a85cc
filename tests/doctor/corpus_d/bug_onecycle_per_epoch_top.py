# expect: scheduler-order @ OneCycleLR
"""OneCycleLR sized in epochs, stepped at the start of each epoch before optimizer.step()."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

EPOCHS, BATCHES = 8, 10

X = torch.randn(BATCHES * 32, 16)
Y = (X[:, :4].sum(1) > 0).long()

model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=EPOCHS + 1)

for epoch in range(EPOCHS):
    scheduler.step()
    model.train()
    perm = torch.randperm(X.size(0))
    for b in range(BATCHES):
        idx = perm[b * 32 : (b + 1) * 32]
        loss = F.cross_entropy(model(X[idx]), Y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} lr {optimizer.param_groups[0]['lr']:.4f} loss {loss.item():.4f}")
