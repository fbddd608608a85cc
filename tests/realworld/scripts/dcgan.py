"""A GAN with two models and two optimizers, in the shape of the DCGAN example (1-D "images"):
the discriminator learns from a real and a fake batch with two ``backward()`` calls, then the
generator is updated through the discriminator."""

import hashlib

import torch
from torch import nn

nz, ndf, ngf, size = 8, 32, 32, 16


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nz, ngf), nn.BatchNorm1d(ngf), nn.ReLU(True),
            nn.Linear(ngf, ngf * 2), nn.BatchNorm1d(ngf * 2), nn.ReLU(True),
            nn.Linear(ngf * 2, size), nn.Tanh(),
        )  # fmt: skip

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(size, ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(ndf * 2, ndf), nn.BatchNorm1d(ndf), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(ndf, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Linear") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(999)
grid = torch.linspace(0, 3.14159, size)
dataset = torch.sin(grid + torch.rand(512, 1) * 3.14159) * (0.5 + 0.5 * torch.rand(512, 1))
netG = Generator()
netG.apply(weights_init)
netD = Discriminator()
netD.apply(weights_init)
criterion = nn.BCELoss()
fixed_noise = torch.randn(16, nz)
real_label, fake_label = 1.0, 0.0
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
iters = 0
for epoch in range(2):
    perm = torch.randperm(len(dataset))
    for i in range(0, len(dataset), 64):
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        real_cpu = dataset[perm[i : i + 64]]
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label)
        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, nz)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()
        # (2) Update G network: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()
        if i % 256 == 0:
            print(
                f"[{epoch}/2][{i // 64}] Loss_D: {errD.item():.10f} Loss_G: {errG.item():.10f}"
                f" D(x): {D_x:.6f} D(G(z)): {D_G_z1:.6f} / {D_G_z2:.6f}"
            )
        iters += 1
with torch.no_grad():
    netG.eval()
    print(f"fixed noise sample mean {netG(fixed_noise).mean().item():.10f}")

print("STEPS", iters)
names = [n for n, _ in netD.named_parameters()] + ["netG." + n for n, _ in netG.named_parameters()]
print("PARAMS", ",".join(names))
print("FINAL", fingerprint([*netD.state_dict().values(), *netG.state_dict().values()]))
