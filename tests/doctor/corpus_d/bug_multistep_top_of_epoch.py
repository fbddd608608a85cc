# expect: scheduler-order @ MultiStepLR
"""Small CNN; MultiStepLR stepped at the top of each epoch, before the optimizer steps."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

# 8x8 single-channel "images": class 0 has a bright top half, class 1 a bright bottom half
n = 256
labels = torch.randint(0, 2, (n,))
images = torch.randn(n, 1, 8, 8) * 0.5
images[labels == 0, :, :4] += 1.0
images[labels == 1, :, 4:] += 1.0
loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True)

net = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(16, 2),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 4], gamma=0.1)

for epoch in range(5):
    scheduler.step()
    net.train()
    correct = 0
    for images_b, labels_b in loader:
        optimizer.zero_grad()
        outputs = net(images_b)
        loss = criterion(outputs, labels_b)
        loss.backward()
        optimizer.step()
        correct += (outputs.argmax(1) == labels_b).sum().item()
    print(f"epoch {epoch} lr {scheduler.get_last_lr()[0]:.4f} acc {correct / n:.3f}")
