# expect: clean
"""A Keras-like Model wrapper: compile(optimizer, loss, metrics) then fit(x, y, epochs, batch_size, validation_data, callbacks=[EarlyStopping(restore_best_weights=True)]), with a Dense/Dropout stack and sparse categorical crossentropy on logits."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class EarlyStopping:
    def __init__(self, monitor="val_loss", patience=2, restore_best_weights=False):
        self.monitor, self.patience, self.restore_best_weights = (
            monitor,
            patience,
            restore_best_weights,
        )

    def on_train_begin(self, model):
        self.best, self.wait, self.best_state = float("inf"), 0, None

    def on_epoch_end(self, model, epoch, logs):
        current = logs[self.monitor]
        if current < self.best - 1e-4:
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_state = copy.deepcopy(model.net.state_dict())
        else:
            self.wait += 1
            if self.wait >= self.patience:
                model.stop_training = True

    def on_train_end(self, model):
        if self.restore_best_weights and self.best_state is not None:
            model.net.load_state_dict(self.best_state)


def Dense(units, activation=None, input_dim=None):
    layers = [nn.LazyLinear(units) if input_dim is None else nn.Linear(input_dim, units)]
    if activation == "relu":
        layers.append(nn.ReLU())
    elif activation == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class Model:
    LOSSES = {"sparse_categorical_crossentropy": F.cross_entropy, "mse": F.mse_loss}

    def __init__(self, layers):
        self.net = nn.Sequential(*layers)
        self.stop_training = False

    def compile(self, optimizer, loss, metrics=()):
        self.optimizer = optimizer(self.net.parameters())
        self.loss = self.LOSSES[loss]
        self.metrics = metrics

    def _metrics(self, logits, y):
        return (
            {"accuracy": (logits.argmax(1) == y).float().mean().item()}
            if "accuracy" in self.metrics
            else {}
        )

    def fit(self, x, y, epochs=1, batch_size=32, validation_data=None, callbacks=(), verbose=1):
        for cb in callbacks:
            cb.on_train_begin(self)
        for epoch in range(epochs):
            self.net.train()
            perm = torch.randperm(len(x))
            seen, total = 0, 0.0
            for i in range(0, len(x), batch_size):
                idx = perm[i : i + batch_size]
                self.optimizer.zero_grad()
                logits = self.net(x[idx])
                loss = self.loss(logits, y[idx])
                loss.backward()
                self.optimizer.step()
                total += loss.item() * len(idx)
                seen += len(idx)
            logs = {"loss": total / seen}
            if validation_data is not None:
                self.net.eval()
                with torch.no_grad():
                    vx, vy = validation_data
                    vlogits = self.net(vx)
                    logs["val_loss"] = self.loss(vlogits, vy).item()
                    logs.update({"val_" + k: v for k, v in self._metrics(vlogits, vy).items()})
            if verbose:
                print(
                    f"Epoch {epoch + 1}/{epochs} - "
                    + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
                )
            for cb in callbacks:
                cb.on_epoch_end(self, epoch, logs)
            if self.stop_training:
                print("early stopping")
                break
        for cb in callbacks:
            cb.on_train_end(self)


torch.manual_seed(8)
n, d = 1000, 20
x = torch.randn(n, d)
y = (x[:, :3].sum(1) > 0).long() + (x[:, 3] > 1).long()
x_train, y_train, x_val, y_val = x[:800], y[:800], x[800:], y[800:]

model = Model(
    [
        Dense(64, "relu", input_dim=d),
        nn.Dropout(0.2),
        Dense(32, "relu", input_dim=64),
        Dense(3, input_dim=32),
    ]
)
model.compile(
    optimizer=lambda p: torch.optim.RMSprop(p, lr=1e-3),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
model.fit(
    x_train,
    y_train,
    epochs=8,
    batch_size=64,
    validation_data=(x_val, y_val),
    callbacks=[EarlyStopping(patience=2, restore_best_weights=True)],
)
