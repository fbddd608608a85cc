# expect: clean
"""Transfer learning: frozen BatchNorm backbone kept in eval mode; only the new head trains."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def make_backbone():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, padding=1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )


class Finetune(nn.Module):
    def __init__(self, backbone, n_classes=3):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(16, n_classes)

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()  # keep pretrained BN statistics
        return self

    def forward(self, x):
        return self.head(self.backbone(x))


torch.manual_seed(0)
backbone = make_backbone()
with torch.no_grad():  # stand-in for pretrained statistics
    backbone(torch.randn(256, 1, 12, 12))
backbone.requires_grad_(False)
model = Finetune(backbone)
optimizer = torch.optim.Adam(model.head.parameters(), lr=3e-2)

for epoch in range(3):
    model.train()
    for _ in range(15):
        y = torch.randint(0, 3, (32,))
        x = torch.randn(32, 1, 12, 12)
        x += y.float()[:, None, None, None] * 1.0
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        y = torch.randint(0, 3, (64,))
        x = torch.randn(64, 1, 12, 12) + y.float()[:, None, None, None] * 1.0
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(epoch, f"{loss.item():.3f}", f"acc {acc:.2f}")
