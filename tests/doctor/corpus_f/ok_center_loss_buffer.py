# expect: clean
"""Center loss whose class centers are a buffer moved by hand under torch.no_grad()."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_CLS, FEAT = 4, 16


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(20, 48), nn.ReLU(), nn.Linear(48, FEAT))
        self.fc = nn.Linear(FEAT, N_CLS)
        self.register_buffer("centers", torch.zeros(N_CLS, FEAT))

    def forward(self, x):
        feat = self.backbone(x)
        return feat, self.fc(F.relu(feat))

    @torch.no_grad()
    def update_centers(self, feat, y, alpha=0.1):
        for c in y.unique():
            batch_mean = feat[y == c].mean(0)
            self.centers[c] += alpha * (batch_mean - self.centers[c])


X = torch.randn(1600, 20)
Y = (X[:, :N_CLS] * torch.tensor([1.0, 0.8, 1.2, 0.9])).argmax(1)

model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
lam = 0.05
for step in range(60):
    idx = torch.randint(0, 1600, (64,))
    x, y = X[idx], Y[idx]
    feat, logits = model(x)
    ce = F.cross_entropy(logits, y)
    center = ((feat - model.centers[y]) ** 2).sum(1).mean()
    loss = ce + lam * center
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.update_centers(feat.detach(), y)
    if step % 20 == 0:
        print(step, f"ce {ce.item():.4f} center {center.item():.4f}")
