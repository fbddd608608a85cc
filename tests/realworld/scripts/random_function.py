"""A custom ``torch.autograd.Function`` that draws random numbers in its forward: a hand-written
dropout (``torch.rand_like`` for the mask, saved for backward), as in the "Extending PyTorch"
recipe, used inside a small regression network."""

import hashlib

import torch
from torch import nn


class MaskedDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, p):
        mask = (torch.rand_like(input) >= p).to(input.dtype) / (1.0 - p)
        ctx.save_for_backward(mask)
        return input * mask

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask, None


class Net(nn.Module):
    def __init__(self, p=0.25):
        super().__init__()
        self.p = p
        self.hidden = nn.Linear(4, 24)
        self.out = nn.Linear(24, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        if self.training:
            h = MaskedDropout.apply(h, self.p)
        return self.out(h)


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(4)
x = torch.randn(256, 4)
y = x @ torch.tensor([[1.5], [-2.0], [0.5], [0.0]]) + 0.3
model = Net()
optimizer = torch.optim.RMSprop(model.parameters(), lr=5e-3)
losses = []
for step in range(20):
    idx = torch.randint(0, 256, (32,))
    loss = nn.functional.mse_loss(model(x[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step % 5 == 0:
        print(f"step {step:2d} loss {loss.item():.10f}")
model.eval()
with torch.no_grad():
    print(f"eval loss {nn.functional.mse_loss(model(x), y).item():.10f}")
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
