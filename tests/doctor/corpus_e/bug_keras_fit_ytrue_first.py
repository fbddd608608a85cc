# expect: loss-broadcast @ F.mse_loss|nn.MSELoss|MSELoss
"""A Keras-like Sequential wrapper (compile/fit/evaluate); losses are called Keras-style as loss(y_true, y_pred) with y of shape (N,) against predictions of shape (N, 1), which broadcasts to (N, N)."""

import numpy as np
import torch
import torch.nn as nn


class History:
    def __init__(self):
        self.history = {"loss": [], "val_loss": []}


class Sequential(nn.Module):
    _losses = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}
    _optimizers = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def compile(self, optimizer="adam", loss="mse", learning_rate=1e-3):
        self.optimizer = self._optimizers[optimizer](self.parameters(), lr=learning_rate)
        self.loss = self._losses[loss]()

    def train_step(self, x, y):
        self.optimizer.zero_grad()
        y_pred = self(x)
        loss = self.loss(y, y_pred)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def evaluate(self, x, y, batch_size=256):
        self.eval()
        with torch.no_grad():
            out = self.loss(y, self(x)).item()
        self.train()
        return out

    def fit(self, x, y, epochs=1, batch_size=32, validation_split=0.0, verbose=1, shuffle=True):
        x = torch.as_tensor(x, dtype=torch.float32)
        y = torch.as_tensor(y, dtype=torch.float32)
        n_val = int(len(x) * validation_split)
        x_train, y_train = x[: len(x) - n_val], y[: len(y) - n_val]
        x_val, y_val = x[len(x) - n_val :], y[len(y) - n_val :]
        history = History()
        self.train()
        for epoch in range(epochs):
            order = torch.randperm(len(x_train)) if shuffle else torch.arange(len(x_train))
            losses = []
            for i in range(0, len(x_train), batch_size):
                idx = order[i : i + batch_size]
                losses.append(self.train_step(x_train[idx], y_train[idx]))
            history.history["loss"].append(float(np.mean(losses)))
            if n_val:
                history.history["val_loss"].append(self.evaluate(x_val, y_val))
            if verbose:
                msg = f"Epoch {epoch + 1}/{epochs} - loss: {history.history['loss'][-1]:.4f}"
                if n_val:
                    msg += f" - val_loss: {history.history['val_loss'][-1]:.4f}"
                print(msg)
        return history


rng = np.random.default_rng(0)
torch.manual_seed(0)
X = rng.normal(size=(600, 8)).astype("float32")
coef = rng.normal(size=8).astype("float32")
Y = X @ coef + 0.1 * rng.normal(size=600).astype("float32")  # shape (600,)

model = Sequential([nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1)])
model.compile(optimizer="adam", loss="mse", learning_rate=3e-3)
hist = model.fit(X, Y, epochs=6, batch_size=32, validation_split=0.2)
