# expect: clean
"""BiLSTM over packed variable-length sequences, padding_idx embedding, clipping."""

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

torch.manual_seed(0)

PAD, VOCAB = 0, 30


class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 16, padding_idx=PAD)
        self.lstm = nn.LSTM(16, 32, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(64, 2)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(
            self.emb(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        _, (h, _) = self.lstm(packed)
        return self.fc(torch.cat([h[0], h[1]], dim=1))


def make_batch(n=32):
    lengths = torch.randint(3, 15, (n,))
    seqs = [torch.randint(1, VOCAB, (int(length),)) for length in lengths]
    labels = torch.tensor([int((s < 10).sum() > (s >= 20).sum()) for s in seqs])
    return pad_sequence(seqs, batch_first=True, padding_value=PAD), lengths, labels


model = LSTMClassifier()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
criterion = nn.CrossEntropyLoss()

for step in range(50):
    tokens, lengths, labels = make_batch()
    optimizer.zero_grad()
    loss = criterion(model(tokens, lengths), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 10 == 0:
        print(f"step {step} loss {loss.item():.4f}")
