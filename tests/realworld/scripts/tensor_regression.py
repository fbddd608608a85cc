"""Linear regression with raw tensors, as the first autograd tutorials write it: no nn.Module,
no optimizer; leaves ``w`` and ``b`` with ``requires_grad=True``, ``loss.backward()``, then
``w -= lr * w.grad`` under ``torch.no_grad()`` and ``w.grad.zero_()``."""

import hashlib

import torch


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(42)
true_w = torch.tensor([[2.0], [-3.4], [1.2]])
true_b = 4.2
X = torch.randn(200, 3)
y = X @ true_w + true_b + 0.01 * torch.randn(200, 1)

w = torch.normal(0, 0.01, size=(3, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.05
losses = []
for epoch in range(30):
    y_hat = X @ w + b
    loss = ((y_hat - y) ** 2 / 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    losses.append(loss.item())
    if epoch % 5 == 0:
        print(f"epoch {epoch + 1}, loss {loss.item():.10f}")
print("w error:", (true_w - w.detach()).flatten().tolist())
print("b error:", true_b - b.item())
print("STEPS", len(losses))
print("PARAMS w,b")
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint([w, b]))
