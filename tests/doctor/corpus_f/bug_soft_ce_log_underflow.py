# expect: nonfinite-loss @ loss
"""Hand-written CE -(onehot * log(softmax)) on raw-unit features: a probability hits 0, NaN loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_CLASSES = 5
centers = torch.randn(N_CLASSES, 16)
labels = torch.randint(0, N_CLASSES, (2000,))
# raw sensor readings (tens of units), never standardised
readings = (centers[labels] + torch.randn(2000, 16)) * 40.0

model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, N_CLASSES))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


def soft_cross_entropy(logits, target_dist):
    probs = torch.softmax(logits, dim=1)
    return -(target_dist * torch.log(probs)).sum(dim=1).mean()


for step in range(40):
    idx = torch.randint(0, 2000, (64,))
    targets = F.one_hot(labels[idx], N_CLASSES).float()
    optimizer.zero_grad()
    loss = soft_cross_entropy(model(readings[idx]), targets)
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
