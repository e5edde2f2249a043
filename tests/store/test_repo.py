"""Store behaviour on the configured database (SQLite, or PostgreSQL in `make test-postgres`)."""

from __future__ import annotations

import threading

import pytest

from creditflow.demo import demo_cases
from creditflow.schemas import ApplicationCreate
from creditflow.store import repo

BODY = ApplicationCreate.model_validate(demo_cases()[0]["body"])


def test_idempotency_key_returns_the_same_application(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        a, created = repo.create_application(s, "u1", BODY, "key-1")
    with db.session() as s:
        b, created2 = repo.create_application(s, "u1", BODY, "key-1")
    assert created and not created2 and a.id == b.id
    other = BODY.model_copy(update={"requested_amount": 999.0})
    with db.session() as s, pytest.raises(repo.IdempotencyConflict):
        repo.create_application(s, "u1", other, "key-1")
    with db.session() as s:  # keys are per applicant
        c, created3 = repo.create_application(s, "u2", BODY, "key-1")
    assert created3 and c.id != a.id


def test_concurrent_duplicates_create_one_application(db) -> None:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            with db.session() as s:
                app, _ = repo.create_application(s, "u9", BODY, "same-key")
                ids.append(app.id)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors, errors
    assert len(set(ids)) == 1 and len(ids) == 8


def test_decisions_are_recorded_once_per_key(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        app, _ = repo.create_application(s, "u1", BODY, None)
        assert repo.record_decision(s, "wf:step-1", app.id, "auto", "auto", "approve", {"x": 1})
        assert not repo.record_decision(s, "wf:step-1", app.id, "auto", "auto", "approve", {"x": 1})
    with db.session() as s:
        assert len(repo.decisions_for(s, app.id)) == 1


def test_notices_and_note_analyses_are_stored_once_per_key(db) -> None:  # type: ignore[no-untyped-def]
    """A retried step (a new transaction with the same key) adds nothing and raises nothing; the first
    write wins."""
    with db.session() as s:
        app, _ = repo.create_application(s, "u1", BODY, None)
    for attempt in range(2):
        with db.session() as s:
            repo.add_notice(s, "wf:final-1", app.id, "decision_approved", {"attempt": attempt})
            repo.save_note_analysis(s, app.id, 0, {"attempt": attempt}, "0" * 64)
    with db.session() as s:
        assert [(n.kind, n.body) for n in repo.notices_for(s, app.id)] == [("decision_approved", {"attempt": 0})]
        assert repo.note_analysis_payloads(s, app.id) == {0: {"attempt": 0}}


def test_schema_validation_rejects_unknown_and_mismatched_fields() -> None:
    body = demo_cases()[0]["body"]
    bad = {**body, "applicant": {**body["applicant"], "religion": "x"}}
    with pytest.raises(ValueError):
        ApplicationCreate.model_validate(bad)
    with pytest.raises(ValueError):
        ApplicationCreate.model_validate({**body, "product": "dealer_working_capital"})


def test_lone_surrogates_are_rejected_not_crashing() -> None:
    """JSON escapes can smuggle unpaired surrogates that would break hashing/storage later (found by
    schemathesis): they are a validation error at the boundary."""
    import json

    body = demo_cases()[0]["body"]
    raw = json.dumps(body).replace('"Alice Martin"', '"Alice \\ud810 Martin"')
    with pytest.raises(ValueError):
        ApplicationCreate.model_validate(json.loads(raw))
    raw = json.dumps(body).replace('"furniture"', '"\\ud810\\udcdf ok"')  # a proper pair is fine
    assert ApplicationCreate.model_validate(json.loads(raw)).purpose.endswith("ok")


def test_empty_idempotency_key_means_no_key(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        a, _ = repo.create_application(s, "u1", BODY, "")
    with db.session() as s:
        b, created = repo.create_application(s, "u1", BODY, "")
    assert created and a.id != b.id


def test_application_columns_reads_the_named_columns_only(db) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        app, _ = repo.create_application(s, "u1", BODY, None)
    with db.session() as s:
        row = repo.application_columns(s, app.id, "owner_sub", "notes")
        assert row._fields == ("owner_sub", "notes")
        assert (row.owner_sub, row.notes) == ("u1", list(BODY.notes))
        assert repo.application_columns(s, "no-such-id", "notes") is None
