"""Activities of `CreditLineWorkflow`: thin adapters onto decision/ and the NLP service.

Why activities: reading the policy file, calling the NLP service and writing evidence are
I/O, which a workflow must not do; each activity takes and returns the pydantic models of
workflows/credit_line_types.py and delegates the logic to creditflow.decision. All are
`async def` (no thread pool needed on the worker) and idempotent for the same input.
`record_line_event` only logs a structured event and returns its sha256 for now; the
evidence log wiring belongs to the ledger.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from creditflow.config import get_settings
from creditflow.decision import early_warning, servicing_math
from creditflow.nlp.contract import Analysis
from workflows.credit_line_types import (
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

log = structlog.get_logger("creditflow.servicing")


def _policy() -> early_warning.EarlyWarningPolicy:
    return early_warning.load_policy(get_settings().models_dir / "policy" / "early_warning.yml")


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
    settings = get_settings()
    async with httpx.AsyncClient(timeout=30.0) as client:
        response = await client.post(f"{settings.nlp_url}/v1/analyze",
                                     json={"text": request.text, "kind": "note"})
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


SERVICING_ACTIVITIES: list[Callable[..., Any]] = [
    load_line_policy,
    plan_draw,
    evaluate_early_warning,
    rescore_line,
    analyze_servicing_note,
    record_line_event,
]
