# expect: clean
"""Small transformer with padding_idx embeddings, label smoothing, AdamW and linear warmup."""

import torch
from torch import nn

PAD = 0


class Model(nn.Module):
    def __init__(self, vocab=60, d=32, n_cls=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, d, padding_idx=PAD)
        self.pos = nn.Parameter(torch.zeros(1, 16, d))
        layer = nn.TransformerEncoderLayer(d, 4, 64, dropout=0.1, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2)
        self.norm = nn.LayerNorm(d)
        self.cls = nn.Linear(d, n_cls)

    def forward(self, tok):
        mask = tok == PAD
        h = self.enc(self.emb(tok) + self.pos[:, : tok.shape[1]], src_key_padding_mask=mask)
        h = h.masked_fill(mask[..., None], 0).sum(1) / (~mask).sum(1, keepdim=True)
        return self.cls(self.norm(h))


torch.manual_seed(0)
model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
warmup = 20
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup))
crit = nn.CrossEntropyLoss(label_smoothing=0.1)
for _step in range(80):
    tok = torch.randint(1, 60, (16, 16))
    lengths = torch.randint(4, 17, (16,))
    tok[torch.arange(16)[None, :] >= lengths[:, None]] = PAD
    y = tok[:, 0] % 3
    opt.zero_grad()
    loss = crit(model(tok), y)
    loss.backward()
    opt.step()
    sched.step()
