# expect: param-not-in-optimizer @ decoder
"""Autoencoder whose optimizer was given only the encoder's parameters."""

import torch
import torch.nn as nn


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 4))
        self.decoder = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 32))

    def forward(self, x):
        return self.decoder(self.encoder(x))


torch.manual_seed(0)
ae = AE()
optimizer = torch.optim.Adam(ae.encoder.parameters(), lr=1e-3)
data = torch.randn(512, 32)
for _epoch in range(3):
    for i in range(0, 512, 64):
        batch = data[i : i + 64]
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(ae(batch), batch)
        loss.backward()
        optimizer.step()
