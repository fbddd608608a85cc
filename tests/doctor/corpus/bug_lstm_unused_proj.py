# expect: unused-parameter @ proj
"""LSTM classifier: a projection layer was added but forward() still uses the old path."""

import torch
from torch import nn


class SeqClf(nn.Module):
    def __init__(self, vocab=50, emb=16, hid=32, n_cls=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hid, batch_first=True)
        self.proj = nn.Linear(hid, hid)
        self.fc = nn.Linear(hid, n_cls)

    def forward(self, tokens):
        _out, (h, _c) = self.lstm(self.emb(tokens))
        return self.fc(h[-1])


torch.manual_seed(0)
model = SeqClf()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
for _step in range(20):
    tokens = torch.randint(0, 50, (16, 12))
    y = tokens[:, 0] % 3
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(tokens), y)
    loss.backward()
    opt.step()
