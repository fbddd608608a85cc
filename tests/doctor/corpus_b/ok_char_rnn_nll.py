# expect: clean
"""Char-level RNN language model: LogSoftmax output layer and NLLLoss."""

import torch
import torch.nn as nn

text = "the quick brown fox jumps over the lazy dog " * 20
chars = sorted(set(text))
idx = torch.tensor([chars.index(c) for c in text])


class CharRNN(nn.Module):
    def __init__(self, v, h=48):
        super().__init__()
        self.embed = nn.Embedding(v, 16)
        self.rnn = nn.RNN(16, h, batch_first=True)
        self.decoder = nn.Linear(h, v)
        self.log_softmax = nn.LogSoftmax(dim=-1)

    def forward(self, x):
        out, _ = self.rnn(self.embed(x))
        return self.log_softmax(self.decoder(out))


torch.manual_seed(17)
model = CharRNN(len(chars))
criterion = nn.NLLLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
seq = 24
for _step in range(40):
    starts = torch.randint(0, len(idx) - seq - 1, (16,))
    inp = torch.stack([idx[s : s + seq] for s in starts])
    tgt = torch.stack([idx[s + 1 : s + seq + 1] for s in starts])
    out = model(inp)
    loss = criterion(out.reshape(-1, len(chars)), tgt.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
