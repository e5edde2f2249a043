"""CreditApplicationWorkflow: one application from documents to a decision (DESIGN.md "Workflows").

The workflow only orchestrates: it waits for messages, calls activities (NLP, decision
engine, evidence log, persistence) and keeps the state officers and applicants see through
the `status` query. Every rule that decides credit lives in creditflow.decision and is
copied into the workflow as data (the `Authority` of the recommendation), so the Update
validators here stay deterministic.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from creditflow.decision.contract import Decision
    from creditflow.nlp.contract import RiskSignal
    from workflows import search_attributes as sa
    from workflows.credit_line_types import CreditLineInput
    from workflows.credit_application_types import (
        AnalyzeApplicationInput,
        AnalyzeDocumentInput,
        ApplicationAnalysis,
        ApplicationInput,
        ApplicationStatus,
        ClaimInput,
        DecideActivityInput,
        DecideInput,
        DocumentAdded,
        DocumentResult,
        EvidenceInput,
        FinalDecisionView,
        NotesResult,
        OfferResponse,
        OfficerDecision,
        OutcomeInput,
        ReleaseInput,
        ReviewTask,
        StepInput,
        SubmitInput,
    )

STAFF_ROLES = ("officer", "senior_officer", "admin")
QUEUES_FOR_ROLE = {
    "officer": ("officer",),
    "senior_officer": ("officer", "senior", "committee"),
    "admin": ("officer", "senior", "committee"),
}
ESCALATE_TO = {"officer": "senior", "senior": "committee", "committee": "committee"}
# Referral rules that only say "a person must sign this off" (authority), not "something is wrong".
AUTHORITY_ONLY_RULES = {"RF_AMOUNT_ABOVE_AUTO"}


def automatic_recommendation(d: Decision) -> str:
    """What automation would have decided had the amount been within its authority."""
    refer_rules = {h.rule_id for h in d.rules_fired if h.effect == "refer"}
    if d.outcome == "refer" and refer_rules and refer_rules <= AUTHORITY_ONLY_RULES and d.credit_limit:
        return "approve"
    return d.outcome

NLP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=20),
    non_retryable_error_types=["UnreadableDocument", "BlobIntegrityError", "TextTooLarge"],
)
# Activities heartbeat every few seconds while they work (activities/application.py), so a worker
# killed mid-activity is noticed after HEARTBEAT, not after the whole start-to-close timeout.
HEARTBEAT = timedelta(seconds=15)
STORE_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
# Patch id: (1) store, evidence and decision steps run as local activities; (2) notes and all pending
# documents are analysed by one `analyze_application` activity instead of one activity each. Why: each
# regular activity costs a round trip through the Temporal server (scheduled/started/completed events
# plus a new workflow task); the store steps take milliseconds and text documents were analysed at
# upload, so those round trips were most of an application's latency and of the server's work
# (benchmarks/RESULTS.md, load). Local activities run inside the workflow task that asks for them and
# are recorded as markers; they are retried like any activity and stay idempotent on (workflow id, step).
ROUND_TRIPS_PATCH = "fewer-round-trips"
# Patch id: a step's evidence record and the application row it changes (auto decision, officer action,
# final decision) are written by one `record_step` local activity in one transaction, not by
# `record_evidence` then `record_outcome`. Why: atomic (a crash between the two could leave a decision
# shown but not yet evidenced until the retry), and two fewer local activities, payload round trips and
# commits per decision (benchmarks/RESULTS.md, "Load: findings"). Runs recorded before keep two steps.
RECORD_STEP_PATCH = "record-step"
# Patch id: an analysis step first collects, in a `collect_stored_analyses` local activity, what needs
# neither the NLP service nor OCR (plain-text documents the API analysed at upload, notes it analysed at
# creation); only what remains goes to the regular `analyze_application` activity, and only then is the
# stage indexed as `analyzing`. Why: for an application submitted through the API that is usually
# everything, and the regular activity cost a server round trip and a workflow task of its own
# (scheduled/started/completed events, a task dispatch, a visibility write) for work that took
# milliseconds (benchmarks/RESULTS.md, item 26). Whatever may be slow or fail still runs as the regular
# activity, with heartbeats and backoff while the NLP service is down.
STORED_FIRST_PATCH = "stored-analyses-first"


def _failure_detail(err: ActivityError) -> str:
    """What to tell the applicant about an activity that failed for good."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


