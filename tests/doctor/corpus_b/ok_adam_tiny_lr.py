# expect: clean
"""Fine-tuning style: Adam at lr=1e-5 on a pretrained-looking MLP for 40 steps (moves slowly)."""

import torch
from torch import nn

torch.manual_seed(3)
model = nn.Sequential(nn.Linear(20, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 3))
opt = torch.optim.Adam(model.parameters(), lr=1e-5)
w_true = torch.randn(20, 3)

for _it in range(40):
    x = torch.randn(64, 20)
    y = (x @ w_true).argmax(dim=1)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
print("final", loss.item())
