# expect: clean
"""Kaggle-notebook regression (top-level cells, CFG dict, globals, print logging): 2-fold CV, a fresh MLP with BatchNorm after biased Linears per fold, AdamW with CosineAnnealingWarmRestarts stepped with the fractional epoch, out-of-fold RMSE at the end."""

# %% [code]
import math
import random

import numpy as np
import torch
import torch.nn as nn

CFG = {"seed": 42, "n_folds": 2, "epochs": 5, "bs": 96, "lr": 2e-3, "wd": 1e-4, "T_0": 2}
random.seed(CFG["seed"])
np.random.seed(CFG["seed"])
torch.manual_seed(CFG["seed"])

# %% [code] data
N, F_NUM = 768, 14
X = np.random.randn(N, F_NUM).astype(np.float32)
y = (np.tanh(X[:, 0]) * 2 + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + 0.2 * np.random.randn(N)).astype(
    np.float32
)
folds = np.arange(N) % CFG["n_folds"]
np.random.shuffle(folds)
oof = np.zeros(N, dtype=np.float32)


# %% [code] model
class TabularNN(nn.Module):
    def __init__(self, n_in, hidden=128):
        super().__init__()
        self.block1 = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.SiLU())
        self.block2 = nn.Sequential(
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.SiLU(), nn.Dropout(0.1)
        )
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h = self.block1(x)
        h = h + self.block2(h)
        return self.out(h).squeeze(-1)


# %% [code] train loop
for fold in range(CFG["n_folds"]):
    tr, va = folds != fold, folds == fold
    X_tr, y_tr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr])
    X_va, y_va = torch.from_numpy(X[va]), torch.from_numpy(y[va])
    model = TabularNN(F_NUM)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG["lr"], weight_decay=CFG["wd"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=CFG["T_0"], eta_min=1e-5
    )
    loss_fn = nn.MSELoss()
    iters = math.ceil(len(X_tr) / CFG["bs"])
    best_rmse, best_state = 1e9, None
    for epoch in range(CFG["epochs"]):
        model.train()
        perm = torch.randperm(len(X_tr))
        for i in range(iters):
            idx = perm[i * CFG["bs"] : (i + 1) * CFG["bs"]]
            optimizer.zero_grad()
            loss = loss_fn(model(X_tr[idx]), y_tr[idx])
            loss.backward()
            optimizer.step()
            scheduler.step(epoch + (i + 1) / iters)
        model.eval()
        with torch.no_grad():
            pred = model(X_va)
        rmse = torch.sqrt(loss_fn(pred, y_va)).item()
        if rmse < best_rmse:
            best_rmse, best_state = rmse, {k: v.clone() for k, v in model.state_dict().items()}
        print(
            f"fold {fold} epoch {epoch} train_loss {loss.item():.4f} val_rmse {rmse:.4f} lr {scheduler.get_last_lr()[0]:.2e}"
        )
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        oof[va] = model(X_va).numpy()
    print(f"fold {fold} best rmse {best_rmse:.4f}")

# %% [code] CV
print("CV RMSE:", float(np.sqrt(np.mean((oof - y) ** 2))))