def _reject(kind: str, message: str) -> ApplicationError:
    """A typed validator rejection; the API maps `type` to 403/409/422."""
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn
class CreditApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self._inp = inp
        self._state = ApplicationStatus(application_id=inp.application_id, stage="awaiting_documents",
                                        status="awaiting_documents")
        self._results: dict[str, DocumentResult] = {}
        self._note_signals: list[RiskSignal] = []
        self._review_outcome: OfficerDecision | None = None
        self._unrecorded: list[OfficerDecision] = []
        self._offer_response: OfferResponse | None = None
        self._step = 0
        self._local_steps = False  # set in run() from the ROUND_TRIPS_PATCH marker
        self._one_step = False  # set in run() from the RECORD_STEP_PATCH marker
        self._stored_first = False  # set in run() from the STORED_FIRST_PATCH marker

    # ------------------------------------------------------------------ messages
    @workflow.signal
    def document_added(self, doc: DocumentAdded) -> None:
        if all(d.document_id != doc.document_id for d in self._state.documents):
            self._state.documents.append(doc)

    @workflow.signal
    def submit(self, inp: SubmitInput) -> None:
        for doc in inp.documents:  # the same document may also have been signalled: added once
            self.document_added(doc)
        self._state.submitted = True

    @workflow.query
    def status(self) -> ApplicationStatus:
        return self._state

    @workflow.update
    def claim(self, inp: ClaimInput) -> ReviewTask:
        assert self._state.review is not None
        self._state.review.assignee = inp.officer_id
        self._upsert()
        return self._state.review

    @claim.validator
    def _validate_claim(self, inp: ClaimInput) -> None:
        review = self._open_review()
        self._check_staff_and_queue(inp.role, review.queue)
        if review.assignee and review.assignee != inp.officer_id:
            raise _reject("conflict", f"task is already claimed by {review.assignee}")
        if any(a.officer_id == inp.officer_id for a in review.approvals):
            raise _reject("four_eyes", "you approved this task as maker; a different officer must check it")

    @workflow.update
    def release(self, inp: ReleaseInput) -> ReviewTask:
        assert self._state.review is not None
        self._state.review.assignee = None
        self._upsert()
        return self._state.review

    @release.validator
    def _validate_release(self, inp: ReleaseInput) -> None:
        review = self._open_review()
        if inp.role not in STAFF_ROLES:
            raise _reject("forbidden", "only staff can release review tasks")
        if review.assignee != inp.officer_id and inp.role != "admin":
            raise _reject("conflict", "only the assignee (or an admin) can release this task")

    @workflow.update
    def decide(self, inp: DecideInput) -> ReviewTask:
        review = self._state.review
        assert review is not None and self._state.recommendation is not None
        rec = self._state.recommendation
        entry = OfficerDecision(
            officer_id=inp.officer_id, role=inp.role, action=inp.action, comment=inp.comment.strip(),
            amount=inp.amount, term_months=inp.term_months, at=workflow.now(),
            saw_score=rec.score, saw_grade=rec.grade, saw_policy_version=rec.policy_version,
            saw_signal_codes=sorted({s.code for s in self._state.risk_signals if s.counts_against_applicant}),
            reason_codes=inp.reason_codes, recommended=automatic_recommendation(rec),
        )
        entry.override = self._is_override(entry.recommended, inp.action)
        review.actions.append(entry)
        self._unrecorded.append(entry)
        if inp.action == "approve":
            review.approvals.append(entry)
            if len(review.approvals) < review.required_approvals:
                review.assignee = None  # hand over to a checker
                self._upsert()
                return review
        if inp.action == "request_info":
            self._state.info_requested = list(inp.requested_items) or ["clarification"]
        self._review_outcome = entry
        return review

    @decide.validator
    def _validate_decide(self, inp: DecideInput) -> None:
        review = self._open_review()
        self._check_staff_and_queue(inp.role, review.queue)
        if review.assignee != inp.officer_id:
            raise _reject("conflict", "claim the task before deciding" if review.assignee is None
                          else f"task is claimed by {review.assignee}")
        if len(inp.comment.strip()) < 3:
            raise _reject("invalid", "a comment is required for every review action")
        if any(a.officer_id == inp.officer_id for a in review.approvals):
            raise _reject("four_eyes", "you already approved this task; a different officer must check it")
        rec = self._state.recommendation
        assert rec is not None
        limit = rec.authority.role_max.get(inp.role, 0.0)
        if inp.action == "approve" and self._inp.requested_amount > limit:
            raise _reject("forbidden", f"amount {self._inp.requested_amount:,.2f} exceeds your approval authority "
                                       f"of {limit:,.2f}")
        if inp.action == "counteroffer":
            if inp.amount is None or not 0 < inp.amount < self._inp.requested_amount:
                raise _reject("invalid", "a counteroffer needs an amount below the requested amount")
            if inp.amount > limit:
                raise _reject("forbidden", f"counteroffer {inp.amount:,.2f} exceeds your authority of {limit:,.2f}")
            if inp.term_months is not None and inp.term_months not in (3, 6, 12, 24):
                raise _reject("invalid", "term_months must be one of 3, 6, 12, 24")
        if self._is_override(automatic_recommendation(rec), inp.action) and not inp.reason_codes:
            raise _reject("invalid", "this overrides the automatic recommendation "
                                     f"({automatic_recommendation(rec)}); give a reason code")
        if inp.action == "request_info" and not (inp.requested_items or inp.comment.strip()):
            raise _reject("invalid", "say what information is needed")

    @workflow.update
    def accept_offer(self, inp: OfferResponse) -> ApplicationStatus:
        self._offer_response = inp
        return self._state

    @accept_offer.validator
    def _validate_accept(self, inp: OfferResponse) -> None:
        if self._state.stage != "counteroffered" or self._offer_response is not None:
            raise _reject("conflict", "there is no open offer to accept")

    @workflow.update
    def reject_offer(self, inp: OfferResponse) -> ApplicationStatus:
        self._offer_response = OfferResponse(accept=False, by=inp.by)
        return self._state

    @reject_offer.validator
    def _validate_reject(self, inp: OfferResponse) -> None:
        self._validate_accept(inp)

    # ------------------------------------------------------------------ main line
    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        # Newest patch first: a run that has it has the older ones' behaviour too, without their markers
        # (each `patched` call records a marker and a search-attribute upsert: two events and a
        # visibility write). Runs recorded before it call the older ones as they did when recorded.
        self._stored_first = workflow.patched(STORED_FIRST_PATCH)
        if self._stored_first:
            self._local_steps = self._one_step = True
        else:
            self._local_steps = workflow.patched(ROUND_TRIPS_PATCH)
            self._one_step = self._local_steps and workflow.patched(RECORD_STEP_PATCH)
        # Started by the API already indexed as awaiting documents (sa.application_at_start): no upsert.
        # Older runs were started bare and upsert here, so their histories replay unchanged.
        indexed = workflow.info().typed_search_attributes.get(sa.CREDIT_STAGE) == "awaiting_documents"
        self._set_stage("awaiting_documents", index=not indexed)
        await workflow.wait_condition(lambda: self._state.submitted)
        if not self._local_steps:
            await self._analyze_notes()
        round_no = 0
        while True:
            round_no += 1
            # indexed here, or since `stored-analyses-first` only once the NLP service is needed
            self._set_stage("analyzing", index=not self._stored_first)
            if self._local_steps:  # notes (first round) and documents in one activity
                await self._analyze_batch(with_notes=round_no == 1)
            else:
                await self._analyze_documents()
            # With local store steps, scoring and policy pass within one workflow task: the status
            # query shows them, but indexing them (a visibility write each) would only cost time.
            self._set_stage("scoring", index=not self._local_steps)
            decision = await self._decide(round_no)
            self._set_stage("policy", index=not self._local_steps)
            await self._record_auto_decision(decision, round_no)

            needs = list(decision.missing) + [f"{p}" for p in self._state.problems]
            if needs:
                if await self._request_info(needs, round_no):
                    continue
                return await self._finish_incomplete(round_no)
            if decision.outcome == "approve":
                return await self._finish_approved(decision, ["auto"], round_no)
            if decision.outcome == "decline":
                return await self._finish_declined(decision.reasons, "auto", round_no, decision)
            if decision.outcome == "counteroffer":
                return await self._offer(decision, round_no, decided_by=["auto"])

            outcome = await self._review(decision, round_no)
            if outcome.action == "request_info":
                if await self._request_info(self._state.info_requested, round_no):
                    continue
                return await self._finish_incomplete(round_no)
            officers = [a.officer_id for a in (self._state.review.approvals if self._state.review else [])]
            if outcome.action == "approve":
                return await self._finish_approved(decision, officers or [outcome.officer_id], round_no)
            if outcome.action == "decline":
                known = {r.code: r.text for r in decision.reasons}
                reasons = [{"code": c, "text": known.get(c) or "A credit officer reviewed your application and "
                            f"declined it: {c.replace('_', ' ').lower()}."} for c in outcome.reason_codes] or \
                    [r.model_dump() for r in decision.reasons] or [
                    {"code": "OFFICER_DECLINE", "text": "A credit officer reviewed the application and declined it."}]
                return await self._finish_declined_raw(reasons[:4], [outcome.officer_id], round_no, decision)
            # counteroffer by an officer: re-price at the offered amount, then ask the applicant
            offered = await self._decide(round_no, amount=outcome.amount, term=outcome.term_months, tag="offer")
            offered = offered.model_copy(update={"counteroffer_amount": outcome.amount,
                                                 "counteroffer_term_months": outcome.term_months})
            return await self._offer(offered, round_no, decided_by=[outcome.officer_id])

    # ------------------------------------------------------------------ steps
    async def _analyze_notes(self) -> None:
        if self._inp.note_count == 0:
            return
        self._take_notes(await self._nlp_activity("analyze_notes", self._inp.application_id, NotesResult, 60))
        self._refresh_signals()

    async def _analyze_documents(self) -> None:
        async def one(doc: DocumentAdded) -> DocumentResult:
            try:
                return await self._nlp_activity("analyze_document", self._document_input(doc), DocumentResult, 120)
            except ActivityError as err:
                return DocumentResult.unreadable(doc.document_id, doc.sha256, _failure_detail(err))

        self._take_document_results(await asyncio.gather(*(one(d) for d in self._pending_documents())))

    async def _analyze_batch(self, with_notes: bool) -> None:
        """`fewer-round-trips`: the notes (first round) and every document not analysed yet, in one
        activity. If it fails for good, the documents count as unreadable (the applicant is asked for a
        clearer copy) and a failure of the notes ends the workflow, as the per-item activities did.
        `stored-analyses-first`: what the API analysed at intake is collected locally before that, and
        the activity runs only for the rest (usually nothing)."""
        pending = self._pending_documents()
        notes = with_notes and self._inp.note_count > 0
        if not pending and not notes:
            return
        if self._stored_first:
            stored = await self._store_step(
                "collect_stored_analyses",
                AnalyzeApplicationInput(application_id=self._inp.application_id, notes=notes,
                                        documents=[self._document_input(d) for d in pending]),
                result_type=ApplicationAnalysis, timeout=timedelta(seconds=30))
            if stored.notes is not None:
                self._take_notes(stored.notes)
                notes = False
            self._take_document_results(stored.documents)
            pending = self._pending_documents()
            if not pending and not notes:
                return
            self._upsert()  # the stage (`analyzing`) is worth indexing now: the NLP service may take a while
        try:
            res = await self._nlp_activity(
                "analyze_application",
                AnalyzeApplicationInput(application_id=self._inp.application_id, notes=notes,
                                        documents=[self._document_input(d) for d in pending]),
                ApplicationAnalysis, 180)
        except ActivityError as err:
            if notes:
                raise
            detail = _failure_detail(err)
            res = ApplicationAnalysis(documents=[DocumentResult.unreadable(d.document_id, d.sha256, detail)
                                                 for d in pending])
        if res.notes is not None:
            self._take_notes(res.notes)
        self._take_document_results(res.documents)

    async def _nlp_activity(self, name: str, arg: object, result_type: type, start_to_close_s: int) -> Any:
        """An NLP-backed activity: heartbeats, retries with backoff while the service is down, and gives up
        after 30 minutes; only the per-attempt limit differs between the three kinds."""
        return await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=timedelta(seconds=start_to_close_s),
            schedule_to_close_timeout=timedelta(minutes=30), heartbeat_timeout=HEARTBEAT, retry_policy=NLP_RETRY)

    def _pending_documents(self) -> list[DocumentAdded]:
        return [d for d in self._state.documents if d.document_id not in self._results]

    def _document_input(self, doc: DocumentAdded) -> AnalyzeDocumentInput:
        return AnalyzeDocumentInput(application_id=self._inp.application_id, document_id=doc.document_id,
                                    sha256=doc.sha256)

    def _take_notes(self, res: NotesResult) -> None:
        self._note_signals = list(res.signals)
        self._state.protected_mentions += res.protected_mentions

    def _take_document_results(self, results: list[DocumentResult]) -> None:
        for r in results:
            self._results[r.facts.document_id] = r
            self._state.protected_mentions += r.protected_mentions
        self._state.analyzed_documents = list(self._results.values())
        self._state.problems = [
            f"document {r.facts.document_id} could not be read ({r.problem}); please upload a clearer copy"
            for r in self._results.values() if r.status == "unreadable"
        ]
        self._refresh_signals()

    def _refresh_signals(self) -> None:
        signals = list(self._note_signals)
        for r in self._results.values():
            signals.extend(r.signals)
        self._state.risk_signals = signals

    async def _decide(self, round_no: int, amount: float | None = None, term: int | None = None,
                      tag: str = "auto") -> Decision:
        facts = [r.facts for r in self._results.values() if r.status == "analyzed"]
        decision = await self._store_step(
            "decide_application",
            DecideActivityInput(application_id=self._inp.application_id, documents=facts,
                                signals=self._state.risk_signals, as_of=workflow.now().date(),
                                amount=amount, term_months=term),
            result_type=Decision, timeout=timedelta(seconds=60),
        )
        if tag == "auto":
            self._state.recommendation = decision
            self._state.missing_documents = [m for m in decision.missing]
        return decision

    async def _record_auto_decision(self, d: Decision, round_no: int) -> None:
        inputs = {f"document:{r.facts.document_id}": r.facts.sha256 for r in self._results.values()}
        inputs.update({f"nlp:{r.facts.document_id}": r.facts.analysis_sha256 or ""
                       for r in self._results.values() if r.facts.analysis_sha256})
        inputs["features"] = d.features_sha256
        inputs["decision_input"] = d.inputs_sha256
        evidence = EvidenceInput(
            application_id=self._inp.application_id, step=f"auto-decision-{round_no}", stage="policy",
            actor="auto", at=workflow.now(), inputs=inputs, model_version=d.model_version,
            policy_version=d.policy_version, outcome=d.outcome,
            reasons=[r.model_dump() for r in d.reasons],
            details={"grade": d.grade, "score": d.score, "pd": d.pd, "credit_limit": d.credit_limit,
                     "missing": d.missing, "rules_fired": [h.rule_id for h in d.rules_fired],
                     "refer_queue": d.refer_queue},
        )
        # the row only changes stage and status here: the decision is in the evidence
        await self._record(evidence, OutcomeInput(application_id=self._inp.application_id,
                                                  step=f"auto-decision-{round_no}", stage=self._state.stage,
                                                  status="decided_automatically"))

    async def _request_info(self, needs: list[str], round_no: int) -> bool:
        """Tell the applicant exactly what is missing; True when something new arrived in time."""
        self._state.info_requested = needs
        deadline = workflow.now() + timedelta(days=self._inp.info_request_days)
        self._state.info_deadline = deadline
        self._set_stage("info_requested")
        await self._persist(OutcomeInput(
            application_id=self._inp.application_id, step=f"info-request-{round_no}", stage="info_requested",
            status="info_requested", notice_kind="info_request",
            notice={"requested": needs, "deadline": deadline.isoformat()}))
        seen = len(self._state.documents)
        try:
            await workflow.wait_condition(lambda: len(self._state.documents) > seen,
                                          timeout=timedelta(days=self._inp.info_request_days),
                                          timeout_summary="info-request deadline")
        except asyncio.TimeoutError:
            return False
        self._state.info_requested = []
        self._state.info_deadline = None
        self._state.review = None
        self._review_outcome = None
        return True

    async def _review(self, decision: Decision, round_no: int) -> OfficerDecision:
        now = workflow.now()
        sla = timedelta(hours=self._inp.review_sla_hours)
        self._review_outcome = None
        self._state.review = ReviewTask(queue=decision.refer_queue or "officer", sla_due_at=now + sla,
                                        required_approvals=decision.required_approvals, opened_at=now)
        self._set_stage("in_review")
        # added after the first histories were recorded; implied by the newest patch (no marker of its own)
        if self._stored_first or workflow.patched("persist-review-stage"):
            await self._persist(OutcomeInput(application_id=self._inp.application_id, step=f"review-{round_no}",
                                             stage="in_review", status="in_review"))
        while True:
            review = self._state.review
            remaining = review.sla_due_at - workflow.now()
            try:
                if remaining.total_seconds() <= 0:
                    raise asyncio.TimeoutError
                await workflow.wait_condition(lambda: self._review_outcome is not None or bool(self._unrecorded),
                                              timeout=remaining, timeout_summary="review SLA")
            except asyncio.TimeoutError:
                review.overdue = True
                review.escalations += 1
                old = review.queue
                review.queue = ESCALATE_TO[old]
                review.assignee = None
                review.sla_due_at = workflow.now() + sla
                self._upsert()
                await self._evidence(EvidenceInput(
                    application_id=self._inp.application_id, step=f"escalation-{round_no}-{review.escalations}",
                    stage="in_review", actor="sla_timer", at=workflow.now(), outcome="escalated",
                    details={"from_queue": old, "to_queue": review.queue}))
                continue
            while self._unrecorded:
                entry = self._unrecorded.pop(0)
                await self._record_officer_action(entry, round_no, len(review.actions))
            if self._review_outcome is not None:
                return self._review_outcome

    async def _record_officer_action(self, e: OfficerDecision, round_no: int, n: int) -> None:
        rec = self._state.recommendation
        step = f"officer-{round_no}-{n}-{e.officer_id}-{e.action}"
        evidence = EvidenceInput(
            application_id=self._inp.application_id, step=step, stage="in_review", actor=e.officer_id,
            at=e.at, inputs={"decision_input": rec.inputs_sha256 if rec else ""},
            model_version=rec.model_version if rec else None, policy_version=rec.policy_version if rec else None,
            outcome=e.action, reasons=[{"code": c, "text": ""} for c in e.reason_codes],
            details={"comment_sha256": hashlib.sha256(e.comment.encode()).hexdigest(), "role": e.role,
                     "amount": e.amount,
                     "saw_score": e.saw_score, "saw_grade": e.saw_grade, "recommended": rec.outcome if rec else None},
        )
        await self._record(evidence, OutcomeInput(application_id=self._inp.application_id, step=step,
                                                  stage="in_review", status="in_review", officer_decision=e))

    async def _offer(self, d: Decision, round_no: int, decided_by: list[str]) -> ApplicationStatus:
        view = self._view(d, "counteroffer", decided_by)
        view.credit_limit = d.counteroffer_amount or d.credit_limit
        self._state.decision = view
        self._offer_response = None
        self._set_stage("counteroffered")
        await self._persist(OutcomeInput(application_id=self._inp.application_id, step=f"offer-{round_no}",
                                         stage="counteroffered", status="counteroffered",
                                         decision=view.model_dump(mode="json"), notice_kind="counteroffer",
                                         notice=view.model_dump(mode="json")))
        try:
            await workflow.wait_condition(lambda: self._offer_response is not None,
                                          timeout=timedelta(days=self._inp.info_request_days),
                                          timeout_summary="offer expiry")
        except asyncio.TimeoutError:
            self._offer_response = OfferResponse(accept=False, by="expired")
        resp = self._offer_response
        assert resp is not None
        await self._evidence(EvidenceInput(
            application_id=self._inp.application_id, step=f"offer-response-{round_no}", stage="counteroffered",
            actor=resp.by, at=workflow.now(), outcome="accepted" if resp.accept else "rejected",
            policy_version=d.policy_version, model_version=d.model_version))
        if resp.accept:
            return await self._finish_approved(d, decided_by, round_no, counteroffer=True)
        view.outcome = "counteroffer"
        self._state.decision = view
        return await self._finish("declined", "offer_rejected" if resp.by != "expired" else "offer_expired",
                                  round_no, view)

    # ------------------------------------------------------------------ endings
    async def _finish_approved(self, d: Decision, decided_by: list[str], round_no: int,
                               counteroffer: bool = False) -> ApplicationStatus:
        view = self._view(d, "approve", decided_by)
        if counteroffer and d.counteroffer_amount:
            view.credit_limit = d.counteroffer_amount
        status = await self._finish("approved", "approved", round_no, view)
        child_id = f"credit-line-{self._inp.application_id}"
        await workflow.start_child_workflow(
            "CreditLineWorkflow",
            CreditLineInput(application_id=self._inp.application_id, product=self._inp.product,
                            currency=self._inp.currency, credit_limit=max(view.credit_limit or 0.0, 0.01),
                            grade=view.grade or "C", score=float(view.score or 0.0),
                            opened_on=workflow.now().date()),
            id=child_id, task_queue=workflow.info().task_queue,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=sa.line_at_start(),  # the line's first task then has nothing to upsert
        )
        self._state.credit_line_workflow_id = child_id
        return status

    async def _finish_declined(self, reasons: list, actor: str, round_no: int, d: Decision) -> ApplicationStatus:
        return await self._finish_declined_raw([r.model_dump() for r in reasons][:4], [actor], round_no, d)

    async def _finish_declined_raw(self, reasons: list[dict], decided_by: list[str], round_no: int,
                                   d: Decision) -> ApplicationStatus:
        view = self._view(d, "decline", decided_by)
        view.reasons = reasons[:4]
        view.plans = []
        view.credit_limit = None
        return await self._finish("declined", "declined", round_no, view)

    async def _finish_incomplete(self, round_no: int) -> ApplicationStatus:
        self._state.decision = None
        notice = {"missing": self._state.info_requested,
                  "text": "Your application was closed because the requested information did not arrive "
                          "before the deadline. You may apply again at any time."}
        evidence = EvidenceInput(
            application_id=self._inp.application_id, step=f"final-{round_no}", stage="withdrawn_incomplete",
            actor="info_request_timer", at=workflow.now(), outcome="withdrawn_incomplete",
            details={"missing": self._state.info_requested})
        outcome = OutcomeInput(application_id=self._inp.application_id, step=f"final-{round_no}",
                               stage="withdrawn_incomplete", status="withdrawn_incomplete",
                               notice_kind="incomplete_application", notice=notice)
        await self._record(evidence, outcome, then=lambda: self._set_stage("withdrawn_incomplete"))
        return self._state

    async def _finish(self, stage: str, status: str, round_no: int, view: FinalDecisionView) -> ApplicationStatus:
        self._state.decision = view
        evidence = EvidenceInput(
            application_id=self._inp.application_id, step=f"final-{round_no}", stage=stage,
            actor=",".join(view.decided_by) if isinstance(view.decided_by, list) else view.decided_by,
            at=workflow.now(), outcome=status, policy_version=view.policy_version, model_version=view.model_version,
            reasons=view.reasons,
            inputs={"decision_input": self._state.recommendation.inputs_sha256 if self._state.recommendation else ""},
            details={"grade": view.grade, "credit_limit": view.credit_limit})
        # the notice is the decision: sent once (OutcomeInput.notice None)
        outcome = OutcomeInput(application_id=self._inp.application_id, step=f"final-{round_no}", stage=stage,
                               status=status, decision=view.model_dump(mode="json"),
                               notice_kind=f"decision_{status}")
        self._state.status = status
        await self._record(evidence, outcome, then=lambda: self._set_stage(stage))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    def _view(self, d: Decision, outcome: str, decided_by: list[str]) -> FinalDecisionView:
        return FinalDecisionView(
            outcome=outcome, grade=d.grade, score=d.score, pd=d.pd, credit_limit=d.credit_limit,
            currency=d.currency, plans=[p.model_dump() for p in d.plans],
            reasons=[r.model_dump() for r in d.reasons][:4],
            decided_by="auto" if decided_by == ["auto"] else decided_by,
            policy_version=d.policy_version, model_version=d.model_version,
            counteroffer_amount=d.counteroffer_amount, counteroffer_term_months=d.counteroffer_term_months,
        )

    # ------------------------------------------------------------------ helpers
    async def _evidence(self, e: EvidenceInput) -> None:
        await self._store_step("record_evidence", e, result_type=int, timeout=timedelta(seconds=30))

    async def _record(self, evidence: EvidenceInput, outcome: OutcomeInput,
                      then: Callable[[], None] | None = None) -> None:
        """A decision step's evidence and the row it changes: one `record_step` since `record-step`, then
        `then` (a stage change); before it, evidence, `then`, outcome, the order older histories hold."""
        if self._one_step:
            await self._store_step("record_step", StepInput(evidence=evidence, outcome=outcome), result_type=int,
                                   timeout=timedelta(seconds=30))
            if then is not None:
                then()
            return
        await self._evidence(evidence)
        if then is not None:
            then()
        await self._persist(outcome)

    async def _persist(self, o: OutcomeInput) -> None:
        await self._store_step("record_outcome", o, result_type=None, timeout=timedelta(seconds=30))

    async def _store_step(self, name: str, arg: object, result_type: type | None, timeout: timedelta) -> Any:
        """A short database step (decision engine, evidence log, application row): a local activity
        since `fewer-round-trips`, a regular one in histories recorded before it."""
        if self._local_steps:
            return await workflow.execute_local_activity(name, arg, result_type=result_type,
                                                         start_to_close_timeout=timeout, retry_policy=STORE_RETRY)
        return await workflow.execute_activity(name, arg, result_type=result_type,
                                               start_to_close_timeout=timeout, retry_policy=STORE_RETRY)

    @staticmethod
    def _is_override(recommended: str | None, action: str) -> bool:
        return (recommended == "approve" and action == "decline") or (recommended == "decline" and action == "approve")

    def _open_review(self) -> ReviewTask:
        if self._state.stage != "in_review" or self._state.review is None or self._review_outcome is not None:
            raise _reject("conflict", f"no open review task (stage is {self._state.stage})")
        return self._state.review

    @staticmethod
    def _check_staff_and_queue(role: str, queue: str) -> None:
        if role not in STAFF_ROLES:
            raise _reject("forbidden", "only credit officers can work review tasks")
        if queue not in QUEUES_FOR_ROLE[role]:
            raise _reject("forbidden", f"role {role} may not work the {queue} queue")

    def _set_stage(self, stage: str, index: bool = True) -> None:
        self._state.stage = stage  # type: ignore[assignment]
        if stage not in ("approved", "declined", "withdrawn_incomplete"):
            self._state.status = stage
        if index:
            self._upsert()

    def _upsert(self) -> None:
        review = self._state.review if self._state.stage == "in_review" else None
        rec = self._state.recommendation
        updates: list[SearchAttributeUpdate] = [
            sa.CREDIT_STAGE.value_set(self._state.stage),
            sa.CREDIT_PRODUCT.value_set(self._inp.product),
            sa.CREDIT_AMOUNT.value_set(float(self._inp.requested_amount)),
            sa.CREDIT_QUEUE.value_set(review.queue) if review else sa.CREDIT_QUEUE.value_unset(),
            sa.CREDIT_ASSIGNEE.value_set(review.assignee) if review and review.assignee
            else sa.CREDIT_ASSIGNEE.value_unset(),
            sa.CREDIT_SLA_DUE_AT.value_set(review.sla_due_at) if review else sa.CREDIT_SLA_DUE_AT.value_unset(),
        ]
        if rec is not None and rec.grade:
            updates.append(sa.CREDIT_GRADE.value_set(rec.grade))
        if self._state.decision is not None and self._state.stage in ("approved", "declined", "counteroffered"):
            updates.append(sa.CREDIT_OUTCOME.value_set(self._state.stage))
        workflow.upsert_search_attributes(updates)
