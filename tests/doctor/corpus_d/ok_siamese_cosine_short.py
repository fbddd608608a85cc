# expect: clean
"""Short (12-step) siamese run: CosineEmbedding + MarginRanking, targets in {-1, 1}."""

import torch
import torch.nn as nn

torch.manual_seed(0)

encoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 16))
cos_loss = nn.CosineEmbeddingLoss(margin=0.2)
rank_loss = nn.MarginRankingLoss(margin=0.1)
optimizer = torch.optim.SGD(encoder.parameters(), lr=0.05, momentum=0.9)
prototypes = torch.randn(8, 32)

for step in range(12):
    cls_a = torch.randint(0, 8, (64,))
    same = torch.rand(64) < 0.5
    cls_b = torch.where(same, cls_a, (cls_a + torch.randint(1, 8, (64,))) % 8)
    a = prototypes[cls_a] + 0.3 * torch.randn(64, 32)
    b = prototypes[cls_b] + 0.3 * torch.randn(64, 32)
    target = same.float() * 2 - 1  # +1 similar, -1 dissimilar

    za, zb = encoder(a), encoder(b)
    sim = nn.functional.cosine_similarity(za, zb)
    # ranking term: a similar pair's similarity should beat a dissimilar pair's
    perm = torch.randperm(64)
    rank_target = torch.sign(target - target[perm])
    keep = rank_target != 0
    loss = cos_loss(za, zb, target) + rank_loss(sim[keep], sim[perm][keep], rank_target[keep])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step:2d} loss {loss.item():.4f}")
