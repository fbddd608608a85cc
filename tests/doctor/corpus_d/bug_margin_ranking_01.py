# expect: loss-target-range @ F.margin_ranking_loss|nn.MarginRankingLoss
"""Pairwise ranker with nn.MarginRankingLoss; 'a above b' labels are {0, 1}, not {-1, 1}."""

import torch
import torch.nn as nn

torch.manual_seed(0)

DIM = 10
true_w = torch.randn(DIM)

scorer = nn.Sequential(nn.Linear(DIM, 32), nn.ReLU(), nn.Linear(32, 1))
rank_loss = nn.MarginRankingLoss(margin=0.5)
opt = torch.optim.Adam(scorer.parameters(), lr=1e-3)


def sample_pairs(n=128):
    a = torch.randn(n, DIM)
    b = torch.randn(n, DIM)
    a_better = (a @ true_w > b @ true_w).float()  # 1 if a should rank higher, else 0
    return a, b, a_better


for step in range(60):
    a, b, target = sample_pairs()
    s_a = scorer(a).squeeze(-1)
    s_b = scorer(b).squeeze(-1)
    loss = rank_loss(s_a, s_b, target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 15 == 0:
        print(f"step {step}: ranking loss {loss.item():.4f}")
