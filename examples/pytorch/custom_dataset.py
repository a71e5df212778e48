"""A custom Dataset over scikit-learn's breast-cancer table, split with random_split (fractions and a
seeded Generator), loaded with worker processes, and an MLP with a learning-rate scheduler."""
import json

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split


class CancerDataset(Dataset):
    def __init__(self, transform=None):
        data = load_breast_cancer()
        x = data.data.astype(np.float32)
        self.features = (x - x.mean(0)) / x.std(0)
        self.labels = data.target.astype(np.int64)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()
        sample = torch.tensor(self.features[idx])
        if self.transform:
            sample = self.transform(sample)
        return sample, self.labels[idx]


if __name__ == "__main__":
    torch.manual_seed(0)
    dataset = CancerDataset()
    generator = torch.Generator().manual_seed(42)
    train_set, val_set, test_set = random_split(dataset, [0.7, 0.15, 0.15], generator=generator)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=2)
    val_loader = DataLoader(val_set, batch_size=64, num_workers=2)
    test_loader = DataLoader(test_set, batch_size=64)

    model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 2))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)

    def evaluate(loader):
        model.eval()
        size, total_loss, correct = len(loader.dataset), 0.0, 0
        with torch.no_grad():
            for X, y in loader:
                pred = model(X)
                total_loss += loss_fn(pred, y).item() * len(y)
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        return total_loss / size, correct / size

    for epoch in range(6):
        model.train()
        for batch, (X, y) in enumerate(train_loader):
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        val_loss, val_acc = evaluate(val_loader)
        scheduler.step(val_loss)
        print(f"epoch {epoch}: val loss {val_loss:>7f}, val acc {100 * val_acc:>0.1f}%")
    test_loss, test_acc = evaluate(test_loader)
    print("RESULT", json.dumps({"sizes": [len(train_set), len(val_set), len(test_set)],
                                "test_loss": test_loss, "test_acc": test_acc}))
