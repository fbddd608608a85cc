# expect: nll-input-not-log @ F.nll_loss
"""Tiny transformer classifier; nn.NLLLoss applied to raw logits."""

import torch
from torch import nn


class TinyTransformer(nn.Module):
    def __init__(self, vocab=40, d=32, n_cls=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=64, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, num_layers=1)
        self.cls = nn.Linear(d, n_cls)

    def forward(self, tok):
        return self.cls(self.enc(self.emb(tok)).mean(1))


torch.manual_seed(0)
model = TinyTransformer()
crit = nn.NLLLoss()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
for _step in range(20):
    tok = torch.randint(0, 40, (16, 10))
    y = tok[:, 0] % 4
    opt.zero_grad()
    loss = crit(model(tok), y)
    loss.backward()
    opt.step()
