# expect: softmax-before-cross-entropy @ F.cross_entropy
"""MLP over a DataLoader; the logits are softmaxed (dim=-1) before F.cross_entropy."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

N, D, C = 1024, 20, 5
X = torch.randn(N, D)
W_true = torch.randn(D, C)
y = (X @ W_true).argmax(dim=1)
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)

model = nn.Sequential(nn.Linear(D, 64), nn.ReLU(), nn.Linear(64, C))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_one_epoch(model, loader, opt):
    model.train()
    total = 0.0
    for xb, yb in loader:
        logits = model(xb)
        probs = F.softmax(logits, dim=-1)
        loss = F.cross_entropy(probs, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * xb.size(0)
    return total / len(loader.dataset)


for epoch in range(5):
    avg = train_one_epoch(model, loader, opt)
    print(f"epoch {epoch}: loss {avg:.4f}")
