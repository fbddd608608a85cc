# expect: clean
"""12-layer tanh nn.Sequential with Xavier init at tanh's gain: gradients keep their scale."""

import torch
import torch.nn as nn

torch.manual_seed(0)

layers = []
width = 64
for i in range(12):
    lin = nn.Linear(16 if i == 0 else width, width)
    nn.init.xavier_uniform_(lin.weight, gain=nn.init.calculate_gain("tanh"))
    nn.init.zeros_(lin.bias)
    layers += [lin, nn.Tanh()]
model = nn.Sequential(*layers, nn.Linear(width, 4))

X = torch.randn(1024, 16)
Y = (X[:, :4] + 0.5 * X[:, 4:8]).argmax(1)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

for step in range(50):
    idx = torch.randint(0, 1024, (64,))
    optimizer.zero_grad()
    loss = criterion(model(X[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, round(loss.item(), 4))
