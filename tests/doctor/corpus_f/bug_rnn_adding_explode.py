# expect: exploding-gradients @ head.weight|head.bias|rnn.weight_hh_l0|rnn.weight_ih_l0|rnn
"""Elman RNN on the adding problem, SGD lr=0.3 momentum, no clipping: gradients blow up."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

SEQ_LEN = 40


def adding_batch(batch_size):
    values = torch.rand(batch_size, SEQ_LEN)
    markers = torch.zeros(batch_size, SEQ_LEN)
    pick = torch.rand(batch_size, SEQ_LEN).argsort(dim=1)[:, :2]
    markers.scatter_(1, pick, 1.0)
    x = torch.stack([values, markers], dim=-1)
    y = (values * markers).sum(dim=1, keepdim=True)
    return x, y


class AddingRNN(nn.Module):
    def __init__(self, hidden=64):
        super().__init__()
        self.rnn = nn.RNN(input_size=2, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


model = AddingRNN()
optimizer = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)

for step in range(40):
    x, y = adding_batch(64)
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    if step % 5 == 0:
        print(f"step {step:3d} loss {loss.item():.4g}")
