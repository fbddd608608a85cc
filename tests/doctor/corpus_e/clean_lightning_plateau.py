# expect: clean
"""A LightningModule re-done by hand (training_step / validation_step / configure_optimizers returning an lr_scheduler dict with ReduceLROnPlateau monitoring val_loss), driven by a small loop that restores train mode and steps the scheduler after validation."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)


class LitRegressor(nn.Module):
    def __init__(self, in_dim=10, hidden=48, lr=3e-3):
        super().__init__()
        self.hparams = {"lr": lr, "hidden": hidden}
        self.model = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )
        self.logged = {}

    def log(self, name, value, **kwargs):
        self.logged[name] = float(value)

    def forward(self, x):
        return self.model(x).squeeze(-1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.smooth_l1_loss(self(x), y)
        self.log("train_loss", loss.detach())
        return {"loss": loss}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = F.smooth_l1_loss(self(x), y)
        self.log("val_loss", loss)
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams["lr"])
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=0.5, patience=1
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "monitor": "val_loss"},
        }


class Trainer:
    def __init__(self, max_epochs, gradient_clip_val=None):
        self.max_epochs = max_epochs
        self.gradient_clip_val = gradient_clip_val

    def fit(self, module, train_dataloaders, val_dataloaders):
        conf = module.configure_optimizers()
        optimizer = conf["optimizer"]
        sched_conf = conf["lr_scheduler"]
        for epoch in range(self.max_epochs):
            module.train()
            for batch_idx, batch in enumerate(train_dataloaders):
                out = module.training_step(batch, batch_idx)
                optimizer.zero_grad()
                out["loss"].backward()
                if self.gradient_clip_val:
                    torch.nn.utils.clip_grad_norm_(module.parameters(), self.gradient_clip_val)
                optimizer.step()
            module.eval()
            with torch.no_grad():
                losses = [module.validation_step(b, i) for i, b in enumerate(val_dataloaders)]
            val_loss = torch.stack(losses).mean()
            module.log("val_loss", val_loss)
            sched_conf["scheduler"].step(module.logged[sched_conf["monitor"]])
            print(
                f"epoch {epoch} train_loss {module.logged['train_loss']:.4f} val_loss {val_loss:.4f} "
                f"lr {optimizer.param_groups[0]['lr']:.1e}"
            )


x = torch.randn(800, 10)
y = torch.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + 0.1 * torch.randn(800)
train_ds, val_ds = random_split(TensorDataset(x, y), [640, 160])
Trainer(max_epochs=5, gradient_clip_val=1.0).fit(
    LitRegressor(),
    DataLoader(train_ds, batch_size=32, shuffle=True, drop_last=True),
    DataLoader(val_ds, batch_size=80),
)
