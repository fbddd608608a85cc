# expect: clean
"""Sequential ends in Sigmoid for inference; training feeds net[:-1] logits to BCEWithLogitsLoss."""

import torch
import torch.nn as nn

torch.manual_seed(0)

x = torch.randn(800, 10)
y = ((x[:, 0] - x[:, 1] + 0.2 * x[:, 2] ** 2) > 0).float()

net = nn.Sequential(
    nn.Linear(10, 32),
    nn.Tanh(),
    nn.Linear(32, 1),
    nn.Sigmoid(),
)
logits_net = net[:-1]  # shares the parameters, stops before the sigmoid
loss_fn = nn.BCEWithLogitsLoss()
opt = torch.optim.SGD(net.parameters(), lr=0.2, momentum=0.9)

for step in range(60):
    idx = torch.randint(0, 800, (64,))
    logits = logits_net(x[idx]).squeeze(1)
    loss = loss_fn(logits, y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 15 == 0:
        print(step, f"{loss.item():.4f}")

with torch.no_grad():
    p = net(x[:200]).squeeze(1)
    print("accuracy", ((p > 0.5).float() == y[:200]).float().mean().item())
