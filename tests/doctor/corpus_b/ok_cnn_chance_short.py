# expect: clean
"""A small CNN on ten synthetic blob classes, plain SGD, 32 steps: still near chance at the end.

Slow but correct: the lr is modest and the run is short, so the loss barely leaves log(10).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def make_batch(n):
    labels = torch.randint(0, 10, (n,))
    images = torch.randn(n, 1, 16, 16) * 0.5
    for i, c in enumerate(labels.tolist()):
        r, q = divmod(c, 4)
        images[i, 0, 4 * r : 4 * r + 4, 4 * q : 4 * q + 4] += 1.0
    return images, labels


torch.manual_seed(1)
net = SmallCNN()
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
for step in range(32):
    x, y = make_batch(32)
    optimizer.zero_grad()
    loss = criterion(net(x), y)
    loss.backward()
    optimizer.step()
    if step % 8 == 0:
        print(f"step {step} loss {loss.item():.4f}")
