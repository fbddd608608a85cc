# expect: update-ratio @ optimizer0:AdamW.group0|optimizer0:AdamW
"""Kaggle-notebook multiclass baseline configured through a CFG class; the learning rate was typed as 3e-9 instead of 3e-4, so AdamW barely moves the weights while the notebook happily prints epochs."""

# %% [code]
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CFG:
    seed = 7
    n_classes = 6
    n_features = 32
    epochs = 8
    batch_size = 64
    lr = 3e-9
    weight_decay = 1e-2
    dropout = 0.2


np.random.seed(CFG.seed)
torch.manual_seed(CFG.seed)

# %% [code] synthetic train table
W_true = np.random.randn(CFG.n_features, CFG.n_classes)
train_x = np.random.randn(960, CFG.n_features).astype(np.float32)
train_y = (train_x @ W_true + 0.5 * np.random.randn(960, CFG.n_classes)).argmax(1)
X = torch.from_numpy(train_x)
Y = torch.from_numpy(train_y).long()
X_train, Y_train, X_valid, Y_valid = X[:768], Y[:768], X[768:], Y[768:]

# %% [code] model
model = nn.Sequential(
    nn.Linear(CFG.n_features, 128),
    nn.BatchNorm1d(128),
    nn.ReLU(),
    nn.Dropout(CFG.dropout),
    nn.Linear(128, 64),
    nn.BatchNorm1d(64),
    nn.ReLU(),
    nn.Dropout(CFG.dropout),
    nn.Linear(64, CFG.n_classes),
)
optimizer = torch.optim.AdamW(model.parameters(), lr=CFG.lr, weight_decay=CFG.weight_decay)

# %% [code] training
for epoch in range(CFG.epochs):
    model.train()
    perm = torch.randperm(len(X_train))
    losses = []
    for i in range(0, len(X_train), CFG.batch_size):
        idx = perm[i : i + CFG.batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X_train[idx]), Y_train[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits = model(X_valid)
        val_loss = F.cross_entropy(logits, Y_valid).item()
        val_acc = (logits.argmax(1) == Y_valid).float().mean().item()
    print(
        f"epoch {epoch}: train_loss={np.mean(losses):.4f} val_loss={val_loss:.4f} val_acc={val_acc:.4f}"
    )
