# expect: clean
"""Conv autoencoder (strided conv, ConvTranspose decoder) trained with MSE on blobs."""

import torch
import torch.nn as nn

torch.manual_seed(0)


def blobs(n, size=16):
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    cx = torch.rand(n, 1, 1) * (size - 4) + 2
    cy = torch.rand(n, 1, 1) * (size - 4) + 2
    r = torch.rand(n, 1, 1) * 2 + 1.5
    return torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r**2)).unsqueeze(1)


encoder = nn.Sequential(
    nn.Conv2d(1, 8, 3, stride=2, padding=1),  # 8x8
    nn.ReLU(),
    nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 4x4
    nn.ReLU(),
)
decoder = nn.Sequential(
    nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1),  # 8x8
    nn.ReLU(),
    nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1),  # 16x16
)
autoencoder = nn.Sequential(encoder, decoder)
optimizer = torch.optim.Adam(autoencoder.parameters(), lr=3e-3)
criterion = nn.MSELoss()

data = blobs(512)
for epoch in range(5):
    perm = torch.randperm(512)
    for i in range(0, 512, 64):
        batch = data[perm[i : i + 64]]
        optimizer.zero_grad()
        loss = criterion(autoencoder(batch), batch)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: recon mse {loss.item():.5f}")
