# expect: nll-input-not-log @ F.nll_loss
"""NLLLoss straight on the last Linear's scores (the log_softmax was forgotten)."""

import torch
import torch.nn as nn

torch.manual_seed(39)
model = nn.Sequential(nn.Flatten(), nn.Linear(36, 48), nn.ReLU(), nn.Linear(48, 5))
loss_function = nn.NLLLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for _step in range(40):
    imgs = torch.rand(32, 6, 6)
    labels = (imgs.sum((1, 2)) * 5 / 36).long().clamp(max=4)
    loss = loss_function(model(imgs), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
