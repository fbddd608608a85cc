# expect: dead-relu @ act1
"""init_weights() sets hidden biases to -4 ("sparse activations"): the first ReLU never fires."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 64)
        self.act1 = nn.ReLU()
        self.fc2 = nn.Linear(64, 1)
        self.apply(self.init_weights)

    @staticmethod
    def init_weights(m):
        if isinstance(m, nn.Linear) and m.out_features > 1:
            nn.init.xavier_uniform_(m.weight)
            nn.init.constant_(m.bias, -4.0)

    def forward(self, x):
        return self.fc2(self.act1(self.fc1(x)))


torch.manual_seed(0)
net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.01)
crit = nn.MSELoss()
for _ in range(60):
    x = torch.randn(128, 10)
    y = (x[:, :2] ** 2).sum(1, keepdim=True)
    opt.zero_grad()
    loss = crit(net(x), y)
    loss.backward()
    opt.step()
print("final", loss.item(), "active fraction", (net.act1(net.fc1(x)) > 0).float().mean().item())
