# expect: clean
"""Char LSTM LM: tied embeddings, truncated BPTT (hidden state detached), grad clipping."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class CharLM(nn.Module):
    def __init__(self, vocab, dim=48):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, dim, num_layers=2, batch_first=True, dropout=0.1)
        self.drop = nn.Dropout(0.1)
        self.decoder = nn.Linear(dim, vocab)
        self.decoder.weight = self.embed.weight

    def forward(self, idx, state=None):
        h, state = self.lstm(self.drop(self.embed(idx)), state)
        return self.decoder(self.drop(h)), state


text = "the quick brown fox jumps over the lazy dog. " * 60
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])

torch.manual_seed(0)
batch, bptt = 8, 20
n = len(data) // batch
streams = data[: n * batch].view(batch, n)
model = CharLM(len(chars))
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)

model.train()
for epoch in range(2):
    state = None
    for i in range(0, n - 1 - bptt, bptt):
        x = streams[:, i : i + bptt]
        y = streams[:, i + 1 : i + 1 + bptt]
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
    print(epoch, f"{loss.item():.3f}")
