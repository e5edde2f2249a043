"""`analyze_application`: notes and all pending documents in one activity (patch `fewer-round-trips`).

Real database, blobs and NLP service; the activity runs in temporalio's ActivityEnvironment.
"""

from __future__ import annotations

import socket

import pytest
from temporalio.testing import ActivityEnvironment

from creditflow.activities.application import ApplicationActivities
from creditflow.config import Settings
from creditflow.demo import demo_cases
from tests.helpers import store_application
from workflows.credit_application_types import AnalyzeApplicationInput, AnalyzeDocumentInput

CASE = next(c for c in demo_cases() if c["label"] == "clear approval")


def _inputs(app_id: str, docs: list) -> list[AnalyzeDocumentInput]:  # type: ignore[type-arg]
    return [AnalyzeDocumentInput(application_id=app_id, document_id=d.document_id, sha256=d.sha256) for d in docs]


async def test_one_batch_gives_what_the_per_item_activities_give(settings: Settings, db, nlp_url: str) -> None:  # type: ignore[no-untyped-def]
    settings.nlp_url = nlp_url
    app_id, docs = store_application(settings, db, CASE["body"], [*CASE["documents"], "   \n  "])
    acts = ApplicationActivities(settings, db)
    env = ActivityEnvironment()
    batch = await env.run(acts.analyze_application,
                          AnalyzeApplicationInput(application_id=app_id, documents=_inputs(app_id, docs), notes=True))

    by_id = {r.facts.document_id: r for r in batch.documents}
    assert list(by_id) == [d.document_id for d in docs]  # one result per document, in order
    blank = by_id[docs[-1].document_id]
    assert blank.status == "unreadable" and "no readable text" in (blank.problem or "")
    readable = [by_id[d.document_id] for d in docs[:-1]]
    assert all(r.status == "analyzed" and r.facts.doc_type for r in readable)
    assert {r.facts.doc_type for r in readable} >= {"id_document", "bank_statement"}
    assert batch.notes is not None and len(batch.notes.analysis_sha256s) == len(CASE["body"]["notes"])

    # the same facts and signals as the per-document and per-notes activities (kept for older histories)
    single = await env.run(acts.analyze_document, _inputs(app_id, docs[:1])[0])
    assert single.facts == readable[0].facts and single.signals == readable[0].signals
    notes = await env.run(acts.analyze_notes, app_id)
    assert notes.analysis_sha256s == batch.notes.analysis_sha256s


async def test_nlp_down_fails_the_whole_batch_so_temporal_retries_it(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:  # a port nobody listens on: the NLP service is down
        s.bind(("127.0.0.1", 0))
        settings.nlp_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    app_id, docs = store_application(settings, db, CASE["body"], CASE["documents"])
    acts = ApplicationActivities(settings, db)
    with pytest.raises(RuntimeError, match="NLP service unreachable"):  # retryable, not an ApplicationError
        await ActivityEnvironment().run(
            acts.analyze_application,
            AnalyzeApplicationInput(application_id=app_id, documents=_inputs(app_id, docs), notes=True))


async def test_a_retry_reuses_stored_analyses_and_writes_nothing_new(settings: Settings, db, nlp_url: str) -> None:  # type: ignore[no-untyped-def]
    """Documents analysed once (at upload by the API, or by an earlier attempt) are not sent to the NLP
    service again and their stored analysis is not rewritten: a retry with the service down still
    succeeds for them, with the same facts."""
    from creditflow.store import repo

    settings.nlp_url = nlp_url
    app_id, docs = store_application(settings, db, CASE["body"], CASE["documents"])
    acts = ApplicationActivities(settings, db)
    inp = AnalyzeApplicationInput(application_id=app_id, documents=_inputs(app_id, docs))
    first = await ActivityEnvironment().run(acts.analyze_application, inp)
    with db.session() as s:
        stored = repo.documents_for_analysis(s, [d.document_id for d in docs])
    assert all(stored[r.facts.document_id].status == "analyzed" for r in first.documents)
    assert [stored[r.facts.document_id].analysis_sha256 for r in first.documents] == \
        [r.facts.analysis_sha256 for r in first.documents]

    with socket.socket() as s:  # the NLP service is gone now
        s.bind(("127.0.0.1", 0))
        settings.nlp_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    again = await ActivityEnvironment().run(ApplicationActivities(settings, db).analyze_application, inp)
    assert again == first
    with db.session() as s:
        assert repo.documents_for_analysis(s, [d.document_id for d in docs]) == stored


async def test_notes_analysed_once_are_not_sent_again(settings: Settings, db, nlp_url: str) -> None:  # type: ignore[no-untyped-def]
    """Notes analysed once (at creation by the API, or by an earlier attempt) are read back, not sent to
    the NLP service again: with the service down the notes give the same signals and hashes, and only
    a note without a stored analysis needs the service."""
    from creditflow.store import repo

    settings.nlp_url = nlp_url
    body = {**CASE["body"], "notes": ["Customer since 2019, no late payments.",
                                      "Applicant took two payday loans last month."]}
    app_id, _ = store_application(settings, db, body, [])
    inp = AnalyzeApplicationInput(application_id=app_id, documents=[], notes=True)
    first = await ActivityEnvironment().run(ApplicationActivities(settings, db).analyze_application, inp)
    assert first.notes is not None and {s.code for s in first.notes.signals} >= {"HIGH_COST_BORROWING"}
    with db.session() as s:
        assert sorted(repo.note_analysis_payloads(s, app_id)) == [0, 1]

    with socket.socket() as s:  # the NLP service is gone now
        s.bind(("127.0.0.1", 0))
        settings.nlp_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    again = await ActivityEnvironment().run(ApplicationActivities(settings, db).analyze_application, inp)
    assert again == first

    with db.session() as s:  # one note never analysed: that one needs the service, and it is down
        s.execute(repo.NOTE_ANALYSES.delete().where(repo.NOTE_ANALYSES.c.note_index == 1))
    with pytest.raises(RuntimeError, match="NLP service unreachable"):
        await ActivityEnvironment().run(ApplicationActivities(settings, db).analyze_application, inp)


def _local_env() -> ActivityEnvironment:
    """A local activity's environment: no heartbeats (a heartbeat from it would be an error here)."""
    import dataclasses

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, is_local=True)
    env.on_heartbeat = lambda *d: (_ for _ in ()).throw(AssertionError(f"local activity heartbeated {d}"))
    return env


