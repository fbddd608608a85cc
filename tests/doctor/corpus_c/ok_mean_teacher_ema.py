# expect: clean
"""Mean teacher: the teacher is an EMA copy updated under no_grad, never optimized."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


@torch.no_grad()
def ema_update(teacher, student, decay=0.95):
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        t.mul_(decay).add_(s, alpha=1 - decay)


torch.manual_seed(0)
student = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 3))
teacher = copy.deepcopy(student)
for p in teacher.parameters():
    p.requires_grad_(False)
optimizer = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, nesterov=True)

centers = torch.randn(3, 10) * 2
for step in range(60):
    y = torch.randint(0, 3, (32,))
    x_lab = centers[y] + torch.randn(32, 10)
    x_unl = centers[torch.randint(0, 3, (96,))] + torch.randn(96, 10)

    sup = F.cross_entropy(student(x_lab), y)
    with torch.no_grad():
        target = F.softmax(teacher(x_unl + 0.1 * torch.randn_like(x_unl)), dim=1)
    cons = F.mse_loss(F.softmax(student(x_unl), dim=1), target)
    loss = sup + 2.0 * cons

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ema_update(teacher, student)
    if step % 20 == 0:
        print(step, f"sup {sup.item():.3f} cons {cons.item():.4f}")
