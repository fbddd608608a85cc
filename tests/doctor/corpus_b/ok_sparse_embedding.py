# expect: clean
"""Matrix factorisation with sparse embeddings (sparse=True) and SparseAdam."""

import torch
import torch.nn as nn

torch.manual_seed(48)
users, items, k = 100, 80, 8
U, V = torch.randn(users, k), torch.randn(items, k)


class MF(nn.Module):
    def __init__(self):
        super().__init__()
        self.u = nn.Embedding(users, k, sparse=True)
        self.v = nn.Embedding(items, k, sparse=True)

    def forward(self, u, i):
        return (self.u(u) * self.v(i)).sum(-1)


mf = MF()
opt = torch.optim.SparseAdam(mf.parameters(), lr=0.02)
for _step in range(40):
    u = torch.randint(0, users, (256,))
    i = torch.randint(0, items, (256,))
    r = (U[u] * V[i]).sum(-1)
    loss = ((mf(u, i) - r) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
