# expect: grad-not-zeroed @ w1
"""Tutorial-style two-layer net with hand-written SGD updates; the .grad tensors are never reset."""

import torch

torch.manual_seed(0)
dtype = torch.float
N, D_in, H, D_out = 64, 100, 50, 10

x = torch.randn(N, D_in, dtype=dtype)
y = torch.randn(N, D_out, dtype=dtype)

w1 = torch.randn(D_in, H, dtype=dtype) * 0.1
w2 = torch.randn(H, D_out, dtype=dtype) * 0.1
w1.requires_grad_(True)
w2.requires_grad_(True)

learning_rate = 2e-4
for t in range(60):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    if t % 10 == 9:
        print(t, loss.item())

    loss.backward()

    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
