# expect: param-not-in-optimizer @ classifier
"""The optimizer is built from model.features.parameters() only: the classifier never updates."""

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten()
        )
        self.classifier = nn.Linear(32, 4)

    def forward(self, x):
        return self.classifier(self.features(x))


torch.manual_seed(35)
model = Net()
optimizer = torch.optim.Adam(model.features.parameters(), lr=1e-3)
for _step in range(30):
    x = torch.randn(16, 1, 10, 10)
    y = (x[:, 0, :5].mean((1, 2)) > 0).long() * 2 + (x[:, 0, :, :5].mean((1, 2)) > 0).long()
    loss = nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
