# expect: clean
"""Distillation done right: KLDiv on log-probabilities plus NLL on log_softmax."""

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
teacher = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 5)).eval()
student = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 5))
opt = torch.optim.Adam(student.parameters(), lr=2e-3)
T = 3.0
for _step in range(60):
    x = torch.randn(64, 10)
    with torch.no_grad():
        t_logits = teacher(x)
    s_logits = student(x)
    hard = F.nll_loss(F.log_softmax(s_logits, dim=1), t_logits.argmax(1))
    soft = F.kl_div(
        F.log_softmax(s_logits / T, dim=1), F.softmax(t_logits / T, dim=1), reduction="batchmean"
    )
    loss = 0.5 * hard + 0.5 * T * T * soft
    opt.zero_grad()
    loss.backward()
    opt.step()
