# expect: clean
"""Shared trunk, three heads: BCEWithLogits tags, CE class, MSE (N, 1) value."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MultiTask(nn.Module):
    def __init__(self, d_in=24, n_tags=5, n_cls=3):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Linear(d_in, 64), nn.LayerNorm(64), nn.GELU(), nn.Linear(64, 64), nn.GELU()
        )
        self.tags = nn.Linear(64, n_tags)
        self.cls = nn.Linear(64, n_cls)
        self.reg = nn.Linear(64, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.tags(h), self.cls(h), self.reg(h)


def batch(n=96):
    x = torch.randn(n, 24)
    tags = (x[:, :5] > 0.3).float()
    cls = x[:, 5:8].argmax(1)
    reg = x[:, 8:12].sum(1, keepdim=True) * 0.5
    return x, tags, cls, reg


model = MultiTask()
bce = nn.BCEWithLogitsLoss()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)

for step in range(70):
    x, tags, cls, reg = batch()
    tag_logits, cls_logits, reg_out = model(x)
    l_tag = bce(tag_logits, tags)
    l_cls = F.cross_entropy(cls_logits, cls)
    l_reg = F.mse_loss(reg_out, reg)
    loss = l_tag + l_cls + 0.5 * l_reg
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if step % 14 == 0:
        print(f"{step}: tag {l_tag.item():.3f} cls {l_cls.item():.3f} reg {l_reg.item():.3f}")
