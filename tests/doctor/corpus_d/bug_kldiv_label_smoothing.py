# expect: kldiv-input-not-log @ F.kl_div|nn.KLDivLoss
"""Label smoothing via nn.KLDivLoss, but the input is the softmax probabilities."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_CLASSES = 6
SMOOTH = 0.1


def smooth_targets(labels, n_classes, eps):
    t = torch.full((labels.size(0), n_classes), eps / (n_classes - 1))
    t.scatter_(1, labels.unsqueeze(1), 1.0 - eps)
    return t


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(24, 64)
        self.classifier = nn.Linear(64, N_CLASSES)

    def forward(self, x):
        return self.classifier(F.relu(self.hidden(x)))


centers = torch.randn(N_CLASSES, 24) * 2
model = Net()
criterion = nn.KLDivLoss(reduction="batchmean")
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

for it in range(70):
    labels = torch.randint(0, N_CLASSES, (64,))
    x = centers[labels] + torch.randn(64, 24)
    probs = F.softmax(model(x), dim=1)
    loss = criterion(probs, smooth_targets(labels, N_CLASSES, SMOOTH))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if it % 10 == 0:
        print(f"it {it}: kl {loss.item():.4f}")
