# expect: kldiv-input-not-log @ F.kl_div
"""Distillation where the student's softmax probabilities (not log-probs) go into KLDivLoss."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(51)
teacher = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 4)).eval()
student = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
kd = nn.KLDivLoss(reduction="batchmean")
opt = torch.optim.Adam(student.parameters(), lr=1e-3)
T = 2.0
for _step in range(30):
    x = torch.randn(32, 10)
    with torch.no_grad():
        soft_targets = F.softmax(teacher(x) / T, dim=1)
    loss = kd(F.softmax(student(x) / T, dim=1), soft_targets) * T * T
    opt.zero_grad()
    loss.backward()
    opt.step()
