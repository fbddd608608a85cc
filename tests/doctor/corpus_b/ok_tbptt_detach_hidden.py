# expect: clean
"""Truncated BPTT: an LSTM reads a long stream in chunks; the carried state is detached."""

import torch
import torch.nn as nn

torch.manual_seed(44)
stream = torch.sin(torch.arange(0, 2000, dtype=torch.float32) * 0.07).view(1, -1, 1)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 32, batch_first=True)
        self.proj = nn.Linear(32, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.proj(out), state


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)
state = None
chunk = 40
for i in range(0, 1600, chunk):
    x = stream[:, i : i + chunk]
    y = stream[:, i + 1 : i + chunk + 1]
    if state is not None:
        state = tuple(s.detach() for s in state)
    pred, state = model(x, state)
    loss = nn.functional.mse_loss(pred, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
