# expect: nonfinite-forward @ 0
"""Per-batch standardise layer divides by x.std(0); a constant column gives 0/0 = NaN."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class BatchStandardize(nn.Module):
    """Standardise each feature with the statistics of the current batch."""

    def forward(self, x):
        return (x - x.mean(dim=0)) / x.std(dim=0)


n = 1024
numeric = torch.randn(n, 7) * torch.tensor([1.0, 5.0, 0.1, 2.0, 1.0, 10.0, 3.0])
is_active = torch.ones(n, 1)  # every customer in this extract is active
X = torch.cat([numeric, is_active], dim=1)
y = (numeric[:, 0] + 0.2 * numeric[:, 1] - numeric[:, 3] > 0).long()

model = nn.Sequential(
    BatchStandardize(),
    nn.Linear(8, 32),
    nn.ReLU(),
    nn.Linear(32, 2),
)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for step in range(30):
    idx = torch.randint(0, n, (128,))
    loss = F.cross_entropy(model(X[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, loss.item())
