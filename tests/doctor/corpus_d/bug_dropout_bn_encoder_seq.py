# expect: dropout-before-batchnorm @ encoder.2
"""Autoencoder whose nn.Sequential encoder puts nn.Dropout directly before BatchNorm1d."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class AutoEncoder(nn.Module):
    def __init__(self, d=32, code=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(d, 64),
            nn.Dropout(0.2),
            nn.BatchNorm1d(64),
            nn.ReLU(),
            nn.Linear(64, code),
        )
        self.decoder = nn.Sequential(nn.Linear(code, 64), nn.ReLU(), nn.Linear(64, d))

    def forward(self, x):
        return self.decoder(self.encoder(x))


# data on an 8-dim subspace
basis = torch.randn(8, 32)
data = torch.randn(2000, 8) @ basis

model = AutoEncoder()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
mse = nn.MSELoss()

for step in range(80):
    batch = data[torch.randint(0, 2000, (64,))]
    recon = model(batch)
    loss = mse(recon, batch)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"step {step}: recon {loss.item():.4f}")
