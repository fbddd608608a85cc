# expect: loss-target-range @ F.cosine_embedding_loss
"""A sentence-pair encoder trained with CosineEmbeddingLoss and 0/1 "is similar" labels."""

import torch
from torch import nn

torch.manual_seed(36)
topics = torch.randn(4, 16)
enc = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 8))
loss_fn = nn.CosineEmbeddingLoss()
opt = torch.optim.SGD(enc.parameters(), lr=0.05)
for _step in range(40):
    t1 = torch.randint(0, 4, (32,))
    t2 = torch.randint(0, 4, (32,))
    a = topics[t1] + 0.2 * torch.randn(32, 16)
    b = topics[t2] + 0.2 * torch.randn(32, 16)
    similar = (t1 == t2).float()
    loss = loss_fn(enc(a), enc(b), similar)
    opt.zero_grad()
    loss.backward()
    opt.step()