async def test_collect_stored_analyses_takes_only_what_needs_no_nlp_call(settings: Settings, db, nlp_url: str) -> None:  # type: ignore[no-untyped-def]
    """`stored-analyses-first`: the local activity returns exactly what `analyze_application` would for
    documents and notes analysed before, with the NLP service down, and leaves out everything else (no
    stored analysis, a blob that fails its integrity check) for the regular activity to handle."""
    from creditflow.store.blobs import BlobStore

    settings.nlp_url = nlp_url
    app_id, docs = store_application(settings, db, CASE["body"], [*CASE["documents"], "A fourth document."])
    analysed, fresh = docs[:3], docs[3]
    regular = await ActivityEnvironment().run(
        ApplicationActivities(settings, db).analyze_application,
        AnalyzeApplicationInput(application_id=app_id, documents=_inputs(app_id, analysed), notes=True))

    with socket.socket() as s:  # the NLP service is gone now: nothing below may need it
        s.bind(("127.0.0.1", 0))
        settings.nlp_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    acts = ApplicationActivities(settings, db)
    inp = AnalyzeApplicationInput(application_id=app_id, documents=_inputs(app_id, docs), notes=True)
    got = await _local_env().run(acts.collect_stored_analyses, inp)
    assert got.documents == regular.documents  # the same facts, signals and hashes; the fourth left out
    assert fresh.document_id not in {r.facts.document_id for r in got.documents}
    assert got.notes == regular.notes

    BlobStore(settings.blob_dir)._path(analysed[0].sha256).write_bytes(b"tampered")
    got = await _local_env().run(acts.collect_stored_analyses, inp)
    assert [r.facts.document_id for r in got.documents] == [d.document_id for d in analysed[1:]]
    with pytest.raises(RuntimeError, match="NLP service unreachable"):  # the regular activity still needs it
        await ActivityEnvironment().run(acts.analyze_application, AnalyzeApplicationInput(
            application_id=app_id, documents=_inputs(app_id, [fresh])))


async def test_collect_stored_analyses_leaves_notes_when_one_lacks_its_analysis(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    """Notes come back only as a whole: one note without a stored analysis leaves all of them to the
    regular activity (which reads the stored ones and asks the service for the rest)."""
    app_id, _ = store_application(settings, db, CASE["body"], [])
    got = await _local_env().run(ApplicationActivities(settings, db).collect_stored_analyses,
                                 AnalyzeApplicationInput(application_id=app_id, documents=[], notes=True))
    assert got.notes is None and got.documents == []
