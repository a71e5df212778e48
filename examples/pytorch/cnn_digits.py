"""A small CNN on scikit-learn's 8x8 digits, with the usual device boilerplate and a
checkpoint that is saved, then loaded to resume training (PyTorch tutorial style)."""
import json
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

digits = load_digits()
x = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
y = torch.tensor(digits.target, dtype=torch.long)
train_ds = TensorDataset(x[:1400], y[:1400])
test_ds = TensorDataset(x[1400:], y[1400:])
train_loader = DataLoader(train_ds, batch_size=64, shuffle=True)
test_loader = DataLoader(test_ds, batch_size=256)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, padding=1)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def train(model, device, loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()


def test(model, device, loader):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(loader.dataset), correct / len(loader.dataset)


model = Net().to(device)
print(model)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
for epoch in range(1, 3):
    train(model, device, train_loader, optimizer, epoch)
    scheduler.step()

path = os.path.join(tempfile.mkdtemp(), "checkpoint.pt")
torch.save({"epoch": 2, "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)

resumed = Net().to(device)
resumed_opt = optim.Adam(resumed.parameters(), lr=3e-3)
resumed_sched = optim.lr_scheduler.StepLR(resumed_opt, step_size=1, gamma=0.7)
checkpoint = torch.load(path, map_location=device, weights_only=True)
resumed.load_state_dict(checkpoint["model_state_dict"])
resumed_opt.load_state_dict(checkpoint["optimizer_state_dict"])
resumed_sched.load_state_dict(checkpoint["scheduler"])
same = all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), resumed.state_dict().values()))
for epoch in range(checkpoint["epoch"] + 1, 5):
    train(resumed, device, train_loader, resumed_opt, epoch)
    resumed_sched.step()
loss, acc = test(resumed, device, test_loader)
print(f"Test set: Average loss: {loss:.4f}, Accuracy: {100. * acc:.1f}%")
print("RESULT", json.dumps({"test_loss": loss, "test_acc": acc, "resumed_equal": bool(same),
                            "lr": resumed_sched.get_last_lr()[0]}))
