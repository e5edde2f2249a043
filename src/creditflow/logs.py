"""Structured JSON logs for every process, with personal data masked before anything is written.

Why redaction in the logging pipeline: logs are copied to places with weaker access control
than the database (terminals, CI artefacts, log shippers), and a log line is written by code
that rarely thinks about who will read it. So one processor, applied to structlog events
AND to records from the standard library (uvicorn, temporalio, sqlalchemy), masks:
  - values of keys that name personal data (full_name, address, email, text, notes, ...);
  - e-mail addresses, phone numbers, SSN/ID-like numbers and account/card numbers found in
    any string, including the message itself and formatted exception text.
It errs on the side of masking; an over-masked number in a log is cheap, a leaked one is not.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

MASK = "[REDACTED]"

# Keys whose values are personal data whatever they look like (compared lower-case, with
# dashes as underscores).
SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "name", "full_name", "first_name", "last_name", "given_name", "family_name",
        "applicant", "applicant_name", "employee_name", "account_holder", "customer_name",
        "taxpayer_name", "legal_representative", "address", "email", "phone", "mobile",
        "date_of_birth", "dob", "birth_date", "ssn", "id_number", "national_id",
        "passport_number", "account_number", "card_number", "iban", "text", "note", "notes",
        "comment", "document_text", "raw_text", "content", "body", "password", "token",
        "access_token", "authorization", "secret", "api_key",
    }
)
SENSITIVE_SUFFIXES: tuple[str, ...] = (
    "_email", "_phone", "_address", "_text", "_notes", "_ssn", "_dob", "_password", "_token",
    "_secret",
)
# Keys ending in "_name" are personal unless they name a piece of software or infrastructure.
TECHNICAL_NAMES: frozenset[str] = frozenset(
    {
        "logger_name", "service_name", "workflow_name", "activity_name", "queue_name",
        "task_queue_name", "namespace_name", "model_name", "doc_name", "file_name", "filename",
        "host_name", "hostname", "thread_name", "process_name", "func_name", "module_name",
        "rule_name", "stage_name", "event_name", "field_name", "table_name", "column_name",
    }
)
# Structural keys added by the pipeline itself: never masked by key (their strings are
# still scanned by the patterns, except the ones we generate ourselves).
STRUCTURAL_KEYS: frozenset[str] = frozenset(
    {"event", "level", "timestamp", "logger", "service", "exception", "stack", "error_id"}
)
TRUSTED_KEYS: frozenset[str] = frozenset({"level", "timestamp", "logger", "service"})

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# US-style SSN 123-45-6789 (also with spaces).
_SSN = re.compile(r"(?<![\w-])\d{3}[- ]\d{2}[- ]\d{4}(?![\w-])")
# Card / bank account numbers: 8 to 19 digits, optionally grouped by single spaces or dashes.
# Not inside longer words or UUID/hex ids (the look-arounds), not ISO dates (only 8 digits
# when written without separators, and dates have separators every 2-4 digits: handled below).
_LONG_NUMBER = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){7,18}(?![\w-]|\.\d)")
# Phone numbers: optional +country code, then 3-3-4 style or long grouped digits.
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]\d{3,4}(?![\w-])"
)
# ID-like tokens: a letter-digit mix of 6+ characters with at least 5 digits (passport,
# driver licence, 18-char unified social credit code), e.g. "X12345678", "91350100M000100Y43".
_ID_LIKE = re.compile(r"(?<![\w.:-])(?=[A-Za-z0-9]*[A-Za-z])(?=(?:[A-Za-z]*\d){5})[A-Za-z0-9]{6,24}(?![\w-])")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Lower-case hex (hash prefixes, short commit ids, request ids) is operational, not personal.
_LOWER_HEX = re.compile(r"^[0-9a-f]+$")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "[EMAIL]"),
    (_SSN, "[ID]"),
    (_LONG_NUMBER, "[NUMBER]"),  # before phones: a grouped card number is not three phones
    (_PHONE, "[PHONE]"),
    (_ID_LIKE, "[ID]"),
)


def _is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    k = key.lower().replace("-", "_")
    if k in STRUCTURAL_KEYS or k in TECHNICAL_NAMES:
        return False
    if k in SENSITIVE_KEYS or k.endswith(SENSITIVE_SUFFIXES):
        return True
    return k.endswith("_name")


def _replace_unless_date(pattern: re.Pattern[str], tag: str, text: str) -> str:
    def _sub(m: re.Match[str]) -> str:
        found = m.group(0)
        if _ISO_DATE.match(found) or (pattern is _ID_LIKE and _LOWER_HEX.match(found)):
            return found
        return tag

    return pattern.sub(_sub, text)


def redact_text(text: str) -> str:
    """Mask e-mails, phone numbers, SSN/ID-like and account/card numbers in free text."""
    for pattern, tag in _PATTERNS:
        text = _replace_unless_date(pattern, tag, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """Recursively redact strings, masking whole values under sensitive keys."""
    if depth > 8:
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (MASK if _is_sensitive_key(k) and v is not None else redact_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    # Anything else (pydantic models, exceptions, ...) would be rendered with repr: scan it.
    return redact_text(repr(value))


def redact_pii(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the last step before rendering, after exceptions are formatted."""
    return {
        k: v if k in TRUSTED_KEYS else redact_value({k: v})[k] for k, v in event_dict.items()
    }


class _AddService:
    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", self.service)
        return event_dict


_HANDLER_MARK = "_creditflow_handler"


def configure_logging(service: str, level: str = "INFO", *, stream: IO[str] | None = None) -> None:
    """JSON lines on stderr (or `stream`) for structlog and stdlib loggers, PII redacted.

    Idempotent: calling it again replaces the handler it installed before (tests, reloads).
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _AddService(service),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_pii,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn installs its own handlers; route its records through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
        lg.setLevel(logging.NOTSET)  # the root level decides, whatever uvicorn's config set
        lg.disabled = False


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)  # type: ignore[no-any-return]
