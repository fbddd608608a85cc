# expect: clean
"""Recommender: sparse embeddings with SparseAdam, dense part with Adam."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

N_USERS, N_ITEMS, DIM = 200, 150, 16


class Recommender(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(N_USERS, DIM, sparse=True)
        self.item = nn.Embedding(N_ITEMS, DIM, sparse=True)
        self.mlp = nn.Sequential(nn.Linear(2 * DIM, 32), nn.ReLU(), nn.Linear(32, 1))
        self.global_bias = nn.Parameter(torch.zeros(1))

    def forward(self, u, i):
        eu, ei = self.user(u), self.item(i)
        dot = (eu * ei).sum(-1)
        return dot + self.mlp(torch.cat([eu, ei], -1)).squeeze(-1) + self.global_bias


true_u = torch.randn(N_USERS, 4)
true_i = torch.randn(N_ITEMS, 4)
model = Recommender()
sparse_params = list(model.user.parameters()) + list(model.item.parameters())
dense_params = [*model.mlp.parameters(), model.global_bias]
opt_sparse = torch.optim.SparseAdam(sparse_params, lr=3e-2)
opt_dense = torch.optim.Adam(dense_params, lr=3e-3)

for step in range(60):
    u = torch.randint(0, N_USERS, (128,))
    i = torch.randint(0, N_ITEMS, (128,))
    rating = (true_u[u] * true_i[i]).sum(-1)
    loss = F.mse_loss(model(u, i), rating)
    opt_sparse.zero_grad()
    opt_dense.zero_grad()
    loss.backward()
    opt_sparse.step()
    opt_dense.step()
    if step % 20 == 0:
        print(f"step {step}: mse {loss.item():.4f}")
