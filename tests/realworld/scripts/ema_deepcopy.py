"""Training with an exponential moving average of the weights kept in a ``copy.deepcopy`` of
the model (timm's ModelEmaV2 style, started after a warm-up), and a deep-copied "best model"
snapshot taken whenever validation improves."""

import copy
import hashlib

import torch
from torch import nn


class ModelEma:
    """Keeps an EMA copy of a model's parameters and buffers."""

    def __init__(self, model, decay=0.9):
        self.module = copy.deepcopy(model)
        self.module.eval()
        self.decay = decay
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        pairs = zip(self.module.state_dict().values(), model.state_dict().values(), strict=True)
        for ema_v, model_v in pairs:
            if ema_v.dtype.is_floating_point:
                ema_v.lerp_(model_v, 1.0 - self.decay)
            else:
                ema_v.copy_(model_v)


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(1)
x = torch.rand(320, 6) * 4 - 2
y = (x[:, :1] * x[:, 1:2]).sin() + 0.1 * torch.randn(320, 1)
train_x, train_y, val_x, val_y = x[:256], y[:256], x[256:], y[256:]

model = nn.Sequential(
    nn.Linear(6, 32), nn.LayerNorm(32), nn.GELU(), nn.Dropout(0.1), nn.Linear(32, 1)
)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
loss_fn = nn.MSELoss()
ema = None
best_model, best_val = None, float("inf")
losses = []
for epoch in range(5):
    model.train()
    for i in range(0, 256, 64):
        pred = model(train_x[i : i + 64])
        loss = loss_fn(pred, train_y[i : i + 64])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if ema is None and len(losses) == 4:
            ema = ModelEma(model)
        elif ema is not None:
            ema.update(model)
    model.eval()
    with torch.no_grad():
        val = loss_fn(model(val_x), val_y).item()
        ema_val = loss_fn(ema.module(val_x), val_y).item()
    print(f"epoch {epoch} train {losses[-1]:.10f} val {val:.10f} ema_val {ema_val:.10f}")
    if val < best_val:
        best_val = val
        best_model = copy.deepcopy(model)

with torch.no_grad():
    best_again = loss_fn(best_model(val_x), val_y).item()
print(f"best val {best_val:.10f} recomputed {best_again:.10f}")
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint([*model.state_dict().values(), *ema.module.state_dict().values()]))
