"""Weight initialisation with `Module.apply`, forward hooks that record activation statistics,
a backward hook, and a manual SGD step on `p.data` / `p.grad` under no_grad."""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import make_moons


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 32)
        self.fc2 = nn.Linear(32, 32)
        self.out = nn.Linear(32, 2)

    def forward(self, x):
        return self.out(F.relu(self.fc2(F.relu(self.fc1(x)))))


X, y = make_moons(n_samples=400, noise=0.15, random_state=0)
X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
torch.manual_seed(0)
net = Net()
net.apply(init_weights)
activations, grad_norms = {}, []


def record(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()
    return hook


handles = [module.register_forward_hook(record(name)) for name, module in net.named_children()]
handles.append(net.fc1.register_full_backward_hook(lambda m, gin, gout: grad_norms.append(gout[0].norm().item())))
print(net)

lr = 0.1
for step in range(150):
    net.zero_grad()
    loss = F.cross_entropy(net(X), y)
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            p -= lr * p.grad
dead = {name: (a <= 0).float().mean().item() for name, a in activations.items() if name != "out"}
for h in handles:
    h.remove()
n_before = len(grad_norms)
net(X).sum().backward()
acc = (net(X).argmax(1) == y).float().mean().item()
print("RESULT", json.dumps({"train_acc": acc, "final_loss": loss.item(), "hooks_removed": len(grad_norms) == n_before,
                            "hooked_steps": n_before, "fc1_std": net.fc1.weight.std().item() > 0}))
