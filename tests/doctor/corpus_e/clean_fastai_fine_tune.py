# expect: clean
"""fast.ai-style Learner.fine_tune: freeze the body (BatchNorm stays trainable, as fastai's train_bn does), fit_one_cycle the head for one epoch, unfreeze, fit_one_cycle everything with discriminative lrs; OneCycleLR is stepped after each optimizer step."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(21)


def conv_block(ni, nf):
    return nn.Sequential(
        nn.Conv2d(ni, nf, 3, padding=1, bias=False), nn.BatchNorm2d(nf), nn.ReLU(inplace=True)
    )


def create_body():
    "A stand-in for a pretrained backbone."
    return nn.Sequential(
        conv_block(1, 8), nn.MaxPool2d(2), conv_block(8, 16), nn.MaxPool2d(2), conv_block(16, 32)
    )


def create_head(nf, n_out):
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.BatchNorm1d(nf),
        nn.Dropout(0.25),
        nn.Linear(nf, n_out),
    )


class Learner:
    def __init__(self, dls, model, loss_func=F.cross_entropy, wd=1e-2):
        self.train_dl, self.valid_dl = dls
        self.model, self.loss_func, self.wd = model, loss_func, wd
        body, head = model[0], model[1]
        self.opt = torch.optim.AdamW(
            [{"params": list(body.parameters())}, {"params": list(head.parameters())}],
            lr=1e-3,
            weight_decay=wd,
        )

    def freeze(self):
        for m in self.model[0].modules():
            if not isinstance(m, nn.BatchNorm2d):
                for p in m.parameters(recurse=False):
                    p.requires_grad_(False)

    def unfreeze(self):
        self.model.requires_grad_(True)

    def fit_one_cycle(self, n_epoch, lr_max):
        lr_max = (
            lr_max if isinstance(lr_max, (list, tuple)) else [lr_max] * len(self.opt.param_groups)
        )
        sched = OneCycleLR(
            self.opt, max_lr=list(lr_max), total_steps=n_epoch * len(self.train_dl), pct_start=0.3
        )
        for epoch in range(n_epoch):
            self.model.train()
            tl = []
            for xb, yb in self.train_dl:
                loss = self.loss_func(self.model(xb), yb)
                loss.backward()
                self.opt.step()
                sched.step()
                self.opt.zero_grad()
                tl.append(loss.item())
            self.model.eval()
            with torch.no_grad():
                correct = sum(
                    (self.model(xb).argmax(1) == yb).sum().item() for xb, yb in self.valid_dl
                )
            print(
                f"epoch {epoch}  train_loss {sum(tl) / len(tl):.4f}  accuracy {correct / len(self.valid_dl.dataset):.3f}"
            )

    def fine_tune(self, epochs, base_lr=2e-3, freeze_epochs=1, lr_mult=10):
        self.freeze()
        self.fit_one_cycle(freeze_epochs, base_lr)
        self.unfreeze()
        self.fit_one_cycle(epochs, [base_lr / lr_mult / 2, base_lr / 2])


# 16x16 "images": class 0 = horizontal stripes, 1 = vertical stripes, 2 = blob
def make_images(n):
    y = torch.randint(0, 3, (n,))
    ar = torch.arange(16.0)
    horiz = torch.sin(ar * 1.2)[:, None].expand(16, 16)
    vert = horiz.t()
    blob = torch.exp(-((ar[:, None] - 8) ** 2 + (ar[None, :] - 8) ** 2) / 10)
    protos = torch.stack([horiz, vert, blob * 2])
    return (protos[y] + 0.8 * torch.randn(n, 16, 16)).unsqueeze(1), y


x, y = make_images(640)
dls = (
    DataLoader(TensorDataset(x[:512], y[:512]), batch_size=32, shuffle=True, drop_last=True),
    DataLoader(TensorDataset(x[512:], y[512:]), batch_size=64),
)
learn = Learner(dls, nn.Sequential(create_body(), create_head(32, 3)))
learn.fine_tune(2)
