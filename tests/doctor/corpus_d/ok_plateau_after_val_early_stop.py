# expect: clean
"""GRU regressor; ReduceLROnPlateau stepped on val loss after each epoch; early stop."""

import copy

import torch
import torch.nn as nn

torch.manual_seed(0)


class GRURegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


def make_data(n):
    phase = torch.rand(n, 1) * 6.28
    t = torch.arange(21).float() * 0.3
    s = torch.sin(phase + t) + 0.02 * torch.randn(n, 21)
    return s[:, :20].unsqueeze(-1), s[:, 20:]


x_tr, y_tr = make_data(384)
x_va, y_va = make_data(128)

model = GRURegressor()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=1)
loss_fn = nn.MSELoss()
best, best_state, bad_epochs = float("inf"), None, 0

for epoch in range(8):
    model.train()
    perm = torch.randperm(384)
    for i in range(0, 384, 64):
        idx = perm[i : i + 64]
        optimizer.zero_grad()
        loss = loss_fn(model(x_tr[idx]), y_tr[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val = loss_fn(model(x_va), y_va).item()
    scheduler.step(val)
    print(f"epoch {epoch} val {val:.4f} lr {optimizer.param_groups[0]['lr']:.4f}")
    if val < best - 1e-4:
        best, best_state, bad_epochs = val, copy.deepcopy(model.state_dict()), 0
    else:
        bad_epochs += 1
        if bad_epochs >= 3:
            print("early stopping")
            break

model.load_state_dict(best_state)
