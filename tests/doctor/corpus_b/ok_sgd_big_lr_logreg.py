# expect: clean
"""Logistic regression with SGD at lr=2.0 on standardized features: large but it converges."""

import torch

torch.manual_seed(0)
N, D = 512, 10
X = torch.randn(N, D)
X = (X - X.mean(0)) / X.std(0)
true_w = torch.randn(D)
y = (X @ true_w + 0.3 * torch.randn(N) > 0).float()

linear = torch.nn.Linear(D, 1)
sgd = torch.optim.SGD(linear.parameters(), lr=2.0)
loss_fn = torch.nn.BCEWithLogitsLoss()
for _epoch in range(60):
    sgd.zero_grad()
    out = linear(X).squeeze(-1)
    loss = loss_fn(out, y)
    loss.backward()
    sgd.step()
print(f"loss={loss.item():.4f}")
