# expect: clean
"""Mixed precision on CPU: forward under torch.autocast(bfloat16), fp32 master weights."""

import torch
import torch.nn as nn

torch.manual_seed(13)
net = nn.Sequential(
    nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
centers = torch.randn(10, 32) * 2
for _step in range(40):
    y = torch.randint(0, 10, (64,))
    x = centers[y] + torch.randn(64, 32)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        logits = net(x)
        loss = nn.functional.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
