"""A regression MLP on generated data with a OneCycle schedule, gradient clipping, the best
model's state_dict saved whenever the validation loss improves, and the best reloaded at the end."""
import json
import os
import tempfile

import torch
import torch.nn as nn
from sklearn.datasets import make_regression
from torch.utils.data import DataLoader, TensorDataset

X, y = make_regression(n_samples=800, n_features=10, noise=5.0, random_state=0)
X = (X - X.mean(0)) / X.std(0)
y = (y - y.mean()) / y.std()
X_t, y_t = torch.from_numpy(X).float(), torch.from_numpy(y).float().view(-1, 1)
train_ds, val_ds = TensorDataset(X_t[:600], y_t[:600]), TensorDataset(X_t[600:], y_t[600:])


class MLP(nn.Module):
    def __init__(self, n_in, hidden=(64, 32)):
        super().__init__()
        layers, prev = [], n_in
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.Tanh()]
            prev = h
        layers.append(nn.Linear(prev, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


torch.manual_seed(0)
model = MLP(10)
epochs = 10
loader = DataLoader(train_ds, batch_size=50, shuffle=True, drop_last=True)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, epochs=epochs, steps_per_epoch=len(loader))
criterion = nn.MSELoss()
best, path = float("inf"), os.path.join(tempfile.mkdtemp(), "best.pth")
lrs = []
for epoch in range(epochs):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=5.0)
        optimizer.step()
        scheduler.step()
    lrs.append(scheduler.get_last_lr()[0])
    model.eval()
    with torch.no_grad():
        val_loss = criterion(model(val_ds.tensors[0]), val_ds.tensors[1]).item()
    if val_loss < best:
        best = val_loss
        torch.save(model.state_dict(), path)

best_model = MLP(10)
best_model.load_state_dict(torch.load(path))
with torch.no_grad():
    reloaded = criterion(best_model(val_ds.tensors[0]), val_ds.tensors[1]).item()
print("RESULT", json.dumps({"best_val_mse": best, "reloaded_val_mse": reloaded, "final_lr": lrs[-1],
                            "n_params": sum(p.numel() for p in model.parameters() if p.requires_grad)}))
