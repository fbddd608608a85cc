# expect: clean
"""Tiny ViT with configurable register tokens; 0 registers gives a zero-element parameter."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ViTConfig:
    patch: int = 4
    image: int = 16
    dim: int = 32
    depth: int = 2
    heads: int = 4
    num_registers: int = 0
    n_classes: int = 4


class TinyViT(nn.Module):
    def __init__(self, cfg: ViTConfig):
        super().__init__()
        n_patches = (cfg.image // cfg.patch) ** 2
        self.patch_embed = nn.Conv2d(1, cfg.dim, cfg.patch, stride=cfg.patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.registers = nn.Parameter(torch.zeros(1, cfg.num_registers, cfg.dim))
        self.pos = nn.Parameter(torch.randn(1, n_patches + 1, cfg.dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            cfg.dim, cfg.heads, 2 * cfg.dim, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.n_classes)

    def forward(self, img):
        x = self.patch_embed(img).flatten(2).transpose(1, 2)
        b = x.shape[0]
        x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1) + self.pos
        x = torch.cat([x, self.registers.expand(b, -1, -1)], dim=1)
        x = self.blocks(x)
        return self.head(self.norm(x[:, 0]))


torch.manual_seed(0)
cfg = ViTConfig()
model = TinyViT(cfg)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
for _ in range(25):
    y = torch.randint(0, 4, (32,))
    img = torch.randn(32, 1, 16, 16) * 0.5
    for q in range(4):
        r, c = divmod(q, 2)
        img[y == q, :, r * 8 : r * 8 + 8, c * 8 : c * 8 + 8] += 1.0
    optimizer.zero_grad()
    loss = F.cross_entropy(model(img), y)
    loss.backward()
    optimizer.step()
print("loss", loss.item())
