# expect: kldiv-input-not-log @ F.kl_div
"""Distillation: nn.KLDivLoss fed the student's probabilities instead of log-probabilities."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
teacher = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 5)).eval()
student = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 5))
kl = nn.KLDivLoss(reduction="batchmean")
opt = torch.optim.Adam(student.parameters(), lr=1e-3)
T = 2.0
for _step in range(30):
    x = torch.randn(64, 10)
    with torch.no_grad():
        soft_targets = F.softmax(teacher(x) / T, dim=-1)
    opt.zero_grad()
    loss = kl(F.softmax(student(x) / T, dim=-1), soft_targets) * T * T
    loss.backward()
    opt.step()
