"""A LightningModule trained by ``lightning.Trainer`` for a few steps on CPU (no logger, no
checkpoints, no progress bar), in the style of the Lightning quick-start."""

import hashlib

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class LitClassifier(L.LightningModule):
    def __init__(self, lr=1e-2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.1))
        self.classifier = nn.Linear(32, 3)
        self.lr = lr
        self.losses = []

    def forward(self, x):
        return self.classifier(self.encoder(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        self.losses.append(loss.item())
        return loss

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    L.seed_everything(0, verbose=False)
    x = torch.randn(240, 10)
    y = x[:, :3].argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = LitClassifier()
    trainer = L.Trainer(
        max_steps=12,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, loader)
    for step, loss in enumerate(model.losses):
        if step % 3 == 0:
            print(f"step {step} loss {loss:.10f}")
    print("STEPS", trainer.global_step)
    print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
    print("LOSSES", ",".join(repr(v) for v in model.losses))
    print("FINAL", fingerprint(model.state_dict().values()))
