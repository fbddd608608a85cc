# expect: clean
"""MLP returning log_softmax, trained with nn.NLLLoss over a DataLoader."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        return F.log_softmax(self.fc2(self.drop(F.relu(self.fc1(x)))), dim=1)


centers = torch.randn(4, 20) * 1.5
ys = torch.randint(0, 4, (1200,))
xs = centers[ys] + torch.randn(1200, 20)
train_loader = DataLoader(TensorDataset(xs[:1000], ys[:1000]), batch_size=50, shuffle=True)
val_loader = DataLoader(TensorDataset(xs[1000:], ys[1000:]), batch_size=200)

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.NLLLoss()


def train_one_epoch(model, loader, opt, loss_fn):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return loss.item()


@torch.no_grad()
def validate(model, loader):
    model.eval()
    correct = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
    return correct / len(loader.dataset)


for epoch in range(4):
    last = train_one_epoch(model, train_loader, optimizer, criterion)
    print(f"epoch {epoch} loss {last:.4f} val acc {validate(model, val_loader):.3f}")
