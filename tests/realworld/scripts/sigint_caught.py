"""Ctrl-C during training, handled as the word_language_model example does: the loop sits in
``try: ... except KeyboardInterrupt:``, and the script then evaluates and saves what it has. The
interrupt is raised by the script itself at a fixed step (``signal.raise_signal(SIGINT)``), so
the run is reproducible."""

import hashlib
import signal

import torch
from torch import nn


class TransformerLM(nn.Module):
    def __init__(self, ntoken=24, d_model=32, nhead=2, nlayers=1):
        super().__init__()
        self.embedding = nn.Embedding(ntoken, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 64, dropout=0.1)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.decoder = nn.Linear(d_model, ntoken)

    def forward(self, src, mask):
        return self.decoder(self.transformer_encoder(self.embedding(src), mask))


def fingerprint(tensors):
    """sha256 of the tensors' bytes and of the global RNG state."""
    digest = hashlib.sha256()
    for t in tensors:
        digest.update(t.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    digest.update(torch.random.get_rng_state().numpy().tobytes())
    return digest.hexdigest()


torch.manual_seed(17)
ntokens, bptt = 24, 10
source = torch.arange(2000) % ntokens
source = torch.where(torch.rand(2000) < 0.1, torch.randint(0, ntokens, (2000,)), source)
train_data = source[:1600].view(20, -1).t().contiguous()
val_data = source[1600:].view(10, -1).t().contiguous()
mask = nn.Transformer.generate_square_subsequent_mask(bptt)
model = TransformerLM()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
losses = []


def train(epoch):
    model.train()
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = train_data[i : i + bptt], train_data[i + 1 : i + 1 + bptt]
        if targets.size(0) != bptt:
            continue
        output = model(data, mask)
        loss = criterion(output.view(-1, ntokens), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())
        print(f"| epoch {epoch} | batch {batch:2d} | loss {loss.item():.10f}")
        if len(losses) == 12:
            signal.raise_signal(signal.SIGINT)  # the user presses Ctrl-C here


def evaluate():
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, val_data.size(0) - bptt, bptt):
            data, targets = val_data[i : i + bptt], val_data[i + 1 : i + 1 + bptt]
            total += criterion(model(data, mask).view(-1, ntokens), targets.reshape(-1)).item()
    return total


try:
    for epoch in range(1, 4):
        train(epoch)
        print(f"| end of epoch {epoch} | valid loss {evaluate():.10f}")
        scheduler.step()
except KeyboardInterrupt:
    print("-" * 40)
    print("Exiting from training early")

torch.save(model.state_dict(), "model.pt")
print(f"| end of training | valid loss {evaluate():.10f}")
print("STEPS", len(losses))
print("PARAMS", ",".join(name for name, _ in model.named_parameters()))
print("LOSSES", ",".join(repr(v) for v in losses))
print("FINAL", fingerprint(model.state_dict().values()))
