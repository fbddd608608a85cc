# expect: clean
"""Autoencoder with two optimizers, both reset by one model.zero_grad() per step."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(30, 16), nn.ELU(), nn.Linear(16, 4))
        self.decoder = nn.Sequential(nn.Linear(4, 16), nn.ELU(), nn.Linear(16, 30))

    def forward(self, x):
        return self.decoder(self.encoder(x))


latent = torch.randn(1500, 4)
data = torch.tanh(latent @ torch.randn(4, 30)) + 0.05 * torch.randn(1500, 30)

ae = AutoEncoder()
enc_opt = torch.optim.Adam(ae.encoder.parameters(), lr=2e-3)
dec_opt = torch.optim.RMSprop(ae.decoder.parameters(), lr=1e-3)
mse = nn.MSELoss()

for step in range(60):
    batch = data[torch.randint(0, 1500, (64,))]
    ae.zero_grad(set_to_none=True)
    loss = mse(ae(batch), batch)
    loss.backward()
    enc_opt.step()
    dec_opt.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.5f}")
