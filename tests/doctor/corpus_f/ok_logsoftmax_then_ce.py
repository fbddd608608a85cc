# expect: clean
"""log_softmax output into nn.CrossEntropyLoss: redundant but identical to logits (idempotent)."""

import torch
import torch.nn as nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        return torch.log_softmax(self.fc2(x), dim=1)


X = torch.randn(1024, 20)
W = torch.randn(20, 4)
Y = (X @ W).argmax(1)

model = Net()
loss_fn = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

for step in range(80):
    idx = torch.randint(0, len(X), (64,))
    opt.zero_grad()
    loss = loss_fn(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"step {step} loss {loss.item():.4f}")
