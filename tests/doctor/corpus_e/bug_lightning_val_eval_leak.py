# expect: eval-mode-training @ net.4|net|LitClassifier
"""A LightningModule re-done by hand: validation_step calls self.eval() and the small hand loop never calls model.train() again (Lightning's Trainer would), so epochs 2+ train with Dropout off."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(7)


class LightningModuleLite(nn.Module):
    """Just enough of pl.LightningModule for the hooks below."""

    def __init__(self):
        super().__init__()
        self.logged = {}

    def log(self, name, value, prog_bar=False):
        self.logged[name] = float(value.detach()) if torch.is_tensor(value) else float(value)


class LitClassifier(LightningModuleLite):
    def __init__(self, in_dim=20, hidden=64, n_classes=3, lr=2e-3):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        self.eval()
        x, y = batch
        with torch.no_grad():
            logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(-1) == y).float().mean()
        self.log("val_loss", loss)
        self.log("val_acc", acc)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class MiniTrainer:
    def __init__(self, max_epochs=4):
        self.max_epochs = max_epochs

    def fit(self, model, train_dataloaders, val_dataloaders):
        optimizer = model.configure_optimizers()
        for epoch in range(self.max_epochs):
            for batch_idx, batch in enumerate(train_dataloaders):
                loss = model.training_step(batch, batch_idx)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            for batch_idx, batch in enumerate(val_dataloaders):
                model.validation_step(batch, batch_idx)
            print(
                f"epoch {epoch}: train_loss={model.logged['train_loss']:.3f} "
                f"val_loss={model.logged['val_loss']:.3f} val_acc={model.logged['val_acc']:.2f}"
            )


def make_data(n):
    x = torch.randn(n, 20)
    w = torch.randn(20, 3)
    return TensorDataset(x, (x @ w).argmax(1))


if __name__ == "__main__":
    full = make_data(640)
    train_ds, val_ds = torch.utils.data.random_split(full, [512, 128])
    train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=64)
    MiniTrainer(max_epochs=4).fit(LitClassifier(), train_loader, val_loader)
