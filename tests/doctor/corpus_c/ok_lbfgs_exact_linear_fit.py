# expect: clean
"""Noiseless linear fit with LBFGS (strong Wolfe): the loss converges to ~0 quickly."""

import torch
from torch import nn

torch.manual_seed(0)
X = torch.randn(200, 5, dtype=torch.float64)
true_w = torch.tensor([[1.5], [-2.0], [0.5], [3.0], [-1.0]], dtype=torch.float64)
Y = X @ true_w + 0.7

model = nn.Linear(5, 1).double()
optimizer = torch.optim.LBFGS(
    model.parameters(), lr=1.0, max_iter=20, history_size=10, line_search_fn="strong_wolfe"
)
loss_fn = nn.MSELoss()


def closure():
    optimizer.zero_grad()
    loss = loss_fn(model(X), Y)
    loss.backward()
    return loss


for epoch in range(15):
    loss = optimizer.step(closure)
    print(epoch, f"{loss.item():.3e}")
print("weights", model.weight.data.flatten().tolist(), "bias", model.bias.item())
