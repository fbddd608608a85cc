# expect: loss-target-range @ F.binary_cross_entropy_with_logits
"""Image autoencoder trained with BCE-with-logits on raw 0..255 pixel targets."""

import torch
from torch import nn

torch.manual_seed(0)
images = torch.randint(0, 256, (256, 1, 8, 8)).float()
model = nn.Sequential(
    nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 64), nn.Unflatten(1, (1, 8, 8))
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
crit = nn.BCEWithLogitsLoss()
for _epoch in range(2):
    for i in range(0, 256, 32):
        batch = images[i : i + 32]
        opt.zero_grad()
        loss = crit(model(batch / 255.0), batch)
        loss.backward()
        opt.step()
