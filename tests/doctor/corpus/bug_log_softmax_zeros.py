# expect: nonfinite-loss @ loss
"""Hand-written cross-entropy as -log(softmax(x)); confident logits make softmax exactly 0."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
with torch.no_grad():
    model[2].weight.mul_(60.0)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
for _step in range(10):
    x = torch.randn(64, 6) * 5
    y = torch.randint(0, 3, (64,))
    probs = torch.softmax(model(x), dim=1)
    loss = -torch.log(probs[torch.arange(64), y]).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
