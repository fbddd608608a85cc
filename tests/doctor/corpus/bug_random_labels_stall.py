# expect: loss-stalled @ loss
"""The label tensor is regenerated with randint each batch instead of indexed: nothing to learn."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(2048, 24)
labels = X[:, :6].argmax(1)
loader = DataLoader(TensorDataset(X, labels), batch_size=128, shuffle=True)
model = nn.Sequential(nn.Linear(24, 48), nn.ReLU(), nn.Linear(48, 6))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for _epoch in range(4):
    for xb, _ in loader:
        yb = torch.randint(0, 6, (xb.shape[0],))
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
