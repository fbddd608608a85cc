# expect: softmax-before-cross-entropy @ F.cross_entropy|FocalLoss|criterion
"""A custom nn.Module FocalLoss for an imbalanced 5-class problem; it turns the logits into probabilities with softmax and then hands those probabilities to F.cross_entropy."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): down-weights easy examples."""

    def __init__(self, gamma=2.0, alpha=None, reduction="mean"):
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = reduction

    def forward(self, inputs, targets):
        probs = F.softmax(inputs, dim=-1)
        ce_loss = F.cross_entropy(probs, targets, weight=self.alpha, reduction="none")
        pt = probs.gather(1, targets.unsqueeze(1)).squeeze(1)
        loss = (1 - pt) ** self.gamma * ce_loss
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


class MLPClassifier(nn.Module):
    def __init__(self, in_features, n_classes):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Linear(in_features, 64),
            nn.LayerNorm(64),
            nn.GELU(),
            nn.Linear(64, 64),
            nn.LayerNorm(64),
            nn.GELU(),
        )
        self.head = nn.Linear(64, n_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def main():
    torch.manual_seed(5)
    n, d, k = 1500, 16, 5
    centers = torch.randn(k, d) * 1.5
    class_probs = torch.tensor([0.6, 0.2, 0.1, 0.07, 0.03])
    y = torch.multinomial(class_probs, n, replacement=True)
    x = centers[y] + torch.randn(n, d)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)

    model = MLPClassifier(d, k)
    criterion = FocalLoss(gamma=2.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    for epoch in range(3):
        running = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item()
        print(f"epoch {epoch}: focal loss {running / len(loader):.4f}")


if __name__ == "__main__":
    main()
