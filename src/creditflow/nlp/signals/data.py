"""Load and validate the signal lexicons under models/nlp/signals/.

Why a gatekeeper: the detector's behaviour lives in data (terms, cues, severities), so a typo
in a YAML file must fail loudly at load time (bad regex, unknown code, unknown category), not
silently produce fewer signals. The SHA-256 of the files becomes part of the version string so
every analysis can be traced to the exact rules that produced it.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditflow.nlp.contract import PROTECTED_CATEGORIES, RISK_CODES

Severity = Literal["low", "medium", "high"]
ContextCategory = Literal[
    "NEGATED", "HYPOTHETICAL", "HISTORICAL", "THIRD_PARTY", "APPLICANT", "ROLE", "PSEUDO", "TERMINATE"
]
Direction = Literal["forward", "backward", "bidirectional", "none"]
PiiType = Literal["PERSON", "ID_NUMBER", "ACCOUNT_NUMBER", "PHONE", "EMAIL", "ADDRESS", "DATE_OF_BIRTH"]

FILES = ("risk_taxonomy.yml", "context_rules.yml", "protected_attributes.yml", "pii_patterns.yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:  # report the pattern itself: the file is what a human edits
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
    return pattern


class Term(_Strict):
    re: str
    severity: Severity | None = None

    @field_validator("re")
    @classmethod
    def _re(cls, v: str) -> str:
        return _check_regex(v)


class CodeSpec(_Strict):
    severity: Severity
    description: str = ""
    terms: list[Union[str, Term]]
    exclude: list[str] = Field(default_factory=list)

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[Union[str, Term]]) -> list[Union[str, Term]]:
        for t in v:
            _check_regex(t if isinstance(t, str) else t.re)
        if not v:
            raise ValueError("a code needs at least one term")
        return v


class Taxonomy(_Strict):
    version: str
    codes: dict[str, CodeSpec]

    @model_validator(mode="after")
    def _codes(self) -> "Taxonomy":
        unknown = set(self.codes) - set(RISK_CODES)
        missing = set(RISK_CODES) - set(self.codes)
        if unknown or missing:
            raise ValueError(f"risk codes differ from the contract: unknown={unknown} missing={missing}")
        return self


class ContextRule(_Strict):
    category: ContextCategory
    direction: Direction
    max_scope: int | None = Field(None, ge=1)
    max_scope_backward: int | None = Field(None, ge=1)  # default: max_scope
    terms: list[str]
    year_group: bool = False
    min_years_ago: int = 0

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        for t in v:
            _check_regex(t)
        return v


class ContextRules(_Strict):
    version: str
    rules: list[ContextRule]


class ProtectedSpec(_Strict):
    terms: list[str] = Field(default_factory=list)
    case_sensitive: list[str] = Field(default_factory=list)


class ProtectedLexicon(_Strict):
    version: str
    categories: dict[str, ProtectedSpec]

    @model_validator(mode="after")
    def _cats(self) -> "ProtectedLexicon":
        if set(self.categories) != set(PROTECTED_CATEGORIES):
            raise ValueError(f"protected categories differ from the contract: {sorted(self.categories)}")
        for spec in self.categories.values():
            for t in [*spec.terms, *spec.case_sensitive]:
                _check_regex(t)
        return self


class PiiPattern(_Strict):
    re: str
    ignore_case: bool = False
    group: str | None = None
    validator: Literal["luhn", "iban", "cn_id", "ssn"] | None = None

    @model_validator(mode="after")
    def _compiles(self) -> "PiiPattern":
        rx = re.compile(_check_regex(self.re))
        if self.group is not None and self.group not in rx.groupindex:
            raise ValueError(f"pattern {self.re!r} has no group {self.group!r}")
        return self


class PiiLexicon(_Strict):
    version: str
    patterns: dict[PiiType, list[PiiPattern]]


class SignalData(_Strict):
    taxonomy: Taxonomy
    context: ContextRules
    protected: ProtectedLexicon
    pii: PiiLexicon
    sha256: str  # of the four files, in FILES order

    @property
    def version(self) -> str:
        return f"signals-{self.taxonomy.version}+{self.sha256[:12]}"


def default_dir() -> Path:
    """models/nlp/signals of the configured models directory."""
    from creditflow.config import get_settings

    return Path(get_settings().models_dir) / "nlp" / "signals"


def load_data(directory: Path | None = None) -> SignalData:
    """Read and validate the four lexicon files (raises ValueError on any defect)."""
    d = Path(directory) if directory is not None else default_dir()
    raw: dict[str, bytes] = {name: (d / name).read_bytes() for name in FILES}
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    parsed = {name: yaml.safe_load(raw[name]) for name in FILES}
    return SignalData(
        taxonomy=Taxonomy.model_validate(parsed["risk_taxonomy.yml"]),
        context=ContextRules.model_validate(parsed["context_rules.yml"]),
        protected=ProtectedLexicon.model_validate(parsed["protected_attributes.yml"]),
        pii=PiiLexicon.model_validate(parsed["pii_patterns.yml"]),
        sha256=digest.hexdigest(),
    )


@lru_cache(maxsize=4)
def cached_data(directory: str | None = None) -> SignalData:
    return load_data(Path(directory) if directory else None)
