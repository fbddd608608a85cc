# expect: nll-input-not-log @ F.nll_loss|nn.NLLLoss|NLLLoss
"""Seq2seq GRU encoder-decoder with teacher forcing (the NLP-from-scratch tutorial, batched); the decoder's LogSoftmax was dropped when batching it, but the criterion is still nn.NLLLoss on raw scores."""

import random

import torch
import torch.nn as nn
from torch import optim

SOS_token, EOS_token = 0, 1
VOCAB = 12
MAX_LENGTH = 7
teacher_forcing_ratio = 0.5
random.seed(0)
torch.manual_seed(0)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        embedded = self.embedding(input)
        output, hidden = self.gru(embedded)
        return output, hidden


class DecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, input, hidden):
        output = self.embedding(input).relu()
        output, hidden = self.gru(output, hidden)
        output = self.out(output[:, 0])
        return output, hidden


def random_pair(batch_size):
    """Reverse a random sequence of tokens 2..VOCAB-1."""
    src = torch.randint(2, VOCAB, (batch_size, MAX_LENGTH - 1))
    tgt = torch.cat([src.flip(1), torch.full((batch_size, 1), EOS_token)], dim=1)
    return src, tgt


def train(
    input_tensor, target_tensor, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion
):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()

    _, encoder_hidden = encoder(input_tensor)
    batch_size, target_length = target_tensor.shape
    decoder_input = torch.full((batch_size, 1), SOS_token, dtype=torch.long)
    decoder_hidden = encoder_hidden
    loss = 0

    use_teacher_forcing = random.random() < teacher_forcing_ratio
    for di in range(target_length):
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden)
        loss += criterion(decoder_output, target_tensor[:, di])
        if use_teacher_forcing:
            decoder_input = target_tensor[:, di : di + 1]  # Teacher forcing
        else:
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.detach()  # detach from history as input

    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item() / target_length


hidden_size = 48
encoder = EncoderRNN(VOCAB, hidden_size)
decoder = DecoderRNN(hidden_size, VOCAB)
encoder_optimizer = optim.SGD(encoder.parameters(), lr=0.05)
decoder_optimizer = optim.SGD(decoder.parameters(), lr=0.05)
criterion = nn.NLLLoss()

print_loss_total = 0.0
for it in range(1, 61):
    src, tgt = random_pair(32)
    print_loss_total += train(
        src, tgt, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion
    )
    if it % 15 == 0:
        print(f"iter {it}  loss {print_loss_total / 15:.4f}")
        print_loss_total = 0.0
