# expect: clean
"""Multi-task model: two losses from two forward passes, two backward() calls, one step."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Linear(48, 24), nn.ReLU())
        self.cls_head = nn.Linear(24, 3)
        self.rec_head = nn.Linear(24, 12)

    def classify(self, x):
        return self.cls_head(self.trunk(x))

    def reconstruct(self, x):
        return self.rec_head(self.trunk(x))


torch.manual_seed(0)
model = MultiTask()
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
proto = torch.randn(3, 12)
for step in range(50):
    y = torch.randint(0, 3, (32,))
    x = proto[y] + 0.5 * torch.randn(32, 12)
    x_unlabeled = proto[torch.randint(0, 3, (64,))] + 0.5 * torch.randn(64, 12)

    optimizer.zero_grad()
    cls_loss = F.cross_entropy(model.classify(x), y)
    cls_loss.backward()
    noisy = x_unlabeled + 0.2 * torch.randn_like(x_unlabeled)
    rec_loss = 0.5 * F.mse_loss(model.reconstruct(noisy), x_unlabeled)
    rec_loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, f"{cls_loss.item():.3f} {rec_loss.item():.3f}")
