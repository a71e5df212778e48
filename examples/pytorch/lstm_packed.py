"""An LSTM classifier over variable-length sequences: pad_sequence, pack_padded_sequence
(unsorted lengths), the final hidden state of each sequence, and a custom collate_fn.
The task: is the sum of a sequence of +-1 steps positive?"""
import json

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

rng = np.random.default_rng(0)
sequences, labels = [], []
for _ in range(400):
    length = int(rng.integers(3, 15))
    steps = rng.choice([-1.0, 1.0], size=length) * rng.uniform(0.5, 1.5, size=length)
    sequences.append(torch.tensor(steps, dtype=torch.float32).unsqueeze(-1))
    labels.append(int(steps.sum() > 0))
data = list(zip(sequences, labels))


def collate(batch):
    seqs, targets = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(list(seqs), batch_first=True), lengths, torch.tensor(targets)


class Classifier(nn.Module):
    def __init__(self, hidden_size=16):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, padded, lengths):
        packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
        packed_out, (h_n, c_n) = self.lstm(packed)
        out, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
        return self.head(h_n[-1]), out, out_lengths


torch.manual_seed(0)
model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
criterion = nn.CrossEntropyLoss()
train_loader = DataLoader(data[:300], batch_size=32, shuffle=True, collate_fn=collate)
test_loader = DataLoader(data[300:], batch_size=100, collate_fn=collate)

for epoch in range(6):
    model.train()
    for padded, lengths, targets in train_loader:
        optimizer.zero_grad()
        logits, _, _ = model(padded, lengths)
        loss = criterion(logits, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()

model.eval()
correct, lengths_ok = 0, True
with torch.no_grad():
    for padded, lengths, targets in test_loader:
        logits, out, out_lengths = model(padded, lengths)
        correct += (logits.argmax(dim=1) == targets).sum().item()
        lengths_ok = lengths_ok and torch.equal(out_lengths, lengths) and out.shape[1] == int(lengths.max())
print("RESULT", json.dumps({"test_acc": correct / 100, "lengths_ok": bool(lengths_ok)}))
