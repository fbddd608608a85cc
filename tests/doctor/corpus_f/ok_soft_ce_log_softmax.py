# expect: clean
"""Hand-written soft-label CE with F.log_softmax and label smoothing on standardised features."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

C = 6
centers = torch.randn(C, 12) * 2
labels = torch.randint(0, C, (1800,))
raw = (centers[labels] + torch.randn(1800, 12)) * 30.0
mean, std = raw.mean(0, keepdim=True), raw.std(0, keepdim=True)
feats = (raw - mean) / std


def smoothed_targets(y, eps=0.1):
    t = torch.full((len(y), C), eps / (C - 1))
    t.scatter_(1, y[:, None], 1.0 - eps)
    return t


def soft_ce(logits, target):
    return -(target * F.log_softmax(logits, dim=1)).sum(1).mean()


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(12, 48)
        self.act = nn.SiLU()
        self.out = nn.Linear(48, C)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


model = Classifier()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(60):
    idx = torch.randint(0, len(feats), (64,))
    loss = soft_ce(model(feats[idx]), smoothed_targets(labels[idx]))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}")
