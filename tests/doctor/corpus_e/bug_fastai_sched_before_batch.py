# expect: scheduler-order @ OneCycleLR
"""fast.ai-style Learner.fit_one_cycle with callbacks; the one-cycle callback steps OneCycleLR in before_batch (fastai sets hyper-parameters there), i.e. before every optimizer.step()."""

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import OneCycleLR
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(3)


class DataLoaders:
    def __init__(self, train, valid):
        self.train, self.valid = train, valid


class Callback:
    order = 0
    learn = None

    def __call__(self, event_name):
        getattr(self, event_name, lambda: None)()


class TrainEvalCallback(Callback):
    def before_train(self):
        self.learn.model.train()
        self.learn.training = True

    def before_validate(self):
        self.learn.model.eval()
        self.learn.training = False


class Recorder(Callback):
    order = 50

    def before_epoch(self):
        self.losses = []

    def after_batch(self):
        if self.learn.training:
            self.losses.append(self.learn.loss.item())

    def after_epoch(self):
        print(
            f"epoch {self.learn.epoch}  train_loss {sum(self.losses) / len(self.losses):.4f}  "
            f"valid_loss {self.learn.valid_loss:.4f}  lr {self.learn.opt.param_groups[0]['lr']:.2e}"
        )


class OneCycleScheduler(Callback):
    order = 10

    def __init__(self, lr_max, pct_start=0.25):
        self.lr_max, self.pct_start = lr_max, pct_start

    def before_fit(self):
        total = self.learn.n_epoch * len(self.learn.dls.train)
        self.sched = OneCycleLR(
            self.learn.opt, max_lr=self.lr_max, total_steps=total, pct_start=self.pct_start
        )

    def before_batch(self):
        if self.learn.training:
            self.sched.step()


class Learner:
    def __init__(
        self, dls, model, loss_func, opt_func=torch.optim.Adam, lr=1e-3, wd=0.01, cbs=None
    ):
        self.dls, self.model, self.loss_func = dls, model, loss_func
        self.opt_func, self.lr, self.wd = opt_func, lr, wd
        self.cbs = [TrainEvalCallback(), Recorder()] + list(cbs or [])
        self.opt = None

    def __call__(self, event_name):
        for cb in sorted(self.cbs, key=lambda c: c.order):
            cb.learn = self
            cb(event_name)

    def one_batch(self, xb, yb):
        self.xb, self.yb = xb, yb
        self("before_batch")
        self.pred = self.model(xb)
        self.loss = self.loss_func(self.pred, yb)
        if self.training:
            self.loss.backward()
            self.opt.step()
            self.opt.zero_grad()
        self("after_batch")

    def all_batches(self, dl):
        for xb, yb in dl:
            self.one_batch(xb, yb)

    def fit(self, n_epoch, cbs=None):
        extra = list(cbs or [])
        self.cbs += extra
        self.n_epoch = n_epoch
        if self.opt is None:
            self.opt = self.opt_func(self.model.parameters(), lr=self.lr, weight_decay=self.wd)
        self("before_fit")
        for self.epoch in range(n_epoch):
            self("before_epoch")
            self("before_train")
            self.all_batches(self.dls.train)
            self("before_validate")
            with torch.no_grad():
                tot, n = 0.0, 0
                for xb, yb in self.dls.valid:
                    tot += self.loss_func(self.model(xb), yb).item() * len(xb)
                    n += len(xb)
                self.valid_loss = tot / n
            self("after_epoch")
        self("after_fit")
        for cb in extra:
            self.cbs.remove(cb)

    def fit_one_cycle(self, n_epoch, lr_max=None, pct_start=0.25):
        self.fit(n_epoch, cbs=[OneCycleScheduler(lr_max or self.lr, pct_start)])


def tabular_model(n_in, n_out, layers=(64, 32)):
    mods, prev = [], n_in
    for h in layers:
        mods += [nn.Linear(prev, h, bias=False), nn.BatchNorm1d(h), nn.ReLU()]
        prev = h
    return nn.Sequential(*mods, nn.Linear(prev, n_out))


x = torch.randn(768, 12)
y = ((x[:, 0] * x[:, 1] > 0).long() + (x[:, 2] > 0.5).long()).clamp(max=1)
train_dl = DataLoader(TensorDataset(x[:640], y[:640]), batch_size=64, shuffle=True)
valid_dl = DataLoader(TensorDataset(x[640:], y[640:]), batch_size=128)

learn = Learner(
    DataLoaders(train_dl, valid_dl),
    tabular_model(12, 2),
    F.cross_entropy,
    opt_func=partial(torch.optim.Adam, betas=(0.9, 0.99)),
)
learn.fit_one_cycle(5, lr_max=1e-2)
