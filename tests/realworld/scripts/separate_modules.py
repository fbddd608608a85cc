"""A character-level next-token model written as separate top-level modules trained by one
optimizer, as the sequence tutorials write it: ``embed``, ``gru`` and ``out`` are plain variables
and ``SGD(list(embed.parameters()) + list(gru.parameters()) + list(out.parameters()))``."""

import hashlib

import torch
from torch import nn


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(12)
text = "the quick brown fox jumps over the lazy dog " * 12
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])
n_chars, hidden_size, seq_len = len(chars), 24, 12

embed = nn.Embedding(n_chars, hidden_size)
gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
out = nn.Linear(hidden_size, n_chars)
criterion = nn.CrossEntropyLoss()
learning_rate = 0.5
optimizer = torch.optim.SGD(
    list(embed.parameters()) + list(gru.parameters()) + list(out.parameters()), lr=learning_rate
)

losses = []
for it in range(25):
    starts = torch.randint(0, len(data) - seq_len - 1, (16,))
    inputs = torch.stack([data[s : s + seq_len] for s in starts])
    targets = torch.stack([data[s + 1 : s + seq_len + 1] for s in starts])
    optimizer.zero_grad()
    output, hidden = gru(embed(inputs))
    logits = out(output)
    loss = criterion(logits.reshape(-1, n_chars), targets.reshape(-1))
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if it % 5 == 0:
        print(f"iter {it:2d} loss {loss.item():.10f}")

with torch.no_grad():
    ids = [stoi["t"]]
    hidden = None
    for _ in range(20):
        output, hidden = gru(embed(torch.tensor([[ids[-1]]])), hidden)
        ids.append(int(out(output)[0, -1].argmax()))
print("sample:", "".join(chars[i] for i in ids))
print("STEPS", len(losses))
names = [
    *("embed." + n for n, _ in embed.named_parameters()),
    *("gru." + n for n, _ in gru.named_parameters()),
    *("out." + n for n, _ in out.named_parameters()),
]
print("PARAMS", ",".join(names))
print("LOSSES", ",".join(repr(v) for v in losses))
tensors = [*embed.state_dict().values(), *gru.state_dict().values(), *out.state_dict().values()]
print("FINAL", fingerprint(tensors))
