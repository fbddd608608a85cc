"""Train a small transformer encoder to tell which token bucket a sequence is richest in.

Token ids 0-999 fall into ten buckets of 100; the label is the bucket that occurs most often
in the 128-token sequence (see gradscope.demo.tasks.transformer_batches). Four post-norm
encoder layers, mean-pooled, feed a linear head trained with AdamW.

    python demos/transformer.py --steps 60
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.models import TransformerClassifier
from gradscope.demo.tasks import transformer_batches


def main() -> None:
    parser = argparse.ArgumentParser(description="Transformer encoder on token buckets.")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--store", default="runs/demo-transformer.gsdb")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = TransformerClassifier(d_model=256, nhead=4, dim_feedforward=1024, num_layers=4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    batches = transformer_batches(torch.Generator().manual_seed(0), seq_len=128, batch_size=16)

    with gs.watch(model, optimizer, store=args.store) as scope:
        for step in range(args.steps):
            tokens, labels = next(batches)

            optimizer.zero_grad()
            logits = model(tokens)
            loss = loss_fn(logits, labels)
            loss.backward()
            optimizer.step()

            accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
            if step % 10 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {loss.item():.3f}  accuracy {accuracy:.2f}")

    scope.report()


if __name__ == "__main__":
    main()
