# expect: nll-input-not-log @ F.nll_loss|nn.NLLLoss
"""Character-level GRU language model trained with nn.NLLLoss on the decoder's raw scores."""

import torch
import torch.nn as nn

torch.manual_seed(0)

text = "the quick brown fox jumps over the lazy dog. " * 40
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])
V = len(chars)


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden=64):
        super().__init__()
        self.embedding = nn.Embedding(vocab, 32)
        self.rnn = nn.GRU(32, hidden, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, idx, h=None):
        out, h = self.rnn(self.embedding(idx), h)
        return self.decoder(out), h


model = CharRNN(V)
criterion = nn.NLLLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
seq_len, batch = 24, 16

for it in range(50):
    starts = torch.randint(0, len(data) - seq_len - 1, (batch,))
    inp = torch.stack([data[s : s + seq_len] for s in starts])
    tgt = torch.stack([data[s + 1 : s + seq_len + 1] for s in starts])
    scores, _ = model(inp)
    loss = criterion(scores.reshape(-1, V), tgt.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if it % 10 == 0:
        print(f"iter {it} loss {loss.item():.3f}")
