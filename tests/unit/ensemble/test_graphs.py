"""Batch buckets and padding of the CUDA-graph path, exercised eagerly on the CPU."""

from __future__ import annotations

import pytest
import torch

from trader.ensemble.graphs import GraphedForward, bucket_size, buckets, chunk_slices, pad_rows


def test_buckets_are_powers_of_two_up_to_the_maximum() -> None:
    assert buckets(64) == [1, 2, 4, 8, 16, 32, 64]
    assert buckets(48) == [1, 2, 4, 8, 16, 32, 48]
    assert [bucket_size(n, 64) for n in (1, 2, 3, 5, 33, 64)] == [1, 2, 4, 8, 64, 64]
    with pytest.raises(ValueError, match=r"rows must be in 1\.\.64"):
        bucket_size(65, 64)


def test_chunks_cover_every_row_once() -> None:
    assert chunk_slices(130, 64) == [slice(0, 64), slice(64, 128), slice(128, 130)]
    assert chunk_slices(3, 64) == [slice(0, 3)]


def test_pad_rows_appends_zero_rows() -> None:
    tensor = torch.ones(3, 2, dtype=torch.int64)
    padded = pad_rows(tensor, 4)
    assert padded.shape == (4, 2) and padded.dtype == torch.int64
    assert padded[3].tolist() == [0, 0] and padded[:3].tolist() == tensor.tolist()
    with pytest.raises(ValueError, match="cannot pad"):
        pad_rows(tensor, 2)


def _rowwise(x: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    # Row-independent like every member forward; records the shapes it was called with.
    _rowwise.shapes.append(tuple(x.shape))  # type: ignore[attr-defined]
    return torch.tanh(x).sum(dim=1) + steps.float().sum(dim=1, keepdim=True)


def test_padded_execution_returns_the_unpadded_rows() -> None:
    _rowwise.shapes = []  # type: ignore[attr-defined]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(70, 5, 3, generator=generator)
    steps = torch.randint(0, 3, (70, 5), generator=generator)
    padded = GraphedForward(_rowwise, torch.device("cpu"), max_batch=64, pad=True)
    eager = GraphedForward(_rowwise, torch.device("cpu"), max_batch=64)
    torch.testing.assert_close(padded(x, steps), _rowwise(x, steps))
    torch.testing.assert_close(padded(x[:3], steps[:3]), eager(x[:3], steps[:3]))
    shapes = _rowwise.shapes  # type: ignore[attr-defined]
    # 70 rows padded: a chunk of 64 and one of 6 → bucket 8; then 3 → bucket 4; eager 3 as is.
    assert shapes[:2] == [(64, 5, 3), (8, 5, 3)]
    assert shapes[3:] == [(4, 5, 3), (3, 5, 3)]
    assert padded.captured_shapes == []


def test_capture_needs_cuda() -> None:
    with pytest.raises(ValueError, match="CUDA graphs need a CUDA device"):
        GraphedForward(_rowwise, torch.device("cpu"), capture=True)
    eager = GraphedForward(_rowwise, torch.device("cpu"))
    assert not eager.capture and not eager.pad
    eager.prepare([torch.zeros(1, 5, 3)])  # a no-op off CUDA
