# expect: nonfinite-forward @ norm
"""A per-feature standardiser divides by the batch std; one feature is constant, 0/0 = NaN."""

import torch
import torch.nn as nn


class Standardise(nn.Module):
    def forward(self, x):
        return (x - x.mean(0)) / x.std(0)


torch.manual_seed(0)
model = nn.Sequential()
model.add_module("norm", Standardise())
model.add_module("fc", nn.Linear(5, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for _step in range(8):
    x = torch.randn(32, 5)
    x[:, 4] = 1.0  # a bias column someone appended
    y = x[:, :2].sum(1, keepdim=True)
    opt.zero_grad()
    loss = nn.MSELoss()(model(x), y)
    loss.backward()
    opt.step()
