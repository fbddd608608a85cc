# expect: vanishing-gradients @ layers.0.weight|layers.0
"""A 10-layer sigmoid MLP in a ModuleList, default init: gradients die before the first layers."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class DeepSigmoidNet(nn.Module):
    def __init__(self, d_in=16, width=48, depth=10):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.layers = nn.ModuleList(nn.Linear(dims[k], dims[k + 1]) for k in range(depth))
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        for layer in self.layers:
            x = torch.sigmoid(layer(x))
        return self.out(x)


X = torch.randn(1024, 16)
y = (X[:, 0] * X[:, 1] > 0).float().unsqueeze(1)

model = DeepSigmoidNet()
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for it in range(60):
    idx = torch.randint(0, 1024, (64,))
    loss = criterion(model(X[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if it % 20 == 0:
        print(f"iter {it}: loss {loss.item():.4f}")
