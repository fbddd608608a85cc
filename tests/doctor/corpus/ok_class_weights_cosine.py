# expect: clean
"""Imbalanced classes: weighted cross-entropy, CosineAnnealingLR, 200 steps."""

import torch
from torch import nn

torch.manual_seed(0)
X = torch.randn(2000, 8)
score = X[:, 0] + 0.5 * X[:, 1]
Y = torch.bucketize(score, torch.tensor([-1.5, 1.0]))
counts = torch.bincount(Y, minlength=3).float()
weights = counts.sum() / (3 * counts)
model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 3))
crit = nn.CrossEntropyLoss(weight=weights)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=200)
for _step in range(200):
    idx = torch.randint(0, 2000, (64,))
    opt.zero_grad()
    loss = crit(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    sched.step()
