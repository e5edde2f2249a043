"""Activities of `CreditLineWorkflow`: thin adapters onto decision/ and the NLP service.

Why activities: reading the policy file, calling the NLP service and writing evidence are
I/O, which a workflow must not do; each activity takes and returns the pydantic models of
workflows/credit_line_types.py and delegates the logic to creditflow.decision. All are
`async def` (no thread pool needed on the worker) and idempotent for the same input.

The worker builds them with `ServicingActivities(settings, db).all()`: the same pure
activities plus `record_line_event` writing to the evidence log (idempotency key: workflow
id + the event's sha256, so a retried activity or a replayed event never adds a second
record) and `analyze_servicing_note` calling the configured NLP service. The module-level
`SERVICING_ACTIVITIES` need no database (their `record_line_event` only logs); benchmarks and
the history generator use them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from creditflow.config import Settings, get_settings
from creditflow.decision import early_warning, servicing_math
from creditflow.nlp.contract import Analysis
from workflows.credit_line_types import (
    CreditLineState,
    EarlyWarningRequest,
    EarlyWarningResult,
    Installment,
    InstallmentPlan,
    LineAction,
    LineEvent,
    LineEventReceipt,
    LinePolicy,
    NoteAnalysisRequest,
    NoteAnalysisResult,
    NoteSignal,
    PlanDrawRequest,
    PlanTerms,
    RescoreRequest,
    RescoreResult,
)

if TYPE_CHECKING:
    from creditflow.ledger.log import EvidenceLog
    from creditflow.ledger.records import EvidenceEntry
    from creditflow.store.db import Database

log = structlog.get_logger("creditflow.servicing")


def _policy(settings: Settings | None = None) -> early_warning.EarlyWarningPolicy:
    return early_warning.load_policy((settings or get_settings()).models_dir / "policy" / "early_warning.yml")


@activity.defn
async def load_line_policy() -> LinePolicy:
    """The servicing parameters the workflow keeps in its state for one run."""
    policy = _policy()
    line = policy.spec.line
    return LinePolicy(
        version=policy.version,
        default_plans=[PlanTerms(term_months=p.term_months, apr=p.apr) for p in line.default_plans],
        rescore_interval_days=line.rescore_interval_days,
        transaction_window_days=line.transaction_window_days,
        signal_window_days=line.signal_window_days,
        offer_valid_days=line.offer_valid_days,
    )


@activity.defn
async def plan_draw(request: PlanDrawRequest) -> InstallmentPlan:
    """Amortisation schedule of one draw (decimal arithmetic, cents)."""
    try:
        schedule = servicing_math.amortize(request.amount, request.apr, request.term_months,
                                           request.drawn_on)
    except ValueError as exc:
        raise ApplicationError(str(exc), type="BAD_DRAW", non_retryable=True) from exc
    installments = [
        Installment(seq=i.seq, due_on=i.due_on, principal=float(i.principal),
                    interest=float(i.interest), amount=float(i.amount))
        for i in schedule
    ]
    total_interest = float(sum(i.interest for i in schedule))
    log.info("line.draw_planned", application_id=request.application_id, draw_id=request.draw_id,
             amount=request.amount, term_months=request.term_months, apr=request.apr)
    return InstallmentPlan(
        draw_id=request.draw_id, drawn_on=request.drawn_on, amount=float(servicing_math.to_cents(request.amount)),
        term_months=request.term_months, apr=request.apr,
        monthly_payment=float(schedule[0].amount), total_interest=round(total_interest, 2),
        merchant=request.merchant, installments=installments,
    )


def _snapshot(request: EarlyWarningRequest) -> early_warning.Snapshot:
    return early_warning.Snapshot.model_validate(request.model_dump())


@activity.defn
async def evaluate_early_warning(request: EarlyWarningRequest) -> EarlyWarningResult:
    """Run the early-warning rules on today's snapshot of the line."""
    policy = _policy()
    result = early_warning.evaluate(_snapshot(request), policy, request.previously_active)
    if result.actions:
        log.info("line.early_warning", application_id=request.application_id, as_of=str(request.as_of),
                 actions=[(a.action, a.reason_code) for a in result.actions],
                 policy_version=policy.version)
    return EarlyWarningResult(
        actions=[LineAction.model_validate(a.model_dump()) for a in result.actions],
        active_rules=result.active_rules,
        watch_conditions_active=result.watch_conditions_active,
        policy_version=result.policy_version,
    )


