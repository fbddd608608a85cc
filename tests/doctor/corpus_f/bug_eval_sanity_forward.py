# expect: eval-mode-training @ drop
"""model.eval() for a sanity forward before the loop, never model.train(): dropout stays off."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class MLPClassifier(nn.Module):
    def __init__(self, d_in, hidden, n_cls, p=0.3):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.drop = nn.Dropout(p)
        self.out = nn.Linear(hidden, n_cls)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.drop(F.relu(self.fc2(x)))
        return self.out(x)


X = torch.randn(1000, 30)
Y = (X[:, :10].sum(1) > 0).long() * 2 + (X[:, 10:12].prod(1) > 0).long()

model = MLPClassifier(30, 64, 4)

# sanity check: shapes and that nothing crashes
model.eval()
with torch.no_grad():
    out = model(X[:4])
    assert out.shape == (4, 4), out.shape
    print("sanity forward ok:", tuple(out.shape))

optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for step in range(60):
    idx = torch.randint(0, 1000, (50,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(step, f"{loss.item():.4f}")
