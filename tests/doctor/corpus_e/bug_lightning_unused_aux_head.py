# expect: unused-parameter @ aux_head
"""A hand-rolled LightningModule with an auxiliary head for deep supervision; __init__ builds aux_head unconditionally, but forward only calls it when hparams.aux_weight > 0 and the config sets 0, so configure_optimizers hands the optimizer parameters that never get a gradient."""

from types import SimpleNamespace

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class LitSegmentLike(nn.Module):
    def __init__(self, hparams):
        super().__init__()
        self.hparams = hparams
        self.stem = nn.Sequential(nn.Linear(hparams.in_dim, 64), nn.ReLU())
        self.body = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, hparams.n_classes)
        self.aux_head = nn.Sequential(
            nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, hparams.n_classes)
        )

    def forward(self, x):
        h = self.stem(x)
        out = {"logits": self.head(self.body(h))}
        if self.training and self.hparams.aux_weight > 0:
            out["aux_logits"] = self.aux_head(h)
        return out

    def training_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        loss = F.cross_entropy(out["logits"], y)
        if "aux_logits" in out:
            loss = loss + self.hparams.aux_weight * F.cross_entropy(out["aux_logits"], y)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        return (self(x)["logits"].argmax(1) == y).float().mean()

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return [opt], [sched]


def fit(module, train_loader, val_loader, max_epochs):
    (opt,), (sched,) = module.configure_optimizers()
    for epoch in range(max_epochs):
        module.train()
        for i, batch in enumerate(train_loader):
            loss = module.training_step(batch, i)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        module.eval()
        with torch.no_grad():
            acc = torch.stack(
                [module.validation_step(b, i) for i, b in enumerate(val_loader)]
            ).mean()
        print(f"epoch {epoch} loss {loss.item():.4f} val_acc {acc.item():.3f}")


torch.manual_seed(9)
hp = SimpleNamespace(in_dim=16, n_classes=4, lr=0.02, aux_weight=0.0)
x = torch.randn(640, 16)
y = (x[:, :4] + 0.3 * torch.randn(640, 4)).argmax(1)
fit(
    LitSegmentLike(hp),
    DataLoader(TensorDataset(x[:512], y[:512]), batch_size=32, shuffle=True),
    DataLoader(TensorDataset(x[512:], y[512:]), batch_size=128),
    max_epochs=4,
)
