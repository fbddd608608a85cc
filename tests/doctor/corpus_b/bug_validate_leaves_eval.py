# expect: eval-mode-training @ drop
"""validate() switches the model to eval mode and the training loop never switches it back."""

import torch
import torch.nn as nn


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 64)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def validate(model, x, y):
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


torch.manual_seed(31)
model = Regressor()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
xv = torch.randn(64, 6)
yv = xv.sum(1, keepdim=True)
model.train()
for epoch in range(4):
    for _ in range(10):
        x = torch.randn(32, 6)
        loss = nn.functional.mse_loss(model(x), x.sum(1, keepdim=True))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(epoch, validate(model, xv, yv))
