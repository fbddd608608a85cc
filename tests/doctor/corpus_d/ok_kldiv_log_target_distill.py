# expect: clean
"""Distillation: KLDivLoss(log_target=True) on log-probs plus hard-label CE."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

T = 2.0
ALPHA = 0.7

teacher = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 10))
student = nn.Sequential(nn.Linear(32, 24), nn.ReLU(), nn.Linear(24, 10))
teacher.eval()
for p in teacher.parameters():
    p.requires_grad_(False)

kl = nn.KLDivLoss(reduction="batchmean", log_target=True)
optimizer = torch.optim.Adam(student.parameters(), lr=2e-3)

for step in range(60):
    x = torch.randn(64, 32)
    with torch.no_grad():
        t_logits = teacher(x)
    labels = t_logits.argmax(1)
    s_logits = student(x)
    soft = kl(F.log_softmax(s_logits / T, dim=1), F.log_softmax(t_logits / T, dim=1)) * T * T
    hard = F.cross_entropy(s_logits, labels)
    loss = ALPHA * soft + (1 - ALPHA) * hard
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 15 == 0:
        print(f"step {step}: soft {soft.item():.4f} hard {hard.item():.4f}")
