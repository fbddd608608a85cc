# expect: clean
"""Fine-tuning: the backbone is frozen, only the new head is optimised."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.backbone(x))


torch.manual_seed(0)
net = Net()
for p in net.backbone.parameters():
    p.requires_grad = False
opt = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.05, momentum=0.9)
X = torch.randn(800, 20)
Y = X[:, :4].argmax(1)
for _step in range(60):
    idx = torch.randint(0, 800, (64,))
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(X[idx]), Y[idx])
    loss.backward()
    opt.step()
