# expect: clean
"""Sparse nn.Embedding (padding_idx=0) trained by SparseAdam, the dense layers by Adam."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class ItemScorer(nn.Module):
    def __init__(self, n_items=500, dim=16):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, padding_idx=0, sparse=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, history):
        mask = (history != 0).float().unsqueeze(-1)
        pooled = (self.items(history) * mask).sum(1) / mask.sum(1).clamp_min(1)
        return self.mlp(pooled).squeeze(-1)


torch.manual_seed(0)
model = ItemScorer()
sparse_opt = torch.optim.SparseAdam(list(model.items.parameters()), lr=5e-2)
dense_opt = torch.optim.Adam(model.mlp.parameters(), lr=5e-3)
liked = torch.rand(500) > 0.5

for step in range(60):
    lengths = torch.randint(1, 9, (64,))
    history = torch.randint(1, 500, (64, 8))
    history[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    valid = history != 0
    target = ((liked[history] & valid).sum(1).float() / valid.sum(1) > 0.5).float()
    sparse_opt.zero_grad()
    dense_opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(history), target)
    loss.backward()
    sparse_opt.step()
    dense_opt.step()
    if step % 15 == 0:
        print(step, f"{loss.item():.4f}")
