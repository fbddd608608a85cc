"""A WGAN-GP on a 2-D mixture of Gaussians: the critic takes two steps per generator step and is
trained with the gradient penalty computed on interpolated points (``requires_grad_()`` and
``torch.autograd.grad(..., create_graph=True)``)."""

import hashlib

import torch
from torch import autograd, nn


class Generator(nn.Module):
    def __init__(self, nz=4, hidden=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nz, hidden), nn.ReLU(True), nn.Linear(hidden, hidden), nn.ReLU(True),
            nn.Linear(hidden, 2),
        )  # fmt: skip

    def forward(self, noise):
        return self.main(noise)


class Critic(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(2, hidden), nn.ReLU(True), nn.Linear(hidden, hidden), nn.ReLU(True),
            nn.Linear(hidden, 1),
        )  # fmt: skip

    def forward(self, inputs):
        return self.main(inputs).view(-1)


def calc_gradient_penalty(netD, real_data, fake_data, lambda_=0.1):
    alpha = torch.rand(real_data.size(0), 1).expand(real_data.size())
    interpolates = alpha * real_data + (1 - alpha) * fake_data
    interpolates.requires_grad_(True)
    disc_interpolates = netD(interpolates)
    gradients = autograd.grad(
        outputs=disc_interpolates,
        inputs=interpolates,
        grad_outputs=torch.ones(disc_interpolates.size()),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean() * lambda_


def mixture_batch(n):
    centers = torch.tensor([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]]) * 2
    return centers[torch.randint(0, 4, (n,))] + 0.05 * torch.randn(n, 2)


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(3)
netG, netD = Generator(), Critic()
optimizerD = torch.optim.Adam(netD.parameters(), lr=1e-4, betas=(0.5, 0.9))
optimizerG = torch.optim.Adam(netG.parameters(), lr=1e-4, betas=(0.5, 0.9))
critic_iters, batch = 2, 64
d_costs = []
for iteration in range(12):
    for p in netD.parameters():
        p.requires_grad = True
    for _ in range(critic_iters):
        real_data = mixture_batch(batch)
        netD.zero_grad()
        D_real = netD(real_data).mean()
        noise = torch.randn(batch, 4)
        with torch.no_grad():
            fake = netG(noise)
        D_fake = netD(fake).mean()
        gradient_penalty = calc_gradient_penalty(netD, real_data, fake)
        D_cost = D_fake - D_real + gradient_penalty
        D_cost.backward()
        optimizerD.step()
        d_costs.append(D_cost.item())
    for p in netD.parameters():
        p.requires_grad = False
    netG.zero_grad()
    G = netD(netG(torch.randn(batch, 4))).mean()
    G_cost = -G
    G_cost.backward()
    optimizerG.step()
    if iteration % 3 == 0:
        print(f"iter {iteration} D_cost {d_costs[-1]:.10f} G_cost {G_cost.item():.10f}")

print("STEPS", len(d_costs))
names = [n for n, _ in netD.named_parameters()] + ["netG." + n for n, _ in netG.named_parameters()]
print("PARAMS", ",".join(names))
print("FINAL", fingerprint([*netD.state_dict().values(), *netG.state_dict().values()]))
