"""Activities of CreditApplicationWorkflow: thin adapters onto store, NLP service, decision, ledger.

Each activity is idempotent on (application, step) so Temporal retries never duplicate rows,
evidence records or notices. Dependencies are injected through `ApplicationActivities` so the
worker and the tests build them the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from creditflow.config import Settings
from creditflow.decision.contract import Decision, DecisionInput, DocumentFacts
from creditflow.nlp.contract import Analysis
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


def _record_decision_latency(created_at: "datetime", outcome: str) -> None:
    """Application created -> final decision, exported with the Temporal SDK metrics (worker
    Prometheus endpoint, CREDITFLOW_WORKER_METRICS_PORT)."""
    created = created_at if created_at.tzinfo else created_at.replace(tzinfo=timezone.utc)
    elapsed = datetime.now(timezone.utc) - created
    if elapsed.total_seconds() >= 0:
        activity.metric_meter().create_histogram_timedelta(
            "creditflow_decision_latency", "Application created to final decision.", "duration",
        ).with_additional_attributes({"outcome": outcome}).record(elapsed)


class ApplicationActivities:
    def __init__(self, settings: Settings, db: Database, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.db = db
        self.blobs = BlobStore(settings.blob_dir)
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))
        self._ledger = None

    @property
    def ledger(self):  # type: ignore[no-untyped-def]
        if self._ledger is None:
            from creditflow.ledger.log import EvidenceLog

            self._ledger = EvidenceLog(self.db, self.settings)
        return self._ledger

    def all(self) -> list:
        return [self.analyze_application, self.analyze_document, self.analyze_notes, self.decide_application,
                self.record_evidence, self.record_outcome]

    # ---------------------------------------------------------------- NLP
    async def _nlp(self, text: str, kind: str) -> Analysis:
        try:
            resp = await self.http.post(f"{self.settings.nlp_url}/v1/analyze", json={"text": text, "kind": kind})
        except httpx.HTTPError as err:  # service down: let Temporal retry with backoff
            raise RuntimeError(f"NLP service unreachable: {type(err).__name__}") from None
        if resp.status_code in (413, 415, 422):
            raise ApplicationError(f"NLP service refused the text ({resp.status_code})", type="UnreadableDocument",
                                   non_retryable=True)
        if resp.status_code >= 400:
            raise RuntimeError(f"NLP service error {resp.status_code}")
        return Analysis.model_validate(resp.json())

    @activity.defn(name="analyze_document")
    async def analyze_document(self, inp: AnalyzeDocumentInput) -> DocumentResult:
        async with heartbeating():
            return await self._analyze_document(inp)

    async def _analyze_document(self, inp: AnalyzeDocumentInput) -> DocumentResult:
        from creditflow.nlp.extract import extract_text

        with self.db.session() as s:
            doc = repo.document_for_analysis(s, inp.document_id)
        if doc is None or doc.application_id != inp.application_id or doc.sha256 != inp.sha256:
            raise ApplicationError("document not found for this application", type="UnreadableDocument",
                                   non_retryable=True)
        media_type = doc.media_type
        cached = doc.analysis if doc.status == "classified" else None
        try:
            data = self.blobs.get(inp.sha256)
        except BlobIntegrityError as err:
            raise ApplicationError(str(err), type="BlobIntegrityError", non_retryable=True) from None
        activity.heartbeat("extracting")
        try:
            extracted = await asyncio.to_thread(extract_text, data, media_type)
        except Exception as err:  # unreadable PDF/image: tell the applicant, do not retry
            raise ApplicationError(f"could not extract text: {err}", type="UnreadableDocument",
                                   non_retryable=True) from None
        text = extracted.text
        if not text.strip():
            raise ApplicationError("no readable text in the document", type="UnreadableDocument", non_retryable=True)
        text_sha = self.blobs.put(text.encode("utf-8"))
        activity.heartbeat("analyzing")
        # the API classified plain-text uploads already; reuse that analysis when its model is current
        analysis = Analysis.model_validate(cached) if cached else await self._nlp(text, "document")
        payload = analysis.model_dump(mode="json")
        digest = _sha256_json(payload)
        with self.db.session() as s:
            repo.save_document_analysis(s, inp.document_id, text_sha, analysis.doc_type, payload, digest)
        facts = DocumentFacts(
            document_id=inp.document_id, sha256=inp.sha256, doc_type=analysis.doc_type,
            fields={k: v.value for k, v in analysis.fields.items()},
            currencies={k: v.currency for k, v in analysis.fields.items() if v.currency},
            analysis_sha256=digest,
        )
        return DocumentResult(facts=facts, signals=analysis.risk_signals,
                              protected_mentions=len(analysis.protected_attributes))

    @activity.defn(name="analyze_application")
    async def analyze_application(self, inp: AnalyzeApplicationInput) -> ApplicationAnalysis:
        """Notes and every pending document in one activity: one server round trip instead of one per
        item (benchmarks/RESULTS.md). A document that can never be read comes back `unreadable` (the
        applicant is asked for a clearer copy); anything retryable (the NLP service down) fails the whole
        activity so Temporal retries it with backoff; redoing the items already done is idempotent."""
        async with heartbeating():
            jobs = [self._document_or_unreadable(d) for d in inp.documents]
            if inp.notes:
                jobs.append(self._analyze_notes(inp.application_id))
            results = await asyncio.gather(*jobs, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        docs = [r for r in results if isinstance(r, DocumentResult)]
        notes = next((r for r in results if isinstance(r, NotesResult)), None)
        return ApplicationAnalysis(documents=docs, notes=notes)

    async def _document_or_unreadable(self, inp: AnalyzeDocumentInput) -> DocumentResult:
        try:
            return await self._analyze_document(inp)
        except ApplicationError as err:
            if not err.non_retryable:
                raise
            return DocumentResult.unreadable(inp.document_id, inp.sha256, err.message)

    @activity.defn(name="analyze_notes")
    async def analyze_notes(self, application_id: str) -> NotesResult:
        async with heartbeating():
            return await self._analyze_notes(application_id)

    async def _analyze_notes(self, application_id: str) -> NotesResult:
        with self.db.session() as s:
            app = repo.get_application(s, application_id)
            if app is None:
                raise ApplicationError("unknown application", type="NotFound", non_retryable=True)
            notes = list(app.notes or [])
        result = NotesResult()
        for i, note in enumerate(notes):
            activity.heartbeat(i)
            analysis = await self._nlp(note, "note")
            payload = analysis.model_dump(mode="json")
            digest = _sha256_json(payload)
            with self.db.session() as s:
                repo.save_note_analysis(s, application_id, i, payload, digest)
            result.signals.extend(analysis.risk_signals)
            result.analysis_sha256s.append(digest)
            result.protected_mentions += len(analysis.protected_attributes)
        return result

    # ---------------------------------------------------------------- decision
    @activity.defn(name="decide_application")
    async def decide_application(self, inp: DecideActivityInput) -> Decision:
        from creditflow.decision.engine import decide

        with self.db.session() as s:
            app = repo.get_application(s, inp.application_id)
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
    @activity.defn(name="record_evidence")
    async def record_evidence(self, e: EvidenceInput) -> int:
        from creditflow.ledger.log import EvidenceEntry

        info = activity.info()
        key = f"{info.workflow_id}:{e.step}"
        entry = EvidenceEntry(
            idempotency_key=key, application_id=e.application_id, stage=e.stage, actor=e.actor,
            recorded_at=e.at, inputs={k: v for k, v in e.inputs.items() if _HEX64.match(v or "")}, model_version=e.model_version, policy_version=e.policy_version,
            outcome=e.outcome, reasons=e.reasons, details=e.details,
        )
        rec = await asyncio.to_thread(self.ledger.append, entry)
        return int(rec.seq)

    @activity.defn(name="record_outcome")
    async def record_outcome(self, o: OutcomeInput) -> None:
        info = activity.info()
        key = f"{info.workflow_id}:{o.step}"
        with self.db.session() as s:
            app = repo.get_application(s, o.application_id)
            if app is None:
                raise ApplicationError("unknown application", type="NotFound", non_retryable=True)
            app.stage = o.stage
            app.status = o.status
            if o.stage in ("approved", "declined", "withdrawn_incomplete") and app.created_at is not None:
                _record_decision_latency(app.created_at, o.stage)
            if o.decision is not None and o.status != "decided_automatically":
                app.decision = o.decision
            if o.officer_decision is not None:
                od = o.officer_decision
                repo.record_decision(s, key, app.id, "officer", od.officer_id, od.action,
                                     od.model_dump(mode="json"), comment=od.comment)
            if o.notice_kind:
                repo.add_notice(s, key, app.id, o.notice_kind, o.notice or {})
