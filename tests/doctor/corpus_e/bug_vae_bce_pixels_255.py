# expect: loss-target-range @ F.binary_cross_entropy_with_logits|nn.BCEWithLogitsLoss|BCEWithLogitsLoss
"""VAE in the style of the official PyTorch example, on random 16x16 uint8 "images"; the model normalises its own input, but the loss compares the reconstruction with the raw batch (.float(), never divided by 255), so BCEWithLogitsLoss gets pixel targets in [0, 255] (BCELoss would have refused them)."""

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(1)

# blobby 16x16 images, stored as uint8 like a decoded PNG
n = 512
yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
cx, cy = torch.rand(n, 1, 1) * 10 + 3, torch.rand(n, 1, 1) * 10 + 3
blobs = torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 8.0)
images_u8 = (blobs * 255).round().to(torch.uint8)

dataset = TensorDataset(images_u8.float().view(n, 256))
train_loader = DataLoader(dataset, batch_size=64, shuffle=True)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 128)
        self.fc21 = nn.Linear(128, 8)
        self.fc22 = nn.Linear(128, 8)
        self.fc3 = nn.Linear(8, 128)
        self.fc4 = nn.Linear(128, 256)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return self.fc4(h3)  # logits; sigmoid lives in the loss for stability

    def forward(self, x):
        x = (
            x.view(-1, 256) - 127.5
        ) / 127.5  # normalise inside the model, like transforms.Normalize
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


model = VAE()
optimizer = optim.Adam(model.parameters(), lr=1e-4)


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy_with_logits(recon_x, x.view(-1, 256), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def train(epoch):
    model.train()
    train_loss = 0
    for batch_idx, (data,) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")


for epoch in range(1, 5):
    train(epoch)
