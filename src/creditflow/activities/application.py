"""Activities of CreditApplicationWorkflow: thin adapters onto store, NLP service, decision, ledger.

Each activity is idempotent on (application, step) so Temporal retries never duplicate rows,
evidence records or notices. Dependencies are injected through `ApplicationActivities` so the
worker and the tests build them the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from creditflow import tracing
from creditflow.config import Settings
from creditflow.decision.contract import Decision, DecisionInput, DocumentFacts
from creditflow.nlp.contract import Analysis
from creditflow.nlp_client import NlpClient, NlpUnavailable
from creditflow.store import repo
from creditflow.store.blobs import BlobIntegrityError, BlobStore
from creditflow.store.db import Database
from workflows.credit_application_types import (
    AnalyzeApplicationInput,
    AnalyzeDocumentInput,
    ApplicationAnalysis,
    DecideActivityInput,
    DocumentResult,
    EvidenceInput,
    NotesResult,
    OutcomeInput,
    StepInput,
)


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@asynccontextmanager
async def heartbeating(every: float = 3.0) -> AsyncIterator[None]:
    """Heartbeat in the background while a long step (OCR, an NLP call) runs, so the server can tell a
    slow activity from a dead worker within the heartbeat timeout."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


_INLINE_TEXT = 256 * 1024  # bytes of plain text decoded on the event loop (under ~1 ms)


def _beat(*details: Any) -> None:
    """Heartbeat, except in a local activity (`collect_stored_analyses`), which has none: it runs inside
    the workflow task that asked for it and is timed by that task."""
    if not activity.info().is_local:
        activity.heartbeat(*details)


def _record_decision_latency(created_at: "datetime", outcome: str) -> None:
    """Application created -> final decision, exported with the Temporal SDK metrics (worker
    Prometheus endpoint, CREDITFLOW_WORKER_METRICS_PORT)."""
    created = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    elapsed = datetime.now(timezone.utc) - created
    if elapsed.total_seconds() >= 0:
        activity.metric_meter().create_histogram_timedelta(
            "creditflow_decision_latency", "Application created to final decision.", "duration",
        ).with_additional_attributes({"outcome": outcome}).record(elapsed)


@dataclass
class _AnalysedDocument:
    """One document's result and what `_save_analyses` writes for it (`payload` None: the stored
    analysis is already this one; `done`: nothing to write at all)."""

    result: DocumentResult
    text_sha256: str = ""
    doc_type: str | None = None
    payload: dict[str, Any] | None = None
    done: bool = False


@dataclass
class _AnalysedNotes:
    result: NotesResult = field(default_factory=NotesResult)
    rows: list[tuple[int, dict[str, Any], str]] = field(default_factory=list)  # (index, analysis, sha256)


def _stored_analysis(doc: Any) -> dict[str, Any] | None:
    """The analysis stored with a document (by the API at upload, or an earlier attempt), if usable."""
    return doc.analysis if doc.status in ("classified", "analyzed") and doc.analysis else None


def worker_nlp_client(settings: Settings) -> NlpClient:
    """The activities' NLP client: up to a minute per call (a long document), 5 s to connect."""
    return NlpClient(timeout_s=60.0, connect_timeout_s=5.0,
                     tracer_provider=tracing.tracer_provider(settings, tracing.WORKER_SERVICE))


