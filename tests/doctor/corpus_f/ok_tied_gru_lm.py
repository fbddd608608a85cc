# expect: clean
"""GRU LM with decoder.weight tied to the embedding, truncated BPTT (detached hidden), clipping."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, EMB, BPTT, BATCH = 60, 48, 16, 16


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(VOCAB, EMB)
        self.rnn = nn.GRU(EMB, EMB, batch_first=True)
        self.decoder = nn.Linear(EMB, VOCAB)
        self.decoder.weight = self.encoder.weight

    def forward(self, x, h=None):
        out, h = self.rnn(self.encoder(x), h)
        return self.decoder(out), h


# a corpus with structure: each token mostly followed by (t * 7 + 3) % VOCAB
stream = [0]
g = torch.Generator().manual_seed(1)
for _ in range(BATCH * BPTT * 12):
    nxt = (
        (stream[-1] * 7 + 3) % VOCAB
        if torch.rand(1, generator=g) < 0.8
        else int(torch.randint(VOCAB, (1,), generator=g))
    )
    stream.append(nxt)
data = torch.tensor(stream[: BATCH * (len(stream) // BATCH)]).view(BATCH, -1)

model = TiedLM()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
hidden = None
for epoch in range(2):
    for i in range(0, data.size(1) - 1 - BPTT, BPTT):
        x, y = data[:, i : i + BPTT], data[:, i + 1 : i + 1 + BPTT]
        if hidden is not None:
            hidden = hidden.detach()
        logits, hidden = model(x, hidden)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
    print(f"epoch {epoch} ppl {loss.exp().item():.2f}")
