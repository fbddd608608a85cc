# expect: clean
"""Multi-label classification with RMSprop and BCEWithLogits with pos_weight."""

import torch
from torch import nn

torch.manual_seed(0)
X = torch.randn(1500, 12)
Y = (X[:, :4] > 0.8).float()
pos_weight = (1 - Y.mean(0)) / Y.mean(0)
model = nn.Sequential(nn.Linear(12, 48), nn.BatchNorm1d(48), nn.ReLU(), nn.Linear(48, 4))
opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.5)
crit = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
for _step in range(100):
    idx = torch.randint(0, 1500, (64,))
    opt.zero_grad()
    loss = crit(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
