# expect: clean
"""A linear SVM (hinge loss) on separable points: the loss hits exactly 0 after a few steps."""

import torch

torch.manual_seed(2)
pos = torch.randn(100, 2) + torch.tensor([4.0, 4.0])
neg = torch.randn(100, 2) - torch.tensor([4.0, 4.0])
X = torch.cat([pos, neg])
y = torch.cat([torch.ones(100), -torch.ones(100)])

clf = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(clf.parameters(), lr=0.1)
for _i in range(50):
    margin = y * clf(X).squeeze(1)
    loss = torch.clamp(1 - margin, min=0).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print("hinge loss", loss.item())
