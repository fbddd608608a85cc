# expect: clean
"""A GRU language model whose output layer shares the embedding weight."""

import torch
from torch import nn


class TiedLM(nn.Module):
    def __init__(self, vocab=40, d=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.rnn = nn.GRU(d, d, batch_first=True)
        self.decoder = nn.Linear(d, vocab)
        self.decoder.weight = self.embed.weight

    def forward(self, x):
        h, _ = self.rnn(self.embed(x))
        return self.decoder(h)


torch.manual_seed(0)
text = (torch.arange(4000) * 7) % 40
lm = TiedLM()
opt = torch.optim.Adam(lm.parameters(), lr=3e-3)
for _step in range(80):
    s = torch.randint(0, 3900, (8,))
    b = torch.stack([text[i : i + 17] for i in s])
    opt.zero_grad()
    loss = nn.functional.cross_entropy(lm(b[:, :-1]).transpose(1, 2), b[:, 1:])
    loss.backward()
    opt.step()
