# expect: softmax-before-cross-entropy @ head.2|head|F.cross_entropy
"""Tiny transformer classifier: head ends in nn.Softmax, loss is CrossEntropyLoss."""

import torch
import torch.nn as nn

torch.manual_seed(0)

VOCAB, SEQ, D_MODEL, N_CLASSES = 50, 12, 32, 3


class SeqClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Parameter(torch.zeros(1, SEQ, D_MODEL))
        layer = nn.TransformerEncoderLayer(D_MODEL, nhead=4, dim_feedforward=64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Sequential(
            nn.LayerNorm(D_MODEL),
            nn.Linear(D_MODEL, N_CLASSES),
            nn.Softmax(dim=-1),
        )

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(dim=1))


def make_batch(n=32):
    tokens = torch.randint(0, VOCAB, (n, SEQ))
    # class = which third of the vocabulary is most frequent in the sequence
    labels = torch.stack(
        [(tokens < 17).sum(1), ((tokens >= 17) & (tokens < 34)).sum(1), (tokens >= 34).sum(1)], 1
    ).argmax(1)
    return tokens, labels


model = SeqClassifier()
criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

for step in range(40):
    tokens, labels = make_batch()
    probs = model(tokens)
    loss = criterion(probs, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        acc = (probs.argmax(1) == labels).float().mean()
        print(f"step {step} loss {loss.item():.4f} acc {acc:.2f}")
