# expect: clean
"""Linear regression, noisy targets: the loss drops, then sits at the noise variance."""

import torch

torch.manual_seed(0)

N, D = 512, 5
x = torch.randn(N, D)
true_w = torch.tensor([[1.5], [-2.0], [0.7], [0.0], [3.0]])
y = x @ true_w + 0.8 + 0.5 * torch.randn(N, 1)  # noise std 0.5 -> floor 0.25

model = torch.nn.Linear(D, 1)
loss_fn = torch.nn.MSELoss(reduction="mean")
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for t in range(150):
    y_pred = model(x)
    loss = loss_fn(y_pred, y)
    if t % 30 == 29:
        print(t, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print("learned:", model.weight.data.flatten().tolist(), model.bias.item())
