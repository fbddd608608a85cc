"""A small CNN trained under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (the CPU mixed
precision recipe): convolutions and linears run in bfloat16, the loss and the weights stay
float32; SGD with momentum and a step learning-rate schedule."""

import hashlib

import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(7)
images = torch.randn(256, 1, 12, 12)
targets = (images[:, 0, :6].mean((1, 2)) > 0).long() * 2 + (images[:, 0, :, :6].mean((1, 2)) > 0)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=8, gamma=0.5)
losses = []
for step in range(24):
    idx = torch.randint(0, 256, (32,))
    optimizer.zero_grad()
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        output = model(images[idx])
        loss = F.cross_entropy(output, targets[idx])
    loss.backward()
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % 4 == 0:
        lr = scheduler.get_last_lr()[0]
        print(f"step {step} loss {loss.item():.10f} dtype {output.dtype} lr {lr:.4f}")

print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
