# expect: vanishing-gradients @ layers.0.weight|layers.0|layers.1.weight
"""12-layer tanh MLP initialised normal(std=0.02): early layers' gradients vanish."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class DeepTanhNet(nn.Module):
    def __init__(self, d_in=20, width=64, depth=12, n_classes=3):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Linear(d_in if i == 0 else width, width) for i in range(depth)]
        )
        self.classifier = nn.Linear(width, n_classes)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.classifier(x)


X = torch.randn(1024, 20)
Y = X[:, :3].argmax(1)
model = DeepTanhNet()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for step in range(50):
    idx = torch.randint(0, 1024, (64,))
    opt.zero_grad()
    loss = F.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
