# expect: clean
"""LSTM language-ish model; clip_grad_norm_ at 0.25 is active at every step."""

import torch
from torch import nn


class LM(nn.Module):
    def __init__(self, vocab=30, d=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.rnn = nn.LSTM(d, d, num_layers=2, batch_first=True, dropout=0.1)
        self.out = nn.Linear(d, vocab)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h)


torch.manual_seed(0)
seq = torch.arange(0, 3000) % 30
model = LM()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
for _step in range(120):
    starts = torch.randint(0, 2900, (16,))
    batch = torch.stack([seq[s : s + 21] for s in starts])
    inp, tgt = batch[:, :-1], batch[:, 1:]
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(inp).reshape(-1, 30), tgt.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    opt.step()
