# expect: grad-not-zeroed @ optimizer0:AdamW
"""A small Trainer class whose train_step never clears gradients between optimizer steps."""

import torch
from torch import nn


class Trainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.opt = torch.optim.AdamW(model.parameters(), lr=lr)
        self.loss_fn = nn.CrossEntropyLoss()

    def train_step(self, x, y):
        self.model.train()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss.item()


torch.manual_seed(30)
net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 4))
trainer = Trainer(net)
W = torch.randn(10, 4)
for _step in range(40):
    x = torch.randn(32, 10)
    trainer.train_step(x, (x @ W).argmax(1))
