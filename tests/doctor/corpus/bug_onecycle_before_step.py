# expect: scheduler-order @ OneCycleLR
"""OneCycleLR stepped before the optimizer in every iteration."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 4))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
steps = 50
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
data = torch.randn(800, 16)
target = data[:, :4].argmax(1)
for _i in range(steps):
    idx = torch.randint(0, 800, (32,))
    optimizer.zero_grad()
    loss = nn.CrossEntropyLoss()(model(data[idx]), target[idx])
    loss.backward()
    scheduler.step()
    optimizer.step()
