# expect: clean
"""CNN: conv -> BatchNorm -> ReLU -> Dropout2d; F.dropout only before the final Linear."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 12, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(12)
        self.drop1 = nn.Dropout2d(0.1)
        self.conv2 = nn.Conv2d(12, 24, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(24)
        self.fc = nn.Linear(24, n_classes)

    def forward(self, x):
        x = self.drop1(F.relu(self.bn1(self.conv1(x))))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        x = F.dropout(x, p=0.3, training=self.training)
        return self.fc(x)


def make_images(n):
    labels = torch.randint(0, 3, (n,))
    imgs = torch.randn(n, 1, 10, 10) * 0.3
    for k in range(3):
        imgs[labels == k, 0, :, 3 * k : 3 * k + 3] += (
            1.0  # a bright vertical stripe at a class-specific column
        )
    return imgs, labels


x_train, y_train = make_images(320)
x_val, y_val = make_images(96)
model = SmallCNN()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(4):
    model.train()
    for i in range(0, 320, 32):
        logits = model(x_train[i : i + 32])
        loss = F.cross_entropy(logits, y_train[i : i + 32])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x_val).argmax(1) == y_val).float().mean().item()
    print(f"epoch {epoch}: loss {loss.item():.3f} val acc {acc:.3f}")