@activity.defn
async def rescore_line(request: RescoreRequest) -> RescoreResult:
    """Behavioural re-score: origination score plus the policy's behavioural points."""
    result = early_warning.rescore(_snapshot(request.snapshot), request.origination_score, _policy())
    log.info("line.rescored", application_id=request.snapshot.application_id, score=result.score,
             grade=result.grade, points=result.points)
    return RescoreResult.model_validate(result.model_dump())


def analysis_to_signals(analysis: Analysis, request: NoteAnalysisRequest) -> list[NoteSignal]:
    """Keep codes, polarity, subject, severity and offsets; drop the evidence text (PII)."""
    return [
        NoteSignal(note_id=request.note_id, code=s.code, polarity=s.polarity, subject=s.subject,
                   severity=s.severity, start=s.evidence.start, end=s.evidence.end,
                   observed_on=request.observed_on)
        for s in analysis.risk_signals
    ]


@activity.defn
async def analyze_servicing_note(request: NoteAnalysisRequest) -> NoteAnalysisResult:
    """Send a servicing note to the NLP service (`POST /v1/analyze`, kind "note").

    A 4xx answer is a bad request that will not heal on retry (non-retryable); network
    errors and 5xx are retried by Temporal.
    """
    return await _analyze_note(get_settings().nlp_url, request)


async def _analyze_note(nlp_url: str, request: NoteAnalysisRequest) -> NoteAnalysisResult:
    async with httpx.AsyncClient(timeout=30.0) as client:
        response = await client.post(f"{nlp_url}/v1/analyze", json={"text": request.text, "kind": "note"})
    if 400 <= response.status_code < 500:
        raise ApplicationError(f"NLP service refused the note: {response.status_code}",
                               type="NLP_REJECTED", non_retryable=True)
    response.raise_for_status()
    analysis = Analysis.model_validate(response.json())
    return NoteAnalysisResult(note_id=request.note_id, signals=analysis_to_signals(analysis, request),
                              model_version=analysis.model_version)


def event_sha256(event: LineEvent) -> str:
    """Canonical JSON hash: the same event always gets the same id (idempotent recording)."""
    canonical = json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@activity.defn
async def record_line_event(event: LineEvent) -> LineEventReceipt:
    """Record one line event (action with reason code, draw, re-score, continue-as-new)."""
    digest = event_sha256(event)
    log.info("line.event", event_sha256=digest, **event.model_dump(mode="json"))
    return LineEventReceipt(event_sha256=digest)


def line_event_entry(event: LineEvent, workflow_id: str, recorded_at: datetime) -> "EvidenceEntry":
    """The evidence-log entry of a line event. Pure, so it is unit-testable without Temporal.

    The idempotency key is the workflow id (stable across continue-as-new) plus the event's
    canonical sha256: a retry, or the same event sent twice, maps to one record. `recorded_at`
    is the activity's first scheduling time, which is the same on every retry.
    """
    from creditflow.ledger.records import EvidenceEntry

    digest = event_sha256(event)
    action = event.detail.get("action")
    outcome = str(action) if event.kind == "action" and action else event.kind
    return EvidenceEntry(
        idempotency_key=f"{workflow_id}:event:{digest}",
        application_id=event.application_id, stage=f"line_{event.kind}", actor="credit_line_workflow",
        recorded_at=recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=timezone.utc),
        inputs={"event": digest}, policy_version=event.policy_version, outcome=outcome,
        reasons=[{"code": event.reason_code}] if event.reason_code else [],
        details={"occurred_on": event.occurred_on.isoformat(), "workflow_id": workflow_id, **event.detail},
    )


