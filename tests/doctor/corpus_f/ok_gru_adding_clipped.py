# expect: clean
"""GRU on the adding problem with Adam, clip_grad_norm_ and a cosine schedule after the step."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

T = 30


def batch(n=64):
    v = torch.rand(n, T)
    m = torch.zeros(n, T)
    m.scatter_(1, torch.rand(n, T).argsort(1)[:, :2], 1.0)
    return torch.stack([v, m], -1), (v * m).sum(1, keepdim=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(2, 48, batch_first=True)
        self.fc = nn.Linear(48, 1)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


STEPS = 60
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS)
for step in range(STEPS):
    x, y = batch()
    opt.zero_grad()
    loss = F.mse_loss(net(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), max_norm=1.0)
    opt.step()
    sched.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}")
