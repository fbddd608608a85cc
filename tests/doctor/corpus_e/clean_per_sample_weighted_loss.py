# expect: clean
"""Per-sample losses with reduction='none' and per-sample weights: importance weights from a noisy-label estimate, a masked sequence loss averaged over real tokens, and hard-example reweighting whose weights are computed from the detached loss, all with matching shapes."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(13)

# sequence labelling: tag each position, padded batches
VOCAB, TAGS, T = 30, 4, 12


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 32, padding_idx=0)
        self.rnn = nn.GRU(32, 32, batch_first=True, bidirectional=True)
        self.out = nn.Linear(64, TAGS)

    def forward(self, tokens):
        h, _ = self.rnn(self.emb(tokens))
        return self.out(h)


def batch(n):
    lengths = torch.randint(4, T + 1, (n,))
    tokens = torch.randint(1, VOCAB, (n, T))
    mask = torch.arange(T)[None, :] < lengths[:, None]
    tokens = tokens * mask
    tags = tokens % TAGS
    # label noise on some sentences; trust per sentence
    noisy = torch.rand(n) < 0.2
    tags[noisy] = torch.randint(0, TAGS, (int(noisy.sum()), T))
    trust = torch.where(noisy, 0.3, 1.0)
    return tokens, tags, mask, trust


model = Tagger()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
for step in range(60):
    tokens, tags, mask, trust = batch(32)
    logits = model(tokens)  # (N, T, C)
    tok_loss = F.cross_entropy(logits.transpose(1, 2), tags, reduction="none")  # (N, T)
    tok_loss = tok_loss * mask
    sent_loss = tok_loss.sum(1) / mask.sum(1)  # (N,)
    hard = (sent_loss.detach() / sent_loss.detach().mean()).clamp(
        0.5, 2.0
    )  # focus on hard sentences
    weights = trust * hard  # (N,)
    loss = (weights * sent_loss).sum() / weights.sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 15 == 0 or step == 59:
        acc = ((logits.argmax(-1) == tags) & mask).sum() / mask.sum()
        print(f"step {step} weighted loss {loss.item():.4f} token acc {acc.item():.3f}")
