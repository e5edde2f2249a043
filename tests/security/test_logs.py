"""Log redaction: personal data never reaches the rendered JSON line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from creditflow.logs import MASK, configure_logging, get_logger, redact_text, redact_value
from tests.helpers import captured_logs


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    with captured_logs("test-service", "DEBUG") as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("contact jane.doe+loans@example.co.uk today", "jane.doe+loans@example.co.uk"),
        ("call +1 (555) 123-4567", "123-4567"),
        ("call 555-123-4567", "555-123-4567"),
        ("call +44 20 7946 0958", "7946 0958"),
        ("ssn 123-45-6789 on file", "123-45-6789"),
        ("card 4111 1111 1111 1111", "1111 1111"),
        ("card 4111-1111-1111-1111", "4111-1111"),
        ("acct no 000123456789", "000123456789"),
        ("passport X12345678", "X12345678"),
        ("USCC 91350100M000100Y43", "91350100M000100Y43"),
    ],
)
def test_patterns_masked(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert out.split()[0] == text.split()[0]  # the surrounding words survive


@pytest.mark.parametrize(
    "text",
    [
        "stage analyzing -> scoring",
        "due 2024-01-15 at 2024-01-15T10:20:30.123456Z",
        "workflow application-3f2a9c1e-1234-4567-89ab-123456789012",
        "requested 15000 over 24 months at 18.5 APR, limit 20000.00",
        "served in 1234567 us on port 8233",
        "policy v1.2.3 hash 9f86d081",
    ],
)
def test_operational_text_kept(text: str) -> None:
    assert redact_text(text) == text


def test_sensitive_keys_masked_recursively() -> None:
    event = {
        "full_name": "Jane Doe",
        "stage": "analyzing",
        "amount": 15000,
        "applicant": {"email": "x@y.z", "monthly_income": 4000},
        "payload": {"employee_name": "Jane", "notes": ["late on rent"], "grade": "B",
                    "logger_name": "kept", "date_of_birth": "1990-01-01"},
        "Phone": "anything",
        "missing_name": None,
    }
    out = redact_value(event)
    assert out["full_name"] == MASK and out["applicant"] == MASK and out["Phone"] == MASK
    assert out["stage"] == "analyzing" and out["amount"] == 15000
    assert out["payload"] == {"employee_name": MASK, "notes": MASK, "grade": "B",
                              "logger_name": "kept", "date_of_birth": MASK}
    assert out["missing_name"] is None


def test_structlog_event_is_redacted(log_stream: io.StringIO) -> None:
    get_logger("creditflow.test").info(
        "applicant %s submitted", "jane@example.com",
        full_name="Jane Doe", address="1 Main St", text="I was laid off", application_id="app-42",
    )
    [line] = lines(log_stream)
    assert line["event"] == "applicant [EMAIL] submitted"
    assert line["full_name"] == line["address"] == line["text"] == MASK
    assert line["application_id"] == "app-42"
    assert line["service"] == "test-service"
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    raw = log_stream.getvalue()
    assert "Jane" not in raw and "Main St" not in raw and "laid off" not in raw


def test_stdlib_records_and_extras_and_exceptions_redacted(log_stream: io.StringIO) -> None:
    log = logging.getLogger("uvicorn.error")
    log.warning("login failed for %s", "bob@example.org", extra={"phone": "555-000-1111"})
    try:
        raise ValueError("bad SSN 123-45-6789 for applicant")
    except ValueError:
        logging.getLogger("creditflow.worker").exception("activity failed")
    first, second = lines(log_stream)
    assert first["event"] == "login failed for [EMAIL]" and first["phone"] == MASK
    assert first["logger"] == "uvicorn.error"
    assert "ValueError" in second["exception"]
    assert "123-45-6789" not in second["exception"]
    assert "bob@example.org" not in log_stream.getvalue()


def test_configure_is_idempotent(log_stream: io.StringIO) -> None:
    configure_logging("test-service", "INFO", stream=log_stream)
    logging.getLogger("x").info("once")
    logging.getLogger("x").debug("filtered by level")
    assert [line["event"] for line in lines(log_stream)] == ["once"]
