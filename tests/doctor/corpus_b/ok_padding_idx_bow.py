# expect: clean
"""Bag-of-embeddings sentiment toy with padding_idx=0 and padded batches (row 0 never learns)."""

import torch
import torch.nn as nn

torch.manual_seed(0)
VOCAB, PAD = 200, 0


def batch(n=32, max_len=12):
    lengths = torch.randint(3, max_len + 1, (n,))
    tokens = torch.randint(1, VOCAB, (n, max_len))
    mask = torch.arange(max_len)[None, :] < lengths[:, None]
    tokens = tokens.masked_fill(~mask, PAD)
    label = ((tokens % 7 == 0) & mask).sum(1).gt(1).long()
    return tokens, label, mask


class BagModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32, padding_idx=PAD)
        self.out = nn.Linear(32, 2)

    def forward(self, tokens, mask):
        e = self.emb(tokens) * mask.unsqueeze(-1)
        pooled = e.sum(1) / mask.sum(1, keepdim=True)
        return self.out(pooled)


model = BagModel()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _step in range(50):
    tokens, label, mask = batch()
    loss = nn.functional.cross_entropy(model(tokens, mask), label)
    opt.zero_grad()
    loss.backward()
    opt.step()
