# expect: clean
"""Pretrained embedding frozen with requires_grad_(False) but still passed to the optimizer."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, DIM, N_CLS = 200, 32, 3
pretrained = torch.randn(VOCAB, DIM)


class BagClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(
            pretrained.clone(), freeze=False, padding_idx=0
        )
        self.embedding.requires_grad_(False)  # keep the pretrained vectors fixed
        self.mlp = nn.Sequential(
            nn.Linear(DIM, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, N_CLS)
        )

    def forward(self, tokens):
        mask = (tokens != 0).float().unsqueeze(-1)
        summed = (self.embedding(tokens) * mask).sum(1)
        return self.mlp(summed / mask.sum(1).clamp_min(1.0))


tokens = torch.randint(1, VOCAB, (1500, 16))
tokens[:, 12:] = 0  # padding
labels = (pretrained[tokens[:, :12]].mean(1) @ torch.randn(DIM, N_CLS)).argmax(1)

model = BagClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
for step in range(60):
    idx = torch.randint(0, 1500, (48,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(tokens[idx]), labels[idx])
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}")
assert model.embedding.weight.grad is None
