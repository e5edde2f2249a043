"""Load and validate the Chinese lexicons in models/nlp/zh/*.yml (once per process).

Why validated at load: a typo in a regular expression or an unknown risk code must stop the
service at start-up, not silently drop a signal in production. The version is the lexicon
versions plus a hash of the files, so every Analysis names the exact data it came from.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from creditflow.nlp.contract import DOC_TYPES, FIELDS_BY_DOC_TYPE, PROTECTED_CATEGORIES, RISK_CODES

FILES = ("doc_types.yml", "fields.yml", "signals.yml", "protected.yml")
FIELD_TYPES = {"money", "date", "name", "org", "text", "uscc", "id", "count", "frequency", "employment_type",
               "year", "period", "expiry"}


def zh_dir() -> Path:
    from creditflow.nlp.resources import nlp_dir

    return nlp_dir() / "zh"


def _compile(term: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(term)
    except re.error as err:
        raise ValueError(f"bad regular expression in {where}: {term!r} ({err})") from None


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RiskSpec(_M):
    severity: str
    terms: list[str]
    exclude: list[str] = Field(default_factory=list)


class CueSpec(_M):
    forward: list[str] = Field(default_factory=list)
    backward: list[str] = Field(default_factory=list)
    either: list[str] = Field(default_factory=list)
    year_min_years_ago: int | None = None


class FieldSpec(_M):
    type: str
    labels: list[str]
    fields: list[str] = Field(default_factory=list)

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in FIELD_TYPES:
            raise ValueError(f"unknown field type {v!r}")
        return v


class ZhData(BaseModel):
    version: str
    doc_types: dict[str, Any]
    fields: dict[str, dict[str, FieldSpec]]
    prose: dict[str, list[re.Pattern[str]]]
    risk: dict[str, RiskSpec]
    cues: dict[str, Any]
    protected: dict[str, list[re.Pattern[str]]]
    pii: dict[str, list[re.Pattern[str]]]

    model_config = ConfigDict(arbitrary_types_allowed=True)


def load_data(directory: Path | None = None) -> ZhData:
    d = directory or zh_dir()
    raw = {name: (d / name).read_bytes() for name in FILES}
    docs = yaml.safe_load(raw["doc_types.yml"])
    flds = yaml.safe_load(raw["fields.yml"])
    sig = yaml.safe_load(raw["signals.yml"])
    prot = yaml.safe_load(raw["protected.yml"])
    if set(docs["types"]) != set(DOC_TYPES):
        raise ValueError(f"doc types differ from the contract: {sorted(set(docs['types']) ^ set(DOC_TYPES))}")
    fields: dict[str, dict[str, FieldSpec]] = {}
    for dt, specs in flds["doc_types"].items():
        fields[dt] = {name: FieldSpec.model_validate(s) for name, s in specs.items()}
        allowed = set(FIELDS_BY_DOC_TYPE[dt])
        for name, s in fields[dt].items():
            for out in (s.fields or [name]):
                if out not in allowed:
                    raise ValueError(f"{dt}.{out} is not a contract field")
    prose = {dt: [_compile(p, f"fields.yml prose {dt}") for p in pats or []] for dt, pats in flds["prose"].items()}
    risk = {code: RiskSpec.model_validate(s) for code, s in sig["risk"].items()}
    if set(risk) != set(RISK_CODES):
        raise ValueError(f"risk codes differ from the contract: {sorted(set(risk) ^ set(RISK_CODES))}")
    for code, spec in risk.items():
        for t in spec.terms + spec.exclude:
            _compile(t, f"signals.yml {code}")
    cues = {k: (CueSpec.model_validate(v) if isinstance(v, dict) else list(v)) for k, v in sig["cues"].items()}
    for k, v in cues.items():
        for t in (v.forward + v.backward + v.either) if isinstance(v, CueSpec) else v:
            _compile(t, f"signals.yml cues.{k}")
    if set(prot["protected"]) != set(PROTECTED_CATEGORIES):
        raise ValueError("protected categories differ from the contract")
    protected = {c: [_compile(t, f"protected.yml {c}") for t in ts] for c, ts in prot["protected"].items()}
    pii = {c: [_compile(t, f"protected.yml pii {c}") for t in ts] for c, ts in prot["pii"].items()}
    digest = hashlib.sha256(b"".join(raw[n] for n in FILES)).hexdigest()[:12]
    version = f"{sig['version']}+{digest}"
    return ZhData(version=version, doc_types=docs, fields=fields, prose=prose, risk=risk, cues=cues,
                  protected=protected, pii=pii)


@lru_cache(maxsize=1)
def cached_data() -> ZhData:
    return load_data()
