"""Bug showcase: softmax before ``nn.CrossEntropyLoss``.

The model ends in ``nn.Softmax``, a habit from frameworks whose cross-entropy takes
probabilities. PyTorch's takes logits and applies log_softmax itself, so the softmax runs
twice: the loss is squashed into a narrow band, gradients shrink, and training crawls. Plain
PyTorch, no gradscope import:

    gradscope run --store runs/bug_softmax_ce.gsdb demos/bug_softmax_ce.py
    gradscope doctor runs/bug_softmax_ce.gsdb       # → softmax-before-cross-entropy at net.5
"""

import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(20, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 5),
            nn.Softmax(dim=1),  # BUG: CrossEntropyLoss wants the logits
        )

    def forward(self, x):
        return self.net(x)


torch.manual_seed(0)
model = Classifier()
teacher = torch.randn(20, 5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
for step in range(30):
    x = torch.randn(128, 20)
    optimizer.zero_grad()
    loss = criterion(model(x), (x @ teacher).argmax(1))
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step:2d}  loss {loss.item():.4f}")
