"""fp16 autocast on CPU with ``torch.amp.GradScaler("cpu")`` (the automatic mixed precision
recipe). The large initial scale overflows the fp16 gradients, so the scaler skips the first
optimizer steps and lowers the scale, then grows it back every few steps (skipping again when it
overflows): skipped steps are normal."""

import hashlib

import torch
from torch import nn


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(6)
x = torch.randn(512, 16)
y = (x[:, :4].sum(1) > 0).long()
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=4)
losses, skipped = [], 0
for step in range(24):
    idx = torch.randint(0, 512, (64,))
    with torch.autocast(device_type="cpu", dtype=torch.float16):
        output = model(x[idx])
        loss = nn.functional.cross_entropy(output, y[idx])
    optimizer.zero_grad()
    scale = scaler.get_scale()
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    if scaler.get_scale() < scale:
        skipped += 1
        print(f"step {step:2d} skipped (scale {scale:.0f} overflowed)")
    else:
        losses.append(loss.item())
        print(f"step {step:2d} loss {loss.item():.10f} scale {scale:.0f}")
print("skipped", skipped)
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
