"""The two towers and the in-batch softmax loss with a log-frequency (sampling bias) correction.

Why the correction: in-batch negatives are drawn in proportion to popularity, so popular items are
over-penalised; subtracting log q(item) from each logit (Yi et al., RecSys 2019) undoes that bias.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Tower(nn.Module):
    """Embeddings of an id and categorical features (+ an optional bag: text tokens for items, the
    consulted items for users) and numerics -> MLP -> unit vector."""

    def __init__(
        self,
        cardinalities: list[int],
        n_numeric: int,
        out_dim: int,
        token_cardinality: int | None = None,
        text_dim: int = 0,
        id_dim: int = 48,
        cat_dim: int = 16,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        dims = [id_dim] + [cat_dim] * (len(cardinalities) - 1)
        self.embeddings = nn.ModuleList(
            nn.Embedding(card, dim, padding_idx=0) for card, dim in zip(cardinalities, dims, strict=True)
        )
        self.tokens = (
            nn.EmbeddingBag(token_cardinality, cat_dim * 2, mode="mean", padding_idx=0)
            if token_cardinality
            else None
        )
        # an optional dense text embedding (items: sentence-transformers vector), projected down
        self.text = nn.Linear(text_dim, cat_dim * 2) if text_dim else None
        width = (
            sum(dims)
            + n_numeric
            + (cat_dim * 2 if self.tokens is not None else 0)
            + (cat_dim * 2 if self.text is not None else 0)
        )
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))
        # The id embedding passes through a residual projection so that ids can memorise.
        self.id_proj = nn.Linear(id_dim, out_dim, bias=False)
        for emb in self.embeddings:
            nn.init.normal_(emb.weight, std=0.05)

    def forward(
        self,
        categorical: torch.Tensor,
        numeric: torch.Tensor,
        tokens: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> torch.Tensor:
        parts = [emb(categorical[:, i]) for i, emb in enumerate(self.embeddings)]
        id_vec = parts[0]
        if self.tokens is not None and tokens is not None:
            bag = self.tokens(tokens)
            # rows with no known token get a zero bag (EmbeddingBag gives zeros for all-padding rows)
            parts.append(bag)
        if self.text is not None:
            parts.append(
                self.text(text)
                if text is not None
                else numeric.new_zeros((len(numeric), self.text.out_features))
            )
        parts.append(numeric)
        out = self.mlp(torch.cat(parts, dim=1)) + self.id_proj(id_vec)
        return F.normalize(out, dim=1)


class TwoTower(nn.Module):
    def __init__(self, cardinalities: dict, embedding_dim: int = 64, temperature: float = 0.05) -> None:
        super().__init__()
        self.cardinalities = cardinalities
        self.temperature = temperature
        self.user_tower = Tower(
            cardinalities["user"],
            cardinalities["user_numeric"],
            embedding_dim,
            token_cardinality=cardinalities["item"][0] if cardinalities.get("history") else None,
        )
        self.item_tower = Tower(
            cardinalities["item"],
            cardinalities["item_numeric"],
            embedding_dim,
            token_cardinality=cardinalities["tokens"],
            text_dim=int(cardinalities.get("text_dim", 0)),
        )

    def user(
        self, categorical: torch.Tensor, numeric: torch.Tensor, history: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`history`: item indices the user consulted before (0 pads), averaged into a bag."""
        return self.user_tower(categorical, numeric, history)

    def item(
        self,
        categorical: torch.Tensor,
        numeric: torch.Tensor,
        tokens: torch.Tensor,
        text: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`text`: the items' text embeddings when the model was trained with them (else ignored)."""
        return self.item_tower(categorical, numeric, tokens, text)


def in_batch_softmax_loss(
    user_vecs: torch.Tensor,
    item_vecs: torch.Tensor,
    item_ids: torch.Tensor,
    log_q: torch.Tensor,
    temperature: float,
) -> torch.Tensor:
    """Cross-entropy of each user against the batch's items, logits corrected by -log q(item).

    Other rows holding the same item as the positive are masked: they are not negatives.
    """
    logits = user_vecs @ item_vecs.T / temperature - log_q[None, :]
    same = item_ids[None, :] == item_ids[:, None]
    eye = torch.eye(len(item_ids), dtype=torch.bool, device=logits.device)
    logits = logits.masked_fill(same & ~eye, float("-inf"))
    labels = torch.arange(len(item_ids), device=logits.device)
    return F.cross_entropy(logits, labels)


class Adam:
    """Plain Adam (Kingma & Ba) with decoupled weight decay.

    Why not `torch.optim.Adam`: constructing any torch optimizer imports `torch._dynamo` (sympy and
    more), which costs tens of seconds per process where bytecode is not cached (CI, Cloud Run jobs
    starting cold); the training itself needs nothing of it.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            g = p.grad
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            if self.weight_decay:
                p.mul_(1 - self.lr * self.weight_decay)
            p.addcdiv_(m / c1, (v / c2).sqrt_().add_(self.eps), value=-self.lr)
