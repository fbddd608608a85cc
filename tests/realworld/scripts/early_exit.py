"""Early stopping that ends the program with ``sys.exit(0)`` from inside the training loop once
the validation loss reaches its target (the rest of the script never runs)."""

import hashlib
import sys

import torch
from torch import nn


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


def main():
    torch.manual_seed(13)
    x = torch.randn(300, 5)
    y = x @ torch.randn(5, 1) + 0.1 * torch.randn(300, 1)
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    losses = []
    for epoch in range(100):
        for i in range(0, 240, 48):
            opt.zero_grad()
            loss = nn.functional.mse_loss(net(x[i : i + 48]), y[i : i + 48])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            val = nn.functional.mse_loss(net(x[240:]), y[240:]).item()
        print(f"epoch {epoch} loss {losses[-1]:.10f} val {val:.10f}")
        if val < 0.5:
            print("target reached, stopping")
            print("STEPS", len(losses))
            print("PARAMS", ",".join(name for name, _ in net.named_parameters()))
            print("LOSSES", ",".join(repr(v) for v in losses))
            print("FINAL", fingerprint(net.state_dict().values()))
            sys.exit(0)
    print("never reached the target")


if __name__ == "__main__":
    main()
