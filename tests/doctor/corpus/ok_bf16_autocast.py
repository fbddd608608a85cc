# expect: clean
"""Mixed precision on CPU: bf16 autocast around forward and loss."""

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(32, 64), nn.GELU(), nn.LayerNorm(64), nn.Linear(64, 8))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
X = torch.randn(1024, 32)
Y = X[:, :8].argmax(1)
for _step in range(60):
    idx = torch.randint(0, 1024, (64,))
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(X[idx])
        loss = nn.functional.cross_entropy(logits, Y[idx])
    loss.backward()
    opt.step()
