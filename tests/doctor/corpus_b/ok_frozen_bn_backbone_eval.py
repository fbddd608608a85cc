# expect: clean
"""Transfer learning: a BatchNorm backbone frozen and kept in eval(); only the new head trains."""

import torch
import torch.nn as nn

torch.manual_seed(0)


def conv_bn(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()
    )


backbone = nn.Sequential(
    conv_bn(3, 16), nn.MaxPool2d(2), conv_bn(16, 32), nn.AdaptiveAvgPool2d(1), nn.Flatten()
)
head = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 5))
model = nn.Sequential(backbone, head)

for p in backbone.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.AdamW(head.parameters(), lr=3e-3)

model.train()
backbone.eval()  # keep the pretrained BatchNorm statistics
for _step in range(30):
    images = torch.randn(16, 3, 16, 16)
    targets = (images.mean(dim=(1, 2, 3)) > 0).long() + 2 * (
        images[:, 0].mean(dim=(1, 2)) > 0
    ).long()
    loss = nn.functional.cross_entropy(model(images), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
