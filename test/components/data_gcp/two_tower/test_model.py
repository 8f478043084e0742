from __future__ import annotations

import math

import torch

from data_gcp.two_tower.model import Adam, TwoTower, in_batch_softmax_loss


def test_towers_output_unit_vectors_of_the_asked_dimension() -> None:
    cards = {"user": [10, 4, 3], "item": [20, 5, 6], "tokens": 30, "user_numeric": 3, "item_numeric": 5}
    model = TwoTower(cards, embedding_dim=64)
    u = model.user(torch.tensor([[1, 2, 0], [3, 0, 1]]), torch.zeros(2, 3))
    i = model.item(torch.tensor([[1, 2, 3]]), torch.zeros(1, 5), torch.tensor([[4, 5, 0, 0]]))
    assert u.shape == (2, 64) and i.shape == (1, 64)
    torch.testing.assert_close(u.norm(dim=1), torch.ones(2))


def test_log_frequency_correction_and_duplicate_masking() -> None:
    users = torch.nn.functional.normalize(torch.eye(3), dim=1)
    items = users.clone()
    ids = torch.tensor([0, 1, 2])
    plain = in_batch_softmax_loss(users, items, ids, torch.zeros(3), 1.0)
    expected = -math.log(math.e / (math.e + 2))
    assert abs(float(plain) - expected) < 1e-5
    # a very popular negative (high q) is penalised less once corrected: loss goes down
    log_q = torch.log(torch.tensor([0.1, 0.1, 0.8]))
    corrected = in_batch_softmax_loss(users, items, ids, log_q, 1.0)
    assert float(corrected) != float(plain)
    # the same item twice in a batch is not its own negative
    dup = in_batch_softmax_loss(users[:2], items[[0, 0]], torch.tensor([5, 5]), torch.zeros(2), 1.0)
    assert torch.isfinite(dup)
    unmasked_row0 = -math.log(math.e / (math.e + math.e))
    assert float(dup) < unmasked_row0


def test_adam_minimises_a_quadratic() -> None:
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    opt = Adam([w], lr=0.1)
    for _ in range(300):
        loss = (w**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(w.detach().abs().max()) < 0.05
