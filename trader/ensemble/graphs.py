"""Fixed-shape execution for the window models: batch-size buckets, padding and CUDA graphs.

On CUDA a forward pass of a fixed shape is captured once as a CUDA graph and replayed: the
batch is padded up to the next bucket (1, 2, 4, …, max) so a handful of graphs cover every
symbol count; larger batches run in chunks of `max_batch`. Padding rows are zeros and are
dropped from the output: every model here treats batch rows independently. On the CPU the
function runs eagerly on the unpadded batch (padding would only add arithmetic).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
import torch

log = structlog.get_logger(__name__)

Forward = Callable[..., torch.Tensor]


def buckets(max_batch: int) -> list[int]:
    """Return the bucket sizes 1, 2, 4, … up to and including `max_batch`."""
    sizes = []
    size = 1
    while size < max_batch:
        sizes.append(size)
        size *= 2
    sizes.append(max_batch)
    return sizes


def bucket_size(rows: int, max_batch: int) -> int:
    """Return the smallest bucket holding `rows` rows (rows must be 1..max_batch)."""
    if not 1 <= rows <= max_batch:
        raise ValueError(f"rows must be in 1..{max_batch}, got {rows}")
    return next(size for size in buckets(max_batch) if size >= rows)


def chunk_slices(rows: int, max_batch: int) -> list[slice]:
    """Split `rows` rows into consecutive slices of at most `max_batch`."""
    return [slice(start, min(start + max_batch, rows)) for start in range(0, rows, max_batch)]


def pad_rows(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    """Return `tensor` with zero rows appended along dim 0 up to `rows`."""
    missing = rows - tensor.shape[0]
    if missing < 0:
        raise ValueError(f"cannot pad {tensor.shape[0]} rows down to {rows}")
    if missing == 0:
        return tensor
    padding = tensor.new_zeros((missing, *tensor.shape[1:]))
    return torch.cat([tensor, padding])


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    inputs: list[torch.Tensor]
    output: torch.Tensor


class GraphedForward:
    """Run `forward(*inputs)` through per-(bucket, shape) CUDA graphs, or eagerly on the CPU.

    `capture` False runs eagerly; `pad` (default: same as capture) pads to the bucket even
    eagerly, which is how the CPU tests exercise the CUDA path's padding.
    """

    def __init__(
        self,
        forward: Forward,
        device: torch.device,
        *,
        max_batch: int = 64,
        capture: bool | None = None,
        pad: bool | None = None,
    ) -> None:
        self.forward = forward
        self.device = device
        self.max_batch = max_batch
        self.capture = device.type == "cuda" if capture is None else capture
        if self.capture and device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device, got {device}")
        self.pad = self.capture if pad is None else pad
        self._graphs: dict[tuple[object, ...], _Captured] = {}
        self._pool: object | None = None

    @property
    def captured_shapes(self) -> list[tuple[object, ...]]:
        """Return the (bucket, shapes, dtypes) keys captured so far."""
        return list(self._graphs)

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        """Return forward(*inputs) for any batch size (dim 0 of every input)."""
        rows = inputs[0].shape[0]
        outputs = []
        for part in chunk_slices(rows, self.max_batch):
            chunk = [tensor[part] for tensor in inputs]
            count = part.stop - part.start
            if self.capture:
                outputs.append(self._replay(chunk, count))
            elif self.pad:
                size = bucket_size(count, self.max_batch)
                outputs.append(self.forward(*[pad_rows(t, size) for t in chunk])[:count])
            else:
                outputs.append(self.forward(*chunk))
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)

    def prepare(self, samples: Sequence[torch.Tensor]) -> None:
        """Capture every bucket for inputs shaped like `samples` (one row each) ahead of time."""
        if not self.capture:
            return
        for size in buckets(self.max_batch):
            self._graph_for([pad_rows(sample[:1], size) for sample in samples], size)

    def _key(self, inputs: Sequence[torch.Tensor], size: int) -> tuple[object, ...]:
        return (size, *(tuple(t.shape[1:]) for t in inputs), *(t.dtype for t in inputs))

    def _replay(self, inputs: Sequence[torch.Tensor], count: int) -> torch.Tensor:
        size = bucket_size(count, self.max_batch)
        captured = self._graph_for(inputs, size)
        with torch.inference_mode():
            for static, tensor in zip(captured.inputs, inputs, strict=True):
                static[:count].copy_(tensor, non_blocking=True)
                if count < size:
                    static[count:].zero_()
            captured.graph.replay()
            # Cloned at once: the next replay (or another bucket's, sharing the pool) reuses it.
            return captured.output[:count].clone()

    def _graph_for(self, inputs: Sequence[torch.Tensor], size: int) -> _Captured:
        key = self._key(inputs, size)
        captured = self._graphs.get(key)
        if captured is not None:
            return captured
        if self._pool is None:
            # One memory pool for all graphs: they are replayed one at a time.
            self._pool = torch.cuda.graph_pool_handle()
        stream = torch.cuda.Stream(device=self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.inference_mode():
            static = [
                torch.zeros((size, *t.shape[1:]), dtype=t.dtype, device=self.device) for t in inputs
            ]
            with torch.cuda.stream(stream):
                for _ in range(3):  # warm-up: kernel selection and allocator before capture
                    self.forward(*static)
            torch.cuda.current_stream(self.device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, pool=self._pool):
                output = self.forward(*static)
        captured = _Captured(graph, static, output)
        self._graphs[key] = captured
        log.info("cuda_graph.captured", bucket=size, shapes=[list(t.shape) for t in static])
        return captured
