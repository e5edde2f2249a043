"""`CreditLineWorkflow`: one approved credit line, watched from opening until it is closed.

Why a long-running workflow: a line is a small state machine driven by outside events
(draws, repayments, transactions, notes, bureau reports) and by the calendar (days past
due, monthly re-score). Temporal keeps that state durable and the daily timer exact; the
history stays small because the workflow continues-as-new every `evaluations_per_run` days
(or when the server suggests it), carrying its state.

Deterministic by construction: the only clock is `workflow.now()`, policy and arithmetic
live in activities (decision/early_warning.py, decision/servicing_math.py), and the state
helpers in credit_line_types.py are pure. The `draw` update and the daily evaluation both
await activities, so they take one lock; signals that only append or pay are synchronous.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.credit_line_types import (
        ACTIONS_KEPT,
        ALERTS_KEPT,
        DPD_WINDOW_DAYS,
        PAYMENTS_KEPT,
        AcceptLimitIncrease,
        ActionRecord,
        Alert,
        BureauUpdate,
        CreditLineInput,
        CreditLineState,
        Draw,
        DrawResult,
        EarlyWarningRequest,
        EarlyWarningResult,
        InstallmentPlan,
        LimitOffer,
        LineAction,
        LineEvent,
        LineEventReceipt,
        LinePolicy,
        NoteAdded,
        NoteAnalysisRequest,
        NoteAnalysisResult,
        PaymentRecord,
        PlanDrawRequest,
        PlanTerms,
        RepaymentPosted,
        RescoreRequest,
        RescoreResult,
        TransactionObserved,
        TxnRecord,
        apply_payment,
        bucket_for,
        days_past_due,
        months_between,
        refresh,
        remember_id,
    )
    from workflows.search_attributes import CREDIT_BUCKET, CREDIT_WATCH_LIST

# Activities are called by name so this module never imports their code.
SHORT = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5),
                             maximum_attempts=10),
)
NLP = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5),
                             maximum_attempts=8),
)
# Patch id: the short steps (policy load, plan, early-warning rules, re-score, event record) run as
# local activities. Why: each regular activity is a round trip through the server; at the midnight
# tick of a large book those round trips are most of the cost (benchmarks/RESULTS.md, credit lines).
# The NLP note analysis stays a regular activity (it can be slow and must heartbeat-free retry long).
LINE_LOCAL_PATCH = "line-local-steps"
TICK_AT = time(0, 0, 5)  # evaluate just after midnight UTC: "today" is then a whole day


@workflow.defn
class CreditLineWorkflow:
    @workflow.init
    def __init__(self, inp: CreditLineInput) -> None:
        # State exists before `run` so that early signals and updates find it.
        self._input = inp
        if inp.carried_state is not None:
            self._state = inp.carried_state.model_copy(deep=True)
            self._state.counters.evaluations_this_run = 0
        else:
            self._state = CreditLineState(
                application_id=inp.application_id, product=inp.product, currency=inp.currency,
                opened_on=inp.opened_on, credit_limit=inp.credit_limit, origination_limit=inp.credit_limit,
                origination_score=inp.score, origination_grade=inp.grade, score=inp.score, grade=inp.grade,
                plans_offered=list(inp.plans),
            )
            refresh(self._state)
        self._lock = asyncio.Lock()
        self._shown = self._indexed_at_start()  # search attribute values last upserted
        self._local: bool | None = None  # LINE_LOCAL_PATCH, decided at the first short step

    async def _short(self, name: str, arg: object = None, result_type: type | None = None,
                     local_ok: bool = True) -> Any:
        """A short step: local activity since `line-local-steps`, regular before. `local_ok=False` for a
        step that queries this very workflow (a local activity runs inside the workflow task, so the
        query could not be answered until it finished)."""
        if self._local is None:
            self._local = workflow.patched(LINE_LOCAL_PATCH)
        args = [] if arg is None else [arg]
        if self._local and local_ok:
            return await workflow.execute_local_activity(name, args=args, result_type=result_type, **SHORT)
        return await workflow.execute_activity(name, args=args, result_type=result_type, **SHORT)

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, inp: CreditLineInput) -> CreditLineState:
        s = self._state
        previous_policy = s.policy.version if s.policy else None
        s.policy = await self._short("load_line_policy", result_type=LinePolicy)
        self._upsert_search_attributes()
        today = workflow.now().date()
        if inp.carried_state is None:
            await self._record(LineEvent(application_id=s.application_id, kind="opened", occurred_on=today,
                                         detail={"credit_limit": s.credit_limit, "grade": s.grade},
                                         policy_version=s.policy.version))
        elif previous_policy != s.policy.version:
            await self._record(LineEvent(application_id=s.application_id, kind="continued", occurred_on=today,
                                         reason_code="POLICY_CHANGED",
                                         detail={"previous_policy": previous_policy},
                                         policy_version=s.policy.version))
        while True:
            now = workflow.now()
            next_tick = datetime.combine(now.date() + timedelta(days=1), TICK_AT, tzinfo=timezone.utc)
            await workflow.sleep(next_tick - now)
            async with self._lock:
                await self._daily_evaluation(workflow.now().date())
            if (s.counters.evaluations_this_run >= inp.evaluations_per_run
                    or workflow.info().is_continue_as_new_suggested()):
                await workflow.wait_condition(workflow.all_handlers_finished)
                s.counters.runs += 1
                workflow.continue_as_new(inp.model_copy(update={"carried_state": s}))

    # ------------------------------------------------------------------ messages

    @workflow.query
    def status(self) -> CreditLineState:
        return self._state

    @workflow.update
    async def draw(self, request: Draw) -> DrawResult:
        s = self._state
        async with self._lock:
            existing = self._find_draw(request.draw_id)
            if existing is not None:  # duplicate: the first answer again
                s.counters.duplicates_ignored += 1
                return DrawResult(draw_id=request.draw_id, plan=existing, available_after=s.available,
                                  duplicate=True)
            await workflow.wait_condition(lambda: s.policy is not None)
            terms = self._check_draw(request)  # again: the line may have changed while we waited
            today = workflow.now().date()
            plan = await self._short(
                "plan_draw",
                PlanDrawRequest(application_id=s.application_id, draw_id=request.draw_id, amount=request.amount,
                                term_months=request.term_months, apr=terms.apr, drawn_on=today,
                                merchant=request.merchant),
                result_type=InstallmentPlan)
            remember_id(s, f"draw:{request.draw_id}")
            s.draws.append(plan)
            s.total_drawn = round(s.total_drawn + plan.amount, 2)
            s.counters.draws += 1
            refresh(s, today)
            await self._record(LineEvent(application_id=s.application_id, kind="draw", occurred_on=today,
                                         detail={"draw_id": request.draw_id, "amount": plan.amount,
                                                 "term_months": plan.term_months, "apr": plan.apr}))
            return DrawResult(draw_id=request.draw_id, plan=plan, available_after=s.available)

    @draw.validator
    def _validate_draw(self, request: Draw) -> None:
        """Read-only: a rejected draw never enters the history."""
        if self._find_draw(request.draw_id) is not None:
            return  # duplicate, answered by the handler
        if f"draw:{request.draw_id}" in self._state.seen_ids:
            raise ApplicationError("draw id already used", type="DUPLICATE_DRAW", non_retryable=True)
        self._check_draw(request, policy_may_be_pending=True)

    @workflow.update
    async def accept_limit_increase(self, request: AcceptLimitIncrease) -> CreditLineState:
        s = self._state
        offer = s.pending_offer
        assert offer is not None  # the validator checked
        today = workflow.now().date()
        old_limit = s.credit_limit
        s.credit_limit = offer.new_limit
        offer.status = "accepted"
        s.pending_offer = None
        refresh(s, today)
        self._take(ActionRecord(action="limit_increase", reason_code="LIMIT_INCREASE_ACCEPTED",
                                rule_id="-", taken_on=today,
                                detail={"offer_id": offer.offer_id, "old_limit": old_limit,
                                        "new_limit": offer.new_limit},
                                policy_version=s.policy.version if s.policy else ""))
        await self._record(LineEvent(application_id=s.application_id, kind="action", occurred_on=today,
                                     reason_code="LIMIT_INCREASE_ACCEPTED",
                                     detail={"old_limit": old_limit, "new_limit": offer.new_limit}))
        return s

    @accept_limit_increase.validator
    def _validate_accept(self, request: AcceptLimitIncrease) -> None:
        s = self._state
        offer = s.pending_offer
        if offer is None or offer.offer_id != request.offer_id or offer.status != "open":
            raise ApplicationError("no such open offer", type="NO_OPEN_OFFER", non_retryable=True)
        if s.frozen or s.watch_list:
            raise ApplicationError("the line is frozen or on the watch list", type="LINE_RESTRICTED",
                                   non_retryable=True)

    @workflow.signal
    def repayment_posted(self, payment: RepaymentPosted) -> None:
        s = self._state
        if not remember_id(s, f"payment:{payment.payment_id}"):
            return
        applied = apply_payment(s, payment.amount)
        s.payments.append(PaymentRecord(payment_id=payment.payment_id, amount=payment.amount,
                                        posted_on=payment.posted_on, applied=applied))
        del s.payments[:-PAYMENTS_KEPT]
        s.total_repaid = round(s.total_repaid + payment.amount, 2)
        s.counters.payments += 1
        today = workflow.now().date()
        refresh(s, today)
        # DPD and bucket follow the payment at once (a cure shows now); streak counters and
        # the rules wait for the daily evaluation.
        s.days_past_due = days_past_due(s, today)
        self._set_bucket(today)

    @workflow.signal
    def transaction_observed(self, txn: TransactionObserved) -> None:
        s = self._state
        if not remember_id(s, f"txn:{txn.txn_id}"):
            return
        s.transactions.append(TxnRecord.model_validate(txn.model_dump()))
        s.counters.transactions += 1
        self._prune_windows(workflow.now().date())

    @workflow.signal
    def bureau_update(self, update: BureauUpdate) -> None:
        s = self._state
        if not remember_id(s, f"bureau:{update.update_id}"):
            return
        s.bureau.append(update)
        s.bureau.sort(key=lambda b: b.reported_on)
        del s.bureau[:-12]
        s.counters.bureau_updates += 1

    @workflow.signal
    async def note_added(self, note: NoteAdded) -> None:
        s = self._state
        if not remember_id(s, f"note:{note.note_id}"):
            return
        s.counters.notes += 1
        today = workflow.now().date()
        try:
            result = await workflow.execute_activity(
                "analyze_servicing_note",
                NoteAnalysisRequest(application_id=s.application_id, note_id=note.note_id, text=note.text,
                                    observed_on=today),
                result_type=NoteAnalysisResult, **NLP)
        except ActivityError:
            # The NLP service stayed down: the note is not lost from history, but the
            # line must not fail; staff see an alert and can re-send the note with a new id.
            s.counters.note_analysis_failures += 1
            self._alert(today, "NOTE_ANALYSIS_FAILED", "medium", f"Note {note.note_id} could not be analysed.")
            return
        s.note_signals.extend(result.signals)
        self._prune_windows(today)

    # ------------------------------------------------------------------ daily evaluation

    async def _daily_evaluation(self, today: date) -> None:
        s = self._state
        if s.last_evaluated_on == today:
            return
        assert s.policy is not None
        s.counters.evaluations_total += 1
        s.counters.evaluations_this_run += 1
        self._prune_windows(today)
        if s.pending_offer is not None and s.pending_offer.expires_on < today:
            s.pending_offer.status = "expired"
            s.pending_offer = None

        refresh(s, today)
        dpd = days_past_due(s, today)
        s.days_past_due = dpd
        s.max_dpd = max(s.max_dpd, dpd)
        s.dpd_window.append(dpd)
        del s.dpd_window[:-DPD_WINDOW_DAYS]
        s.days_current = s.days_current + 1 if dpd == 0 else 0
        s.delinquent_since = None if dpd == 0 else (s.delinquent_since or today - timedelta(days=dpd))
        self._set_bucket(today)

        last = s.last_rescored_on or s.opened_on
        if (today - last).days >= s.policy.rescore_interval_days:
            await self._rescore(today)
        # A re-score asked for by a rule is followed by a second pass, so that a grade drop
        # acts the same day; rules are edge-triggered, so nothing fires twice.
        for _ in range(2):
            wants_rescore = await self._evaluate(today)
            if not wants_rescore:
                break
            await self._rescore(today)
        s.last_evaluated_on = today
        self._upsert_search_attributes()

    def _snapshot(self, today: date) -> EarlyWarningRequest:
        s = self._state
        return EarlyWarningRequest(
            application_id=s.application_id, as_of=today, product=s.product, dpd=s.days_past_due,
            max_dpd_180d=max(s.dpd_window, default=0), bucket=s.bucket, days_current=s.days_current,
            months_on_book=months_between(s.opened_on, today), credit_limit=s.credit_limit,
            origination_limit=s.origination_limit, principal_outstanding=s.principal_outstanding,
            watch_list=s.watch_list, watch_clean_days=s.watch_clean_days, frozen=s.frozen,
            origination_grade=s.origination_grade, grade=s.grade,
            days_since_last_offer=(today - s.last_offer_on).days if s.last_offer_on else 10_000,
            offer_open=s.pending_offer is not None, transactions=list(s.transactions),
            note_signals=list(s.note_signals), bureau=list(s.bureau), previously_active=list(s.active_rules),
        )

    async def _evaluate(self, today: date) -> bool:
        """One pass of the early-warning rules; returns whether a re-score was asked for."""
        s = self._state
        try:
            result = await self._short("evaluate_early_warning", self._snapshot(today),
                                       result_type=EarlyWarningResult)
        except ActivityError:
            self._alert(today, "EVALUATION_FAILED", "high", "Early-warning evaluation failed; retried tomorrow.")
            return False
        s.active_rules = result.active_rules
        rescore = False
        events: list[LineEvent] = []
        for action in result.actions:
            detail = self._apply(action, today, result.policy_version)
            rescore = rescore or action.action == "rescore"
            events.append(LineEvent(application_id=s.application_id, kind="action", occurred_on=today,
                                    reason_code=action.reason_code, detail={"action": action.action, **detail},
                                    policy_version=result.policy_version))
        s.watch_clean_days = 0 if result.watch_conditions_active else s.watch_clean_days + 1
        if events:
            await asyncio.gather(*(self._record(e) for e in events))
        return rescore

    def _apply(self, action: LineAction, today: date, policy_version: str) -> dict[str, bool | int | float | str | None]:
        """Carry out one action on the state; every action is recorded and raised as an alert."""
        s = self._state
        detail: dict[str, bool | int | float | str | None] = {"rule_id": action.rule_id}
        if action.action == "watch_list":
            s.watch_list = True
            if action.reason_code not in s.watch_reasons:
                s.watch_reasons.append(action.reason_code)
        elif action.action == "watch_list_release":
            s.watch_list = False
            s.watch_reasons = []
        elif action.action == "freeze":
            s.frozen = True
            s.frozen_reason = action.reason_code
        elif action.action == "unfreeze":
            s.frozen = False
            s.frozen_reason = None
        elif action.action == "limit_reduction" and action.new_limit is not None:
            detail.update(old_limit=s.credit_limit, new_limit=action.new_limit)
            s.credit_limit = action.new_limit
            s.pending_offer = None
            refresh(s, today)
        elif action.action == "limit_increase_offer" and action.new_limit is not None:
            offer = LimitOffer(offer_id=f"offer-{s.application_id}-{today.isoformat()}", offered_on=today,
                               expires_on=today + timedelta(days=s.policy.offer_valid_days if s.policy else 30),
                               current_limit=s.credit_limit, new_limit=action.new_limit)
            s.pending_offer = offer
            s.last_offer_on = today
            detail.update(offer_id=offer.offer_id, new_limit=action.new_limit)
        # "reminder" and "rescore" change nothing here: the alert is the reminder, and the
        # re-score runs after this pass.
        self._take(ActionRecord(action=action.action, reason_code=action.reason_code, rule_id=action.rule_id,
                                taken_on=today, detail=detail, policy_version=policy_version))
        if action.action != "rescore":
            self._alert(today, action.reason_code, action.severity, action.text)
        return detail

    async def _rescore(self, today: date) -> None:
        s = self._state
        try:
            result = await self._short(
                "rescore_line", RescoreRequest(snapshot=self._snapshot(today), origination_score=s.origination_score),
                result_type=RescoreResult)
        except ActivityError:
            self._alert(today, "RESCORE_FAILED", "medium", "Behavioural re-score failed; retried next cycle.")
            return
        old_grade = s.grade
        s.score, s.grade = result.score, result.grade
        s.score_model_version = result.model_version
        s.last_rescored_on = today
        s.counters.rescores += 1
        await self._record(LineEvent(application_id=s.application_id, kind="rescore", occurred_on=today,
                                     detail={"score": result.score, "grade": result.grade, "old_grade": old_grade},
                                     policy_version=result.model_version))

    # ------------------------------------------------------------------ helpers

    def _find_draw(self, draw_id: str) -> InstallmentPlan | None:
        return next((p for p in self._state.draws if p.draw_id == draw_id), None)

    def _check_draw(self, request: Draw, policy_may_be_pending: bool = False) -> PlanTerms:
        s = self._state
        if s.frozen:
            raise ApplicationError("the line is frozen", s.frozen_reason, type="LINE_FROZEN", non_retryable=True)
        terms_list = s.plans_offered or (s.policy.default_plans if s.policy else [])
        terms = next((t for t in terms_list if t.term_months == request.term_months), None)
        if terms is None and not (policy_may_be_pending and not terms_list):
            raise ApplicationError(f"term {request.term_months} is not offered on this line",
                                   sorted(t.term_months for t in terms_list), type="BAD_TERM",
                                   non_retryable=True)
        if request.amount > s.available + 0.005:
            raise ApplicationError("amount exceeds the available limit", s.available,
                                   type="INSUFFICIENT_AVAILABLE", non_retryable=True)
        return terms or PlanTerms(term_months=request.term_months, apr=0.0)

    def _set_bucket(self, today: date) -> None:
        s = self._state
        bucket = bucket_for(s.days_past_due)
        if bucket != s.bucket:
            self._alert(today, "BUCKET_CHANGED", "low" if bucket == "current" else "medium",
                        f"Bucket {s.bucket} -> {bucket}.")
            s.bucket = bucket
            self._upsert_search_attributes()

    def _prune_windows(self, today: date) -> None:
        s = self._state
        if s.policy is None:
            return
        txn_from = today - timedelta(days=s.policy.transaction_window_days)
        sig_from = today - timedelta(days=s.policy.signal_window_days)
        s.transactions = [t for t in s.transactions if t.observed_on > txn_from]
        s.note_signals = [n for n in s.note_signals if n.observed_on > sig_from]

    def _alert(self, today: date, code: str, severity: str, message: str) -> None:
        s = self._state
        s.counters.alerts_raised += 1
        s.alerts.append(Alert(alert_id=f"{s.application_id}-{s.counters.alerts_raised}", raised_on=today,
                              code=code, severity=severity, message=message))  # type: ignore[arg-type]
        del s.alerts[:-ALERTS_KEPT]

    def _take(self, record: ActionRecord) -> None:
        s = self._state
        s.actions.append(record)
        del s.actions[:-ACTIONS_KEPT]
        s.counters.actions_taken += 1

    async def _record(self, event: LineEvent) -> LineEventReceipt | None:
        try:
            # an "action" event may raise an officer task, which reads the line's status query
            return await self._short("record_line_event", event, result_type=LineEventReceipt,
                                     local_ok=event.kind != "action")
        except ActivityError:
            self._alert(event.occurred_on, "RECORD_FAILED", "high", f"Could not record {event.kind} event.")
            return None

    @staticmethod
    def _indexed_at_start() -> tuple[str, bool] | None:
        """Bucket and flag the line was started with (sa.line_at_start, or carried over by
        continue-as-new); None for runs started bare, which therefore upsert at once as they always did."""
        attrs = workflow.info().typed_search_attributes
        bucket, watch = attrs.get(CREDIT_BUCKET), attrs.get(CREDIT_WATCH_LIST)
        return None if bucket is None or watch is None else (bucket, watch)

    def _upsert_search_attributes(self) -> None:
        """Bucket and watch-list flag only (no PII); upserted when they change."""
        s = self._state
        shown = (s.bucket, s.watch_list)
        if self._shown == shown:
            return
        self._shown = shown
        workflow.upsert_search_attributes([CREDIT_BUCKET.value_set(s.bucket),
                                           CREDIT_WATCH_LIST.value_set(s.watch_list)])
