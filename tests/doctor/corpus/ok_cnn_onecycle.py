# expect: clean
"""CNN on synthetic images with BatchNorm, Dropout, OneCycleLR and a train/val loop."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
imgs = torch.randn(512, 1, 12, 12)
labels = (imgs[:, 0, :6].mean((1, 2)) > imgs[:, 0, 6:].mean((1, 2))).long()
train = DataLoader(TensorDataset(imgs[:448], labels[:448]), batch_size=32, shuffle=True)
val = DataLoader(TensorDataset(imgs[448:], labels[448:]), batch_size=64)
model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.BatchNorm2d(16),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Dropout(0.2),
    nn.Linear(16, 2),
)
epochs = 4
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * len(train))
crit = nn.CrossEntropyLoss()
for epoch in range(epochs):
    model.train()
    for xb, yb in train:
        opt.zero_grad()
        loss = crit(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        acc = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in val) / 64
    print(epoch, acc)
