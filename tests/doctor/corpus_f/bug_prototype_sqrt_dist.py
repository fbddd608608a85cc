# expect: nonfinite-grad @ dist|encoder.2|encoder
"""Parameterless pairwise-distance module: sqrt at the zero diagonal is NaN in backward only."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class PairwiseDistance(nn.Module):
    def forward(self, z):
        diff = z[:, None, :] - z[None, :, :]
        return torch.sqrt((diff**2).sum(-1))


class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 8))
        self.dist = PairwiseDistance()

    def forward(self, x):
        return self.dist(self.encoder(x))


def contrastive_loss(d, labels, margin=1.0):
    same = (labels[:, None] == labels[None, :]).float()
    off_diag = 1.0 - torch.eye(len(labels))
    pos = same * off_diag * d.pow(2)
    neg = (1 - same) * torch.relu(margin - d).pow(2)
    return (pos + neg).sum() / off_diag.sum()


classes = torch.randn(4, 10)
labels_all = torch.randint(0, 4, (600,))
data = classes[labels_all] + 0.5 * torch.randn(600, 10)

model = Embedder()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(30):
    idx = torch.randint(0, 600, (32,))
    d = model(data[idx])
    loss = contrastive_loss(d, labels_all[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, loss.item())
