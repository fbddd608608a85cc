# expect: clean
"""Transformer classifier under CPU bf16 autocast, float32 loss, OneCycleLR after each step."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, D, SEQ, N_CLS = 48, 32, 16, 3


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.zeros(1, SEQ, D))
        layer = nn.TransformerEncoderLayer(D, 4, 64, dropout=0.1, batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, N_CLS)

    def forward(self, tokens):
        h = self.enc(self.tok(tokens) + self.pos)
        return self.head(self.norm(h[:, 0]))


tokens = torch.randint(0, VOCAB, (960, SEQ))
labels = (tokens[:, 1:4] % N_CLS).mode(dim=1).values

model = Classifier()
STEPS = 40
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=STEPS)
for step in range(STEPS):
    idx = torch.randint(0, 960, (32,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(tokens[idx])
    loss = F.cross_entropy(logits.float(), labels[idx])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
