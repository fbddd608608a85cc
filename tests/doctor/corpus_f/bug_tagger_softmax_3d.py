# expect: softmax-before-cross-entropy @ nn.CrossEntropyLoss|CrossEntropyLoss|F.cross_entropy
"""GRU tagger returns F.softmax(dim=-1) of (B,T,C) scores, reshaped into nn.CrossEntropyLoss."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

VOCAB, TAGS, SEQ = 50, 6, 12


class Tagger(nn.Module):
    def __init__(self, vocab, tags, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.gru = nn.GRU(dim, dim, batch_first=True)
        self.proj = nn.Linear(dim, tags)

    def forward(self, tokens):
        h, _ = self.gru(self.embed(tokens))
        scores = self.proj(h)  # (B, T, C)
        return F.softmax(scores, dim=-1)  # "tag distribution per token"


tokens = torch.randint(0, VOCAB, (512, SEQ))
tags = tokens % TAGS  # a learnable token -> tag rule
loader = DataLoader(TensorDataset(tokens, tags), batch_size=32, shuffle=True)

model = Tagger(VOCAB, TAGS)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(2):
    total = 0.0
    for x, y in loader:
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out.reshape(-1, TAGS), y.reshape(-1))
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: loss {total / len(loader):.4f}")
