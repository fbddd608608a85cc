# expect: nonfinite-loss @ loss
"""Hand-written Poisson NLL rate - y*log(rate) where the ReLU'd rate can be exactly 0."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def poisson_nll(rate, counts):
    return (rate - counts * torch.log(rate)).mean()


torch.manual_seed(0)
x = torch.randn(512, 5)
true_rate = torch.exp(0.4 * x[:, :2].sum(1, keepdim=True))
counts = torch.poisson(true_rate)
loader = DataLoader(TensorDataset(x, counts), batch_size=64, shuffle=True)

model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1), nn.ReLU())
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

for epoch in range(5):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = poisson_nll(model(xb), yb)
        loss.backward()
        optimizer.step()
    print(epoch, loss.item())
