# expect: grad-not-zeroed @ optimizer0:AdamW
"""HuggingFace-style loop (ModelOutput with .loss, hand-written get_linear_schedule_with_warmup, accumulation); the zero_grad() inside the `(step + 1) % accum == 0` branch got lost, so gradients pile up across optimizer steps."""

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Dataset


@dataclass
class TrainingArguments:
    learning_rate: float = 5e-4
    weight_decay: float = 0.01
    num_train_epochs: int = 3
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 4
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    seed: int = 42


@dataclass
class SequenceClassifierOutput:
    loss: Optional[torch.Tensor] = None
    logits: Optional[torch.Tensor] = None


class TinyBertConfig:
    vocab_size = 64
    hidden_size = 32
    num_attention_heads = 4
    intermediate_size = 64
    max_position_embeddings = 16
    hidden_dropout_prob = 0.1
    num_labels = 2


class TinyBertForSequenceClassification(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.encoder = nn.TransformerEncoderLayer(
            config.hidden_size,
            config.num_attention_heads,
            config.intermediate_size,
            dropout=config.hidden_dropout_prob,
            batch_first=True,
        )
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids, attention_mask=None, labels=None):
        positions = torch.arange(input_ids.size(1)).unsqueeze(0)
        h = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        h = self.dropout(self.LayerNorm(h))
        pad_mask = None if attention_mask is None else attention_mask == 0
        h = self.encoder(h, src_key_padding_mask=pad_mask)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = nn.CrossEntropyLoss()(logits.view(-1, self.config.num_labels), labels.view(-1))
        return SequenceClassifierOutput(loss=loss, logits=logits)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
    def lr_lambda(current_step: int):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(
            0.0,
            float(num_training_steps - current_step)
            / float(max(1, num_training_steps - num_warmup_steps)),
        )

    return LambdaLR(optimizer, lr_lambda, last_epoch)


class ToyGlueDataset(Dataset):
    """Label 1 when token 7 appears in the sentence."""

    def __init__(self, n, seq_len=16, vocab=64):
        g = torch.Generator().manual_seed(0)
        self.input_ids = torch.randint(1, vocab, (n, seq_len), generator=g)
        self.input_ids[:, 0] = 0  # [CLS]
        self.labels = (self.input_ids == 7).any(1).long()

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {
            "input_ids": self.input_ids[i],
            "attention_mask": torch.ones_like(self.input_ids[i]),
            "labels": self.labels[i],
        }


def main():
    args = TrainingArguments()
    torch.manual_seed(args.seed)
    model = TinyBertForSequenceClassification(TinyBertConfig())
    train_dataset = ToyGlueDataset(128)
    train_dataloader = DataLoader(
        train_dataset, batch_size=args.per_device_train_batch_size, shuffle=True
    )

    no_decay = ["bias", "LayerNorm.weight"]
    optimizer_grouped_parameters = [
        {
            "params": [
                p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)
            ],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(optimizer_grouped_parameters, lr=args.learning_rate)

    num_update_steps_per_epoch = math.ceil(len(train_dataloader) / args.gradient_accumulation_steps)
    max_train_steps = args.num_train_epochs * num_update_steps_per_epoch
    lr_scheduler = get_linear_schedule_with_warmup(
        optimizer,
        num_warmup_steps=int(args.warmup_ratio * max_train_steps),
        num_training_steps=max_train_steps,
    )

    completed_steps = 0
    model.zero_grad()
    for epoch in range(args.num_train_epochs):
        model.train()
        total_loss = 0.0
        for step, batch in enumerate(train_dataloader):
            outputs = model(**batch)
            loss = outputs.loss
            total_loss += loss.item()
            loss = loss / args.gradient_accumulation_steps
            loss.backward()
            if (step + 1) % args.gradient_accumulation_steps == 0 or step == len(
                train_dataloader
            ) - 1:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                completed_steps += 1
        print(
            f"epoch {epoch} loss {total_loss / len(train_dataloader):.4f} steps {completed_steps}"
        )


if __name__ == "__main__":
    main()
