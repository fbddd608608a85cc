# expect: clean
"""Curve fitting with LBFGS and a closure (a*exp(-b*t)+c), 12 outer steps."""

import torch

torch.manual_seed(0)
t = torch.linspace(0, 5, 200)
y = 2.5 * torch.exp(-1.3 * t) + 0.5 + 0.01 * torch.randn(200)


class Decay(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(1.0))
        self.b = torch.nn.Parameter(torch.tensor(0.5))
        self.c = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, t):
        return self.a * torch.exp(-self.b * t) + self.c


model = Decay()
opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = torch.mean((model(t) - y) ** 2)
    loss.backward()
    return loss


for _i in range(12):
    loss = opt.step(closure)
print({k: round(v.item(), 3) for k, v in model.named_parameters()})