class ServicingActivities:
    """The credit-line activities with their dependencies injected (as ApplicationActivities):
    settings for the policy file and the NLP service, the database for the evidence log."""

    def __init__(self, settings: Settings, db: "Database") -> None:
        self.settings = settings
        self.db = db
        self._ledger: "EvidenceLog | None" = None

    @property
    def ledger(self) -> "EvidenceLog":
        if self._ledger is None:
            from creditflow.ledger.log import EvidenceLog

            self._ledger = EvidenceLog(self.db, self.settings)
        return self._ledger

    def all(self) -> list[Callable[..., Any]]:
        return [load_line_policy, plan_draw, evaluate_early_warning, rescore_line,
                self.analyze_servicing_note, self.record_line_event]

    @activity.defn(name="analyze_servicing_note")
    async def analyze_servicing_note(self, request: NoteAnalysisRequest) -> NoteAnalysisResult:
        """As the module-level activity, against this worker's configured NLP service."""
        return await _analyze_note(self.settings.nlp_url, request)

    @activity.defn(name="record_line_event")
    async def record_line_event(self, event: LineEvent) -> LineEventReceipt:
        """Append the event to the evidence log (once per workflow id and event)."""
        info = activity.info()
        entry = line_event_entry(event, info.workflow_id, info.scheduled_time)
        record = await asyncio.to_thread(self.ledger.append, entry)
        log.info("line.event", event_sha256=entry.inputs["event"], seq=record.seq,
                 **event.model_dump(mode="json"))
        await self._raise_alert(event, entry.idempotency_key, entry.recorded_at, record.seq)
        return LineEventReceipt(event_sha256=entry.inputs["event"])

    async def _raise_alert(self, event: LineEvent, key: str, raised_at: datetime, seq: int) -> None:
        """An action named in models/policy/servicing_alerts.yml (watch list, freeze, limit
        reduction) becomes a task in the officers' `servicing` queue, keyed like its evidence
        record so a retry finds the task already there. The task shows the line's product,
        balance and grade, read with the line's own `status` query (the event does not carry
        them); if the line does not answer in time the task is raised without them."""
        from creditflow.store import alerts

        policy = alerts.load_alert_policy(self.settings.models_dir / "policy" / "servicing_alerts.yml")
        action = event.detail.get("action")
        if event.kind != "action" or not policy.raises_task(str(action) if action else None):
            return
        info = activity.info()
        line = alerts.LineSnapshot()
        try:
            st = await activity.client().get_workflow_handle(info.workflow_id).query(
                "status", result_type=CreditLineState, rpc_timeout=timedelta(seconds=10))
            line = alerts.LineSnapshot(product=st.product, balance=st.balance_outstanding,
                                       credit_limit=st.credit_limit, grade=st.grade, bucket=st.bucket,
                                       days_past_due=st.days_past_due)
        except Exception as exc:  # the task matters more than its figures
            log.warning("line.alert_snapshot_failed", workflow_id=info.workflow_id, error=str(exc))
        new = alerts.NewAlert(
            key=key, application_id=event.application_id, workflow_id=info.workflow_id, action=str(action),
            reason_code=event.reason_code, rule_id=str(event.detail.get("rule_id") or "") or None,
            policy_version=event.policy_version, raised_on=event.occurred_on, raised_at=raised_at,
            evidence_seq=seq, line=line)
        row, created = await asyncio.to_thread(alerts.raise_alert, self.db, new, policy)
        log.info("line.alert_task", alert_id=row.id, created=created, action=row.action,
                 reason_code=row.reason_code, sla_due_at=str(row.sla_due_at))


SERVICING_ACTIVITIES: list[Callable[..., Any]] = [
    load_line_policy,
    plan_draw,
    evaluate_early_warning,
    rescore_line,
    analyze_servicing_note,
    record_line_event,
]
