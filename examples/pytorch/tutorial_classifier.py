"""The classic "training a classifier" tutorial (conv, pool, three linear layers, SGD with
momentum, running loss, per-class accuracy) on small generated 3x16x16 images."""
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.utils.data

classes = ("bar", "cross", "dot", "ring")


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    images = rng.normal(0, 0.3, (n, 3, 16, 16)).astype(np.float32)
    yy, xx = np.mgrid[:16, :16]
    for i, c in enumerate(labels):
        cy, cx = rng.integers(5, 11, 2)
        if c == 0:
            mask = np.abs(yy - cy) <= 1
        elif c == 1:
            mask = (np.abs(yy - cy) <= 1) | (np.abs(xx - cx) <= 1)
        elif c == 2:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= 4
        else:
            mask = np.abs(np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) - 4) <= 1
        images[i, :] += 1.0 * mask
    return images, labels


train_x, train_y = make_images(600, 1)
test_x, test_y = make_images(200, 2)
trainset = torch.utils.data.TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
testset = torch.utils.data.TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_y))
trainloader = torch.utils.data.DataLoader(trainset, batch_size=16, shuffle=True, num_workers=0)
testloader = torch.utils.data.DataLoader(testset, batch_size=16, shuffle=False, num_workers=0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 2 * 2, 60)
        self.fc2 = nn.Linear(60, 42)
        self.fc3 = nn.Linear(42, 4)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)  # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


torch.manual_seed(0)
net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

for epoch in range(8):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 20 == 19:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 20:.3f}")
            running_loss = 0.0

correct, total = 0, 0
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
with torch.no_grad():
    for data in testloader:
        images, labels = data
        outputs = net(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()
        for label, prediction in zip(labels, predicted):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1

for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / total_pred[classname]
    print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
print("RESULT", json.dumps({"test_acc": correct / total}))