class ApplicationActivities:
    def __init__(self, settings: Settings, db: Database, nlp: NlpClient | None = None) -> None:
        self.settings = settings
        self.db = db
        self.blobs = BlobStore(settings.blob_dir)
        self.nlp = nlp or worker_nlp_client(settings)
        self._ledger = None

    @property
    def ledger(self):  # type: ignore[no-untyped-def]
        if self._ledger is None:
            from creditflow.ledger.log import EvidenceLog

            self._ledger = EvidenceLog(self.db, self.settings)
        return self._ledger

    def all(self) -> list:
        return [self.analyze_application, self.analyze_document, self.analyze_notes, self.collect_stored_analyses,
                self.decide_application, self.record_evidence, self.record_outcome, self.record_step]

    # ---------------------------------------------------------------- NLP
    async def _nlp(self, text: str, kind: str) -> Analysis:
        try:
            resp = await self.nlp.analyze(self.settings.nlp_url, text, kind)
        except NlpUnavailable as err:  # service down: let Temporal retry with backoff
            raise RuntimeError(str(err)) from None
        if resp.status in (413, 415, 422):
            raise ApplicationError(f"NLP service refused the text ({resp.status})", type="UnreadableDocument",
                                   non_retryable=True)
        if resp.status >= 400 or resp.body is None:
            raise RuntimeError(f"NLP service error {resp.status}")
        return Analysis.model_validate(resp.body)

    @activity.defn(name="analyze_document")
    async def analyze_document(self, inp: AnalyzeDocumentInput) -> DocumentResult:
        async with heartbeating():
            rows = self._document_rows([inp])
            analysed = await self._read_document(inp, rows.get(inp.document_id))
            self._save_analyses(inp.application_id, [analysed], [])
            return analysed.result

    async def _read_document(self, inp: AnalyzeDocumentInput, doc: Any | None) -> "_AnalysedDocument":
        """Everything analysis does to one document except writing it down: integrity of the blob, text
        extraction, NLP (or the analysis the API made at upload). No database session here, so a batch
        reads its rows once and writes all results in one transaction (`_save_analyses`)."""
        from creditflow.nlp.extract import extract_text

        if doc is None or doc.application_id != inp.application_id or doc.sha256 != inp.sha256:
            raise ApplicationError("document not found for this application", type="UnreadableDocument",
                                   non_retryable=True)
        cached = _stored_analysis(doc)
        try:
            data = self.blobs.get(inp.sha256)
        except BlobIntegrityError as err:
            raise ApplicationError(str(err), type="BlobIntegrityError", non_retryable=True) from None
        _beat("extracting")
        try:
            # small plain text is a decode: a thread hop would cost more than it; PDFs, images (OCR) and large
            # texts go to a thread so the worker's event loop stays free
            if doc.media_type == "text/plain" and len(data) <= _INLINE_TEXT:
                extracted = extract_text(data, doc.media_type)
            else:
                extracted = await asyncio.to_thread(extract_text, data, doc.media_type)
        except Exception as err:  # unreadable PDF/image: tell the applicant, do not retry
            raise ApplicationError(f"could not extract text: {err}", type="UnreadableDocument",
                                   non_retryable=True) from None
        text = extracted.text
        if not text.strip():
            raise ApplicationError("no readable text in the document", type="UnreadableDocument", non_retryable=True)
        text_sha = self.blobs.put(text.encode("utf-8"))
        _beat("analyzing")
        # the API classified plain-text uploads already (and a retry finds its own result): reuse it
        analysis = Analysis.model_validate(cached) if cached else await self._nlp(text, "document")
        payload = analysis.model_dump(mode="json")
        digest = _sha256_json(payload)
        facts = DocumentFacts(
            document_id=inp.document_id, sha256=inp.sha256, doc_type=analysis.doc_type,
            fields={k: v.value for k, v in analysis.fields.items()},
            currencies={k: v.currency for k, v in analysis.fields.items() if v.currency},
            analysis_sha256=digest,
        )
        result = DocumentResult(facts=facts, signals=analysis.risk_signals,
                                protected_mentions=len(analysis.protected_attributes))
        # the stored analysis is rewritten only when it differs from what the decision uses
        unchanged = doc.analysis_sha256 == digest
        return _AnalysedDocument(result=result, text_sha256=text_sha, doc_type=analysis.doc_type,
                                 payload=None if unchanged else payload,
                                 done=unchanged and doc.status == "analyzed" and doc.text_sha256 == text_sha)

    def _document_rows(self, docs: list[AnalyzeDocumentInput]) -> dict[str, Any]:
        with self.db.session() as s:
            return repo.documents_for_analysis(s, [d.document_id for d in docs])

    def _save_analyses(self, application_id: str, docs: list["_AnalysedDocument"],
                       notes: list[tuple[int, dict[str, Any], str]]) -> None:
        """One transaction for every result of an analysis step (one commit instead of one per item)."""
        pending = [d for d in docs if not d.done]
        if not pending and not notes:
            return
        with self.db.session() as s:
            for d in pending:
                repo.save_document_analysis(s, d.result.facts.document_id, d.text_sha256, d.doc_type,
                                            d.payload, d.result.facts.analysis_sha256 or "")
            for index, payload, digest in notes:
                repo.save_note_analysis(s, application_id, index, payload, digest)

    @activity.defn(name="analyze_application")
    async def analyze_application(self, inp: AnalyzeApplicationInput) -> ApplicationAnalysis:
        """Notes and every pending document in one activity: one server round trip instead of one per
        item, one read of the rows and one write of the results (benchmarks/RESULTS.md). A document that
        can never be read comes back `unreadable` (the applicant is asked for a clearer copy); anything
        retryable (the NLP service down) fails the whole activity, nothing is written, and Temporal
        retries it with backoff."""
        async with heartbeating():
            with self.db.session() as s:  # one read of every row the step needs
                rows = repo.documents_for_analysis(s, [d.document_id for d in inp.documents])
                notes = self._notes_and_analyses(s, inp.application_id) if inp.notes else None
            jobs: list[Any] = [self._document_or_unreadable(d, rows.get(d.document_id)) for d in inp.documents]
            if notes is not None:
                jobs.append(self._read_notes(inp.application_id, notes))
            results = await asyncio.gather(*jobs, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        docs = [r for r in results if isinstance(r, _AnalysedDocument)]
        notes = next((r for r in results if isinstance(r, _AnalysedNotes)), None)
        self._save_analyses(inp.application_id, docs, notes.rows if notes else [])
        return ApplicationAnalysis(documents=[d.result for d in docs], notes=notes.result if notes else None)

    @activity.defn(name="collect_stored_analyses")
    async def collect_stored_analyses(self, inp: AnalyzeApplicationInput) -> ApplicationAnalysis:
        """The part of an analysis step that needs neither the NLP service nor OCR, run as a local activity
        since the `stored-analyses-first` patch: plain-text documents with the analysis the API stored
        at upload, and the notes when every one has its analysis from creation. Everything else (no
        stored analysis, PDFs and images, a blob that fails its integrity check, anything unexpected) is
        left out of the result, and the workflow gives it to `analyze_application`, which analyses it or
        reports it unreadable exactly as before. Writes what it used, as `analyze_application` does."""
        with self.db.session() as s:
            rows = repo.documents_for_analysis(s, [d.document_id for d in inp.documents])
            notes = self._notes_and_analyses(s, inp.application_id) if inp.notes else None
        docs: list[_AnalysedDocument] = []
        for d in inp.documents:
            row = rows.get(d.document_id)
            if row is None or row.media_type != "text/plain" or _stored_analysis(row) is None:
                continue
            try:
                docs.append(await self._read_document(d, row))
            except Exception:  # the regular activity reads it again and says what is wrong
                continue
        read_notes = None
        if notes is not None and all(i in notes[1] for i in range(len(notes[0]))):
            read_notes = await self._read_notes(inp.application_id, notes)
        self._save_analyses(inp.application_id, docs, read_notes.rows if read_notes else [])
        return ApplicationAnalysis(documents=[d.result for d in docs],
                                   notes=read_notes.result if read_notes else None)

    async def _document_or_unreadable(self, inp: AnalyzeDocumentInput, row: Any | None) -> "_AnalysedDocument":
        try:
            return await self._read_document(inp, row)
        except ApplicationError as err:
            if not err.non_retryable:
                raise
            return _AnalysedDocument(result=DocumentResult.unreadable(inp.document_id, inp.sha256, err.message),
                                     done=True)

    @activity.defn(name="analyze_notes")
    async def analyze_notes(self, application_id: str) -> NotesResult:
        async with heartbeating():
            notes = await self._read_notes(application_id)
            self._save_analyses(application_id, [], notes.rows)
            return notes.result

    @staticmethod
    def _notes_and_analyses(s: Any, application_id: str) -> tuple[list[str], dict[int, dict[str, Any]]]:
        """The notes and their stored analyses by index."""
        row = repo.application_columns(s, application_id, "notes")
        if row is None:
            raise ApplicationError("unknown application", type="NotFound", non_retryable=True)
        return list(row.notes or []), repo.note_analysis_payloads(s, application_id) if row.notes else {}

    async def _read_notes(self, application_id: str,
                          notes: tuple[list[str], dict[int, dict[str, Any]]] | None = None) -> "_AnalysedNotes":
        """Each note's analysis: the one stored when the application was created (or by an earlier
        attempt), else from the NLP service (`rows` holds only those, to be stored)."""
        if notes is None:
            with self.db.session() as s:
                notes = self._notes_and_analyses(s, application_id)
        texts, stored = notes
        out = _AnalysedNotes()
        for i, note in enumerate(texts):
            _beat(i)
            analysis = Analysis.model_validate(stored[i]) if i in stored else await self._nlp(note, "note")
            payload = analysis.model_dump(mode="json")
            digest = _sha256_json(payload)
            if i not in stored:
                out.rows.append((i, payload, digest))
            out.result.signals.extend(analysis.risk_signals)
            out.result.analysis_sha256s.append(digest)
            out.result.protected_mentions += len(analysis.protected_attributes)
        return out

    # ---------------------------------------------------------------- decision
    @activity.defn(name="decide_application")
    async def decide_application(self, inp: DecideActivityInput) -> Decision:
        from creditflow.decision.engine import decide

        with self.db.session() as s:
            app = repo.application_columns(s, inp.application_id, "id", "product", "requested_amount",
                                           "term_months", "purpose", "currency", "applicant")
            if app is None:
                raise ApplicationError("unknown application", type="NotFound", non_retryable=True)
            dinp = DecisionInput(
                application_id=app.id, product=app.product,  # type: ignore[arg-type]
                requested_amount=inp.amount or app.requested_amount,
                term_months=inp.term_months or app.term_months, purpose=app.purpose, currency=app.currency,
                applicant=dict(app.applicant), documents=inp.documents, signals=inp.signals, as_of=inp.as_of,
            )
        decision = await asyncio.to_thread(decide, dinp)
        key = f"{activity.info().workflow_id}:decision:{decision.inputs_sha256 or _sha256_json(dinp.model_dump(mode='json'))}"
        with self.db.session() as s:  # recorded inputs let `policy simulate` re-decide it later
            repo.record_decision(s, key, dinp.application_id, "auto", "auto", decision.outcome,
                                 decision.model_dump(mode="json"), inputs=dinp.model_dump(mode="json"))
        return decision

    # ---------------------------------------------------------------- evidence + persistence
    @staticmethod
    def _entry(e: EvidenceInput) -> Any:
        from creditflow.ledger.log import EvidenceEntry

        return EvidenceEntry(
            idempotency_key=f"{activity.info().workflow_id}:{e.step}", application_id=e.application_id,
            stage=e.stage, actor=e.actor, recorded_at=e.at,
            inputs={k: v for k, v in e.inputs.items() if _HEX64.match(v or "")}, model_version=e.model_version,
            policy_version=e.policy_version, outcome=e.outcome, reasons=e.reasons, details=e.details,
        )

    @activity.defn(name="record_evidence")
    async def record_evidence(self, e: EvidenceInput) -> int:
        rec = await asyncio.to_thread(self.ledger.append, self._entry(e))
        return int(rec.seq)

    @activity.defn(name="record_outcome")
    async def record_outcome(self, o: OutcomeInput) -> None:
        key = f"{activity.info().workflow_id}:{o.step}"
        with self.db.session() as s:
            created_at = _write_outcome(s, o, key)
        if o.stage in FINAL_STAGES:
            _record_decision_latency(created_at, o.stage)

    @activity.defn(name="record_step")
    async def record_step(self, step: StepInput) -> int:
        """A decision step's evidence record and what it changes (application row, notice, officer
        decision) in one transaction (`EvidenceLog.append(with_record=...)`): since the `record-step`
        patch, instead of `record_evidence` then `record_outcome`. Idempotent on the evidence key: a
        retry after the commit finds the record and writes nothing."""
        o = step.outcome
        key = f"{activity.info().workflow_id}:{o.step}"
        written: list[datetime] = []
        rec = await asyncio.to_thread(self.ledger.append, self._entry(step.evidence),
                                      lambda s: written.append(_write_outcome(s, o, key)))
        if written and o.stage in FINAL_STAGES:
            _record_decision_latency(written[0], o.stage)
        return int(rec.seq)


FINAL_STAGES = ("approved", "declined", "withdrawn_incomplete")


def _write_outcome(s: Any, o: OutcomeInput, key: str) -> datetime:
    """The application row (one UPDATE of the columns that change, not a load of the whole row), the
    officer's decision and the notice of one step; returns the application's creation time."""
    decision = o.decision if o.decision is not None and o.status != "decided_automatically" else None
    created_at = repo.set_application_outcome(s, o.application_id, o.stage, o.status, decision)
    if created_at is None:
        raise ApplicationError("unknown application", type="NotFound", non_retryable=True)
    if o.officer_decision is not None:
        od = o.officer_decision
        repo.record_decision(s, key, o.application_id, "officer", od.officer_id, od.action,
                             od.model_dump(mode="json"), comment=od.comment)
    if o.notice_kind:
        # a notice that is the decision itself (final steps) travels once, as `decision`
        notice = o.notice if o.notice is not None else (o.decision or {})
        repo.add_notice(s, key, o.application_id, o.notice_kind, notice)
    return created_at
