# expect: exploding-gradients @ net.4.weight|net.2.weight|net.6.weight|net.8.weight|net.0.weight
"""Deep ReLU MLP on raw features (0..50), SGD lr=0.01 momentum 0.9: gradients blow up to Inf/NaN."""

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Config:
    in_features: int = 12
    hidden: int = 64
    depth: int = 6
    lr: float = 0.01
    momentum: float = 0.9
    steps: int = 40
    batch_size: int = 64


class DeepMLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        layers = []
        width = cfg.in_features
        for _ in range(cfg.depth - 1):
            layers += [nn.Linear(width, cfg.hidden), nn.ReLU()]
            width = cfg.hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def main(cfg: Config | None = None):
    cfg = cfg or Config()
    torch.manual_seed(0)
    coef = torch.randn(cfg.in_features, 1)
    model = DeepMLP(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    mse = nn.MSELoss()
    for step in range(cfg.steps):
        x = 50 * torch.rand(cfg.batch_size, cfg.in_features)  # raw sensor readings
        y = x @ coef
        opt.zero_grad()
        loss = mse(model(x), y)
        loss.backward()
        opt.step()
        if step % 5 == 0:
            print(step, loss.item())


if __name__ == "__main__":
    main()
