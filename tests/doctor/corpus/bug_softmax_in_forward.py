# expect: softmax-before-cross-entropy @ F.cross_entropy
"""A small CNN whose forward() returns probabilities, fed to nn.CrossEntropyLoss."""

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.classifier = nn.Linear(16 * 4 * 4, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.classifier(x.flatten(1))
        return F.softmax(x, dim=1)


torch.manual_seed(0)
images = torch.randn(256, 1, 16, 16)
labels = torch.randint(0, 5, (256,))
model = SmallCNN()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for _epoch in range(3):
    for i in range(0, 256, 32):
        optimizer.zero_grad()
        loss = criterion(model(images[i : i + 32]), labels[i : i + 32])
        loss.backward()
        optimizer.step()
