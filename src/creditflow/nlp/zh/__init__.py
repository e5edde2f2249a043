"""Simplified Chinese for the NLP contract: language routing and the Chinese pipeline.

    is_chinese(text) -> bool          # share of CJK characters against English words
    analyze_routed(texts, kind, english) -> list[Analysis]

Why routing by character share and not a language-ID model: the only choice is "Chinese
pipeline or English pipeline", Han characters are unambiguous, and a count costs nothing.
One Han character carries about as much as one English word, so a text goes to the Chinese
pipeline when it has at least twice as many CJK characters as English words: bilingual
English forms with Chinese labels (营业执照 BUSINESS LICENSE ...) stay English, Chinese notes
quoting an English word go Chinese. Mixed text is handled both ways: the Chinese pipeline
also runs the English signal detectors, and an English analysis of a text with Chinese in it
gets the Chinese signals added.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from creditflow.nlp.contract import Analysis
    from creditflow.nlp.zh.pipeline import ZhPipeline

_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_WORD = re.compile(r"[A-Za-z]+")
_ZH: "ZhPipeline | None" = None
_LOCK = threading.Lock()


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text[:5000]))


def is_chinese(text: str) -> bool:
    """Route to the Chinese pipeline: >= 2 CJK characters and >= 2x as many as English words."""
    sample = text[:5000]
    cjk = len(_CJK.findall(sample))
    return cjk >= 2 and cjk >= 2 * len(_WORD.findall(sample))


def get_zh_pipeline() -> "ZhPipeline":
    global _ZH
    if _ZH is None:
        with _LOCK:
            if _ZH is None:
                from creditflow.nlp.zh.pipeline import ZhPipeline

                _ZH = ZhPipeline()
    return _ZH


def model_version() -> str:
    """The English model version plus the Chinese lexicon version: both shape a zh Analysis."""
    from creditflow.nlp.resources import model_version as en_version
    from creditflow.nlp.zh.data import cached_data

    return f"{en_version()};{cached_data().version}"


def analyze_zh(texts: list[str], kind: str = "auto", reference_year: int | None = None) -> list["Analysis"]:
    """Chinese pipeline only (no routing); raises TextTooLarge like the English one."""
    from creditflow.config import get_settings
    from creditflow.nlp.errors import TextTooLarge

    limit = get_settings().max_nlp_chars
    for t in texts:
        if len(t) > limit:
            raise TextTooLarge(len(t), limit)
    return get_zh_pipeline().analyze_many(texts, kind, model_version(), reference_year)


def add_chinese_signals(text: str, analysis: "Analysis") -> "Analysis":
    """An English analysis of a text containing Chinese phrases: add the Chinese signals that do
    not overlap what the English detectors found."""
    from creditflow.nlp.zh.signals import detector

    det = detector()
    b = get_zh_pipeline().boundaries(text)
    risk = list(analysis.risk_signals)
    spans = [(r.evidence.start, r.evidence.end) for r in risk]
    risk += [r for r in det.find_risk(text, b) if not any(r.evidence.start < e and s < r.evidence.end for s, e in spans)]
    prot = list(analysis.protected_attributes)
    pspans = [(p.start, p.end) for p in prot]
    prot += [p for p in det.find_protected(text) if not any(p.start < e and s < p.end for s, e in pspans)]
    return analysis.model_copy(update={"risk_signals": sorted(risk, key=lambda r: r.evidence.start),
                                       "protected_attributes": sorted(prot, key=lambda p: (p.start, p.end))})


def analyze_routed(texts: list[str], kind: str,
                   english: Callable[[list[str]], list["Analysis"]]) -> list["Analysis"]:
    """Analyse `texts` in order, Chinese ones with the Chinese pipeline, the rest with `english`."""
    zh_idx = [i for i, t in enumerate(texts) if isinstance(t, str) and is_chinese(t)]
    if not zh_idx:
        results = english(texts)
        return [add_chinese_signals(t, a) if isinstance(t, str) and cjk_count(t) >= 2 else a
                for t, a in zip(texts, results)]
    zh_set = set(zh_idx)
    en_idx = [i for i in range(len(texts)) if i not in zh_set]
    out: list["Analysis | None"] = [None] * len(texts)
    for i, a in zip(zh_idx, analyze_zh([texts[i] for i in zh_idx], kind)):
        out[i] = a
    if en_idx:
        for i, a in zip(en_idx, english([texts[i] for i in en_idx])):
            t = texts[i]
            out[i] = add_chinese_signals(t, a) if isinstance(t, str) and cjk_count(t) >= 2 else a
    return [a for a in out if a is not None]
