# expect: loss-stalled @ loss
"""Inputs and labels come from two zipped DataLoaders, each shuffled: pairs never match."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

torch.manual_seed(0)

N = 2048
features = torch.randn(N, 16)
labels = features[:, :4].argmax(1)

feature_loader = DataLoader(features, batch_size=128, shuffle=True)
label_loader = DataLoader(labels, batch_size=128, shuffle=True)

model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

step = 0
for epoch in range(8):
    for xb, yb in zip(feature_loader, label_loader, strict=True):
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        step += 1
    print(f"epoch {epoch} (step {step}) loss {loss.item():.4f}")
