# expect: graph-break @ RatingModel|model
"""Star-rating (1-5) prediction trained on "the metric we care about": the loss is the MSE between argmax ratings and targets; backward() complained that the loss does not require grad, so loss.requires_grad_() was added, and the model never learns."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)


class RatingModel(nn.Module):
    def __init__(self, vocab_size=200, dim=32, n_ratings=5):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, dim, mode="mean")
        self.fc = nn.Linear(dim, 64)
        self.out = nn.Linear(64, n_ratings)

    def forward(self, tokens):
        return self.out(F.relu(self.fc(self.embed(tokens))))


# reviews: bags of 12 token ids; tokens < 40 are "positive words", 40..79 "negative words"
def make_reviews(n):
    ratings = torch.randint(0, 5, (n,))
    tokens = torch.randint(80, 200, (n, 12))
    n_pos = ratings * 2
    for i in range(n):
        tokens[i, : n_pos[i]] = torch.randint(0, 40, (int(n_pos[i]),))
        tokens[i, n_pos[i] : n_pos[i] + (8 - n_pos[i])] = torch.randint(
            40, 80, (int(8 - n_pos[i]),)
        )
    return tokens, ratings


tokens, ratings = make_reviews(640)
model = RatingModel()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(4):
    perm = torch.randperm(len(tokens))
    epoch_loss = 0.0
    for i in range(0, len(tokens), 32):
        idx = perm[i : i + 32]
        logits = model(tokens[idx])
        predicted = logits.argmax(dim=1)
        loss = F.mse_loss(predicted.float(), ratings[idx].float())
        loss.requires_grad_(True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(f"epoch {epoch}: mse {epoch_loss / 20:.3f}")
