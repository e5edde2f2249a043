"""creditflow NLP: `analyze(text, kind)` -> contract `Analysis` (DESIGN.md "NLP contract").

The pipeline is loaded lazily, once per process, behind a lock: importing this package
is cheap (the API and the workflow sandbox import the contract models without paying
for spaCy and torch), and concurrent first calls from a threadpool load it only once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterable

from creditflow.nlp.contract import Analysis, AnalyzeRequest
from creditflow.nlp.errors import TextTooLarge

if TYPE_CHECKING:
    from creditflow.nlp.pipeline import Pipeline

__all__ = ["Analysis", "AnalyzeRequest", "TextTooLarge", "analyze", "analyze_many", "get_pipeline",
           "model_version", "pipeline_loaded", "warm_up"]

_PIPELINE: "Pipeline | None" = None
_LOCK = threading.Lock()
LOAD_COUNT = 0  # how many times the pipeline was built in this process (tests assert it stays 1)


def get_pipeline() -> "Pipeline":
    """The process-wide pipeline, built on first use."""
    global _PIPELINE, LOAD_COUNT
    if _PIPELINE is None:
        with _LOCK:
            if _PIPELINE is None:
                from creditflow.nlp.pipeline import Pipeline

                _PIPELINE = Pipeline()
                LOAD_COUNT += 1
    return _PIPELINE


def warm_up(encoder: bool = True) -> None:
    """Load the pipeline and (by default) the sentence encoder now, not on the first unsure document.

    The NLP service calls this at startup so no request pays the ~10 s torch/transformers import.
    """
    get_pipeline()
    from creditflow.nlp.zh import get_zh_pipeline

    get_zh_pipeline()  # jieba's dictionary takes ~1 s to load: not on the first Chinese request
    if encoder:
        from creditflow.nlp.encoder import get_encoder

        get_encoder()


def pipeline_loaded() -> bool:
    return _PIPELINE is not None


def analyze(text: str, kind: str = "auto") -> Analysis:
    """Analyse one text. kind: "document" | "note" | "auto" (decided by content).

    Never raises on odd input (empty, binary junk, HTML): the result may simply be empty.
    Raises `TextTooLarge` above `Settings.max_nlp_chars`.
    """
    return analyze_many([text], kind)[0]


def analyze_many(texts: Iterable[str], kind: str = "auto") -> list[Analysis]:
    """Analyse several texts in one batch (spaCy `nlp.pipe`): faster than one call per text."""
    if kind not in ("document", "note", "auto"):
        raise ValueError(f"kind must be document, note or auto, not {kind!r}")
    # language routing: Simplified Chinese goes to creditflow.nlp.zh (same contract, language="zh")
    from creditflow.nlp.zh import analyze_routed

    return analyze_routed(list(texts), kind, lambda ts: get_pipeline().analyze_many(ts, kind))


def model_version() -> str:
    from creditflow.nlp.resources import model_version as _mv

    return _mv()
