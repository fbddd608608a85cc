"""``summarize`` against torch's own reductions, on the tensors where one-pass statistics fail."""

from __future__ import annotations

import torch

from gradscope.stats.tensors import SMALL_MAX, finish_summaries, norms, summarize


def summaries(tensors: list[torch.Tensor], **flags: bool) -> list:
    rows, meta = summarize(tensors, **flags)
    return finish_summaries(rows.reshape(-1).tolist(), meta)


def test_small_and_large_tensors_of_mixed_dtypes_match_torch() -> None:
    torch.manual_seed(0)
    tensors = [
        1 + 1e-4 * torch.randn(768),  # a LayerNorm weight: |mean| / std = 1e4
        torch.randn(300, 400),  # large: reduced in float32
        0.1 + 0.02 * torch.randn(64, 64),  # a small matrix, in float32: |mean| / std = 5
        torch.randn(3, dtype=torch.float64),
        (torch.randn(10) * 50).half(),
        torch.randn(4, 4).to_sparse(),
    ]
    for t, s in zip(tensors, summaries(tensors), strict=True):
        d = t.to_dense().double()
        assert s.numel == t.numel()
        assert abs(s.std - float(d.std())) <= 1e-5 * float(d.std()), t.shape
        assert abs(s.mean - float(d.mean())) <= 1e-6 * float(d.abs().mean())
        assert abs(s.norm - float(d.norm())) <= 1e-6 * float(d.norm())
        assert (s.min, s.max) == (float(d.min()), float(d.max()))
        assert s.zero_frac == float((d == 0).double().mean())


def test_a_constant_tensor_has_no_spread_and_an_empty_one_no_statistics() -> None:
    ones, point_one, empty = torch.ones(256), torch.full((1000,), 0.1), torch.empty(0)
    a, b, c = summaries([ones, point_one, empty])
    assert a.std == 0.0 and b.std == 0.0 and a.mean == 1.0
    assert c.norm is None and c.std is None


def test_rows_not_asked_for_are_nan_and_the_rest_unchanged() -> None:
    torch.manual_seed(1)
    tensors = [torch.randn(50), torch.randn(SMALL_MAX + 1)]
    full, light = summaries(tensors), summaries(tensors, minmax=False, nonzero=False)
    for f, s in zip(full, light, strict=True):
        assert (s.norm, s.mean, s.std) == (f.norm, f.mean, f.std)
        assert all(v != v for v in (s.min, s.max, s.absmax, s.zero_frac))  # NaN


def test_norms_equal_the_summary_norm_row_bit_for_bit() -> None:
    torch.manual_seed(2)
    tensors = [
        torch.randn(7),
        torch.randn(SMALL_MAX + 5),
        torch.randn(16).half(),
        torch.randn(3, 4),
    ]
    assert norms(tensors).tolist() == [s.norm for s in summaries(tensors)]
