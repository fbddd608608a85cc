# expect: softmax-before-cross-entropy @ 4
"""The classifier's nn.Sequential ends in nn.Softmax and is trained with CrossEntropyLoss."""

import torch
from torch import nn

torch.manual_seed(32)
clf = nn.Sequential(
    nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.Linear(32, 3), nn.Softmax(dim=1)
)
optimizer = torch.optim.SGD(clf.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
for _i in range(40):
    x = torch.randn(64, 8)
    y = torch.bucketize(x[:, 0] + x[:, 1], torch.tensor([-0.7, 0.7]))
    optimizer.zero_grad()
    loss = criterion(clf(x), y)
    loss.backward()
    optimizer.step()
