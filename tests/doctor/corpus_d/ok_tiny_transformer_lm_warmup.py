# expect: clean
"""Tiny causal transformer LM; AdamW with warmup+cosine LambdaLR per batch."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

VOCAB, CTX, D = 16, 16, 32


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Embedding(CTX, D)
        block = nn.TransformerEncoderLayer(
            D, nhead=2, dim_feedforward=64, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, num_layers=2, enable_nested_tensor=False)
        self.ln_f = nn.LayerNorm(D)
        self.lm_head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, idx):
        T = idx.size(1)
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        h = self.tok(idx) + self.pos(torch.arange(T))
        h = self.blocks(h, mask=mask, is_causal=True)
        return self.lm_head(self.ln_f(h))


def get_batch(bs=32):
    # sequences count up modulo VOCAB with a random start and stride 1 or 3
    start = torch.randint(0, VOCAB, (bs, 1))
    stride = torch.where(torch.rand(bs, 1) < 0.5, 1, 3)
    seq = (start + stride * torch.arange(CTX + 1)) % VOCAB
    return seq[:, :-1], seq[:, 1:]


model = TinyLM()
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
WARMUP, TOTAL = 8, 40
sched = torch.optim.lr_scheduler.LambdaLR(
    optimizer,
    lambda s: (
        (s + 1) / WARMUP
        if s < WARMUP
        else 0.5 * (1 + math.cos(math.pi * (s - WARMUP) / (TOTAL - WARMUP)))
    ),
)

for step in range(TOTAL):
    x, y = get_batch()
    logits = model(x)
    loss = F.cross_entropy(logits.view(-1, VOCAB), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    sched.step()
    if step % 10 == 0:
        print(f"step {step} lr {sched.get_last_lr()[0]:.5f} loss {loss.item():.4f}")
