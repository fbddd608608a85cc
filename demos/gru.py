"""Train the GRU word-language model from the PyTorch examples on a synthetic token stream.

As in that example, tensors are sequence-first, the logits are flattened to (seq·batch, vocab)
for the loss, and gradients are clipped to norm 0.25 before each step. The text is a stream
of phrases over a Zipfian 10,000-word vocabulary (see gradscope.demo.tasks.gru_batches).

    python demos/gru.py --steps 200
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.models import GRULanguageModel
from gradscope.demo.tasks import gru_batches

VOCAB = 10000


def main() -> None:
    parser = argparse.ArgumentParser(description="GRU language model on a synthetic stream.")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--store", default="runs/demo-gru.gsdb")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = GRULanguageModel(vocab=VOCAB, embed=200, hidden=200, layers=2, dropout=0.2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    batches = gru_batches(torch.Generator().manual_seed(0), seq_len=35, batch_size=20)

    with gs.watch(model, optimizer, store=args.store) as scope:
        for step in range(args.steps):
            tokens, next_tokens = next(batches)

            optimizer.zero_grad()
            logits = model(tokens)
            loss = loss_fn(logits.view(-1, VOCAB), next_tokens.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            optimizer.step()

            if step % 25 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {loss.item():.3f}  ppl {loss.exp().item():8.1f}")

    scope.report()


if __name__ == "__main__":
    main()
