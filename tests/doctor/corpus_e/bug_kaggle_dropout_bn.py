# expect: dropout-before-batchnorm @ 3|7
"""Kaggle-notebook tabular MLP (cells as top-level code, globals, print logging) whose blocks go Linear -> ReLU -> Dropout -> BatchNorm1d, so each Dropout feeds a BatchNorm directly."""

# %% [code] Imports & config
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn

SEED = 2024
N_SAMPLES = 1200
N_FEATURES = 24
BATCH_SIZE = 128
EPOCHS = 6
LR = 1e-3
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def seed_everything(seed):
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


seed_everything(SEED)

# %% [code] "Load" train.csv (synthetic stand-in)
train_X = np.random.randn(N_SAMPLES, N_FEATURES).astype(np.float32)
signal = train_X[:, 0] * 1.5 - train_X[:, 3] + np.sin(train_X[:, 5] * 2) + 0.5 * train_X[:, 7] ** 2
train_y = (signal + 0.3 * np.random.randn(N_SAMPLES) > 0.5).astype(np.float32)
print("train shape:", train_X.shape, "positive rate:", train_y.mean().round(3))

valid_idx = np.arange(N_SAMPLES) % 5 == 0
X_tr, y_tr = torch.tensor(train_X[~valid_idx]), torch.tensor(train_y[~valid_idx])
X_va, y_va = torch.tensor(train_X[valid_idx]), torch.tensor(train_y[valid_idx])

# %% [code] Model
model = nn.Sequential(
    nn.Linear(N_FEATURES, 256),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.BatchNorm1d(256),
    nn.Linear(256, 128),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.BatchNorm1d(128),
    nn.Linear(128, 1),
).to(DEVICE)

criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=1e-5)

# %% [code] Train
best_acc = 0.0
for epoch in range(EPOCHS):
    t0 = time.time()
    model.train()
    perm = torch.randperm(len(X_tr))
    train_loss = 0.0
    for i in range(0, len(X_tr), BATCH_SIZE):
        idx = perm[i : i + BATCH_SIZE]
        xb, yb = X_tr[idx].to(DEVICE), y_tr[idx].to(DEVICE)
        optimizer.zero_grad()
        logits = model(xb).squeeze(1)
        loss = criterion(logits, yb)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * len(idx)
    train_loss /= len(X_tr)

    model.eval()
    with torch.no_grad():
        va_logits = model(X_va.to(DEVICE)).squeeze(1)
        va_loss = criterion(va_logits, y_va).item()
        va_acc = ((va_logits > 0).float() == y_va).float().mean().item()
    best_acc = max(best_acc, va_acc)
    print(
        f"Epoch {epoch + 1:02d} | train {train_loss:.4f} | valid {va_loss:.4f} | acc {va_acc:.4f} | {time.time() - t0:.1f}s"
    )

print("best valid acc:", round(best_acc, 4))
