# expect: clean
"""Linear regression with raw tensors and hand-written SGD updates."""

import torch

torch.manual_seed(0)
X = torch.randn(500, 3)
true_w = torch.tensor([[1.5], [-2.0], [0.7]])
y = X @ true_w + 0.3 + 0.05 * torch.randn(500, 1)
w = torch.zeros(3, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.1
for _epoch in range(150):
    pred = X @ w + b
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
print(w.view(-1), b)
