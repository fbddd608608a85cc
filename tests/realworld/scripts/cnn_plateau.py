"""An image classifier in the CIFAR-tutorial style: Conv/BatchNorm/MaxPool/Dropout, a
``DataLoader`` with two worker processes, gradient accumulation over two batches per optimizer
step, and ``ReduceLROnPlateau`` stepped on the validation loss after each epoch."""

import hashlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = self.dropout(torch.flatten(x, 1))
        return self.fc2(F.relu(self.fc1(x)))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    torch.manual_seed(23)
    images = torch.randn(320, 3, 8, 8)
    labels = (images[:, 0].mean((1, 2)) > 0).long() + 2 * (images[:, 1].mean((1, 2)) > 0).long()
    trainset = TensorDataset(images[:256], labels[:256])
    trainloader = DataLoader(trainset, batch_size=16, shuffle=True, num_workers=2,
                             persistent_workers=True)  # fmt: skip
    val_x, val_y = images[256:], labels[256:]
    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=0.5, patience=0)
    accumulation = 2
    losses, running = [], 0.0
    for epoch in range(3):
        net.train()
        for i, (inputs, targets) in enumerate(trainloader):
            loss = criterion(net(inputs), targets) / accumulation
            loss.backward()
            running += loss.item()
            if (i + 1) % accumulation == 0:
                optimizer.step()
                optimizer.zero_grad()
                losses.append(running)
                running = 0.0
        net.eval()
        with torch.no_grad():
            val_loss = criterion(net(val_x), val_y).item()
        scheduler.step(val_loss)
        lr = optimizer.param_groups[0]["lr"]
        print(f"[{epoch + 1}] loss: {losses[-1]:.10f} val: {val_loss:.10f} lr: {lr}")
    print("STEPS", len(losses))
    print("PARAMS", ",".join(name for name, _ in net.named_parameters()))
    print("FINAL", fingerprint(net.state_dict().values()))
