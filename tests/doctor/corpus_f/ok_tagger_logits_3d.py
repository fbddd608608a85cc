# expect: clean
"""Padded LSTM tagger: (B,T,C) logits flattened for F.cross_entropy with ignore_index."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, TAGS, SEQ, PAD = 40, 5, 10, 0


class LSTMTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 24, padding_idx=PAD)
        self.lstm = nn.LSTM(24, 32, batch_first=True, bidirectional=True)
        self.out = nn.Linear(64, TAGS)

    def forward(self, tokens):
        h, _ = self.lstm(self.embed(tokens))
        return self.out(h)


def make_batch(n=32):
    tokens = torch.randint(1, VOCAB, (n, SEQ))
    lengths = torch.randint(4, SEQ + 1, (n,))
    mask = torch.arange(SEQ)[None, :] < lengths[:, None]
    tokens = tokens.masked_fill(~mask, PAD)
    tags = (tokens % TAGS).masked_fill(~mask, -100)
    return tokens, tags


model = LSTMTagger()
opt = torch.optim.AdamW(model.parameters(), lr=5e-3)

for step in range(60):
    tokens, tags = make_batch()
    logits = model(tokens)
    loss = F.cross_entropy(logits.view(-1, TAGS), tags.view(-1), ignore_index=-100)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(step, round(loss.item(), 4))

with torch.no_grad():
    tokens, tags = make_batch(8)
    probs = F.softmax(model(tokens), dim=-1)
    pred = probs.argmax(-1)
    ok = (pred == tags)[tags != -100].float().mean()
    print("token accuracy", ok.item())
