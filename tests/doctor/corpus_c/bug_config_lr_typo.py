# expect: update-ratio @ optimizer0:AdamW.group0
"""Config-driven autoencoder training whose learning rate was typed as 3e-10 instead of 3e-4."""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class TrainConfig:
    input_dim: int = 32
    latent_dim: int = 8
    lr: float = 3e-10
    weight_decay: float = 1e-2
    steps: int = 80
    batch_size: int = 64


class AutoEncoder(nn.Module):
    def __init__(self, cfg: TrainConfig):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(cfg.input_dim, 64), nn.ReLU(), nn.Linear(64, cfg.latent_dim)
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_dim, 64), nn.ReLU(), nn.Linear(64, cfg.input_dim)
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def sample(cfg, basis):
    z = torch.randn(cfg.batch_size, cfg.latent_dim)
    return z @ basis + 0.05 * torch.randn(cfg.batch_size, cfg.input_dim)


def train(cfg: TrainConfig):
    torch.manual_seed(0)
    basis = torch.randn(cfg.latent_dim, cfg.input_dim)
    model = AutoEncoder(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for step in range(cfg.steps):
        x = sample(cfg, basis)
        loss = F.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 20 == 0:
            print(f"step {step:3d} recon {loss.item():.4f}")


if __name__ == "__main__":
    train(TrainConfig())
