"""Portfolio view of the open credit lines: `GET /v1/portfolio/summary` and `/console/portfolio`.

Where the numbers come from: the running `CreditLineWorkflow`s of this deployment's task
queue (a visibility query) and each line's own `status` query, which is authoritative (search
attributes lag and carry no balances). Nothing is stored twice, so the summary can never
disagree with the lines; the price is one query per line, run with bounded concurrency and
capped at `MAX_LINES` (the answer says `truncated` and how many lines did not answer). At the
100,000-line scale of issue 7 this wants a read model fed by the line events instead.

Roll rates need each line's bucket at past month ends. The line state already keeps its
daily days-past-due for the last 180 evaluations (`dpd_window`, newest last, the last value
being `last_evaluated_on`), so month-end buckets are derived from it: no workflow change,
nothing for replay to trip over. Gaps (days a worker was down) make this approximate.

The aggregation below (`summarize` and helpers) is pure: plain data in, plain data out, no
HTTP and no Temporal, so it is unit-tested directly.
"""

from __future__ import annotations

import asyncio
import calendar
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from temporalio.client import Client

from creditflow.api.deps import StaffDep
from creditflow.api.problems import ProblemError
from creditflow.api.routes.console import SECURITY_HEADERS, STATIC_DIR
from creditflow.api.temporal_dep import TemporalDep
from workflows.credit_line_types import BUCKETS, CreditLineState, bucket_for

router = APIRouter(tags=["portfolio"])

MAX_LINES = 5000
QUERY_CONCURRENCY = 16
QUERY_TIMEOUT_S = 10.0
ROLL_MONTHS = 6  # dpd_window holds 180 days: at most six month ends back
ALERTS_SHOWN = 100
PAGE_FILES: dict[str, str] = {
    "portfolio.js": "text/javascript; charset=utf-8",
    "portfolio.css": "text/css; charset=utf-8",
}


# ---------------------------------------------------------------- pure aggregation

def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month_ends(as_of: date, count: int) -> list[date]:
    """The last `count` month ends strictly before `as_of`'s month, oldest first."""
    ends: list[date] = []
    y, m = as_of.year, as_of.month
    for _ in range(count):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        ends.append(month_end(y, m))
    return list(reversed(ends))


def bucket_on(st: CreditLineState, day: date) -> str | None:
    """The line's bucket at the end of `day`, or None when unknown (before it opened, or older
    than the DPD window)."""
    if day < st.opened_on:
        return None
    last = st.last_evaluated_on
    if last is None or day >= last:
        return st.bucket
    back = (last - day).days
    if back >= len(st.dpd_window):
        return None
    return bucket_for(st.dpd_window[len(st.dpd_window) - 1 - back])


def _worse(a: str, b: str) -> bool:
    return BUCKETS.index(b) > BUCKETS.index(a)


def roll_rates(states: list[CreditLineState], as_of: date, months: int = ROLL_MONTHS) -> list[dict[str, Any]]:
    """Month-over-month transitions between consecutive month ends (the last step ends at
    `as_of`, month to date). Per step: the from->to count matrix, and per starting bucket the
    share that rolled to a worse bucket (`roll_forward`) or cured to a better one (`cure`).
    Steps without any line known at both ends are left out."""
    points = [(d.strftime("%Y-%m"), d) for d in previous_month_ends(as_of, months)]
    points.append((as_of.strftime("%Y-%m"), as_of))
    out: list[dict[str, Any]] = []
    for (from_label, from_day), (to_label, to_day) in zip(points, points[1:]):
        matrix: dict[str, dict[str, int]] = {b: {c: 0 for c in BUCKETS} for b in BUCKETS}
        lines = 0
        for st in states:
            a, b = bucket_on(st, from_day), bucket_on(st, to_day)
            if a is None or b is None:
                continue
            matrix[a][b] += 1
            lines += 1
        if not lines:
            continue
        forward: dict[str, float | None] = {}
        cure: dict[str, float | None] = {}
        for a in BUCKETS:
            total = sum(matrix[a].values())
            worse = sum(n for b, n in matrix[a].items() if _worse(a, b))
            better = sum(n for b, n in matrix[a].items() if _worse(b, a))
            forward[a] = round(worse / total, 4) if total else None
            cure[a] = round(better / total, 4) if total else None
        out.append({"from_month": from_label, "to_month": to_label, "from_date": from_day.isoformat(),
                    "to_date": to_day.isoformat(), "lines": lines, "matrix": matrix,
                    "roll_forward": forward, "cure": cure})
    return out


def open_alerts(states: Iterable[CreditLineState], as_of: date, days: int) -> list[dict[str, Any]]:
    """Alerts raised in the last `days` days up to `as_of` (the lines keep no acknowledgement,
    so recency is what makes an alert open), newest and most severe first. No PII: the
    alert texts are the policy's own sentences."""
    since = as_of - timedelta(days=days)
    rank = {"high": 0, "medium": 1, "low": 2}
    items = [
        {"application_id": st.application_id, "alert_id": a.alert_id, "raised_on": a.raised_on.isoformat(),
         "code": a.code, "severity": a.severity, "message": a.message, "bucket": st.bucket,
         "watch_list": st.watch_list, "frozen": st.frozen}
        for st in states for a in st.alerts if since < a.raised_on <= as_of
    ]
    items.sort(key=lambda i: (i["raised_on"], -rank[i["severity"]], i["alert_id"]), reverse=True)
    return items


def summarize(states: list[CreditLineState], as_of: date, alert_days: int = 30) -> dict[str, Any]:
    """Counts and balances by bucket, flags, roll rates and open alerts of these lines."""
    rows = {b: {"bucket": b, "count": 0, "credit_limit": 0.0, "principal_outstanding": 0.0,
                "balance_outstanding": 0.0, "amount_overdue": 0.0, "available": 0.0} for b in BUCKETS}
    for st in states:
        row = rows[st.bucket]
        row["count"] += 1
        for key in ("credit_limit", "principal_outstanding", "balance_outstanding", "amount_overdue", "available"):
            row[key] = round(row[key] + getattr(st, key), 2)
    buckets = [rows[b] for b in BUCKETS]
    totals = {key: round(sum(r[key] for r in buckets), 2)
              for key in ("credit_limit", "principal_outstanding", "balance_outstanding", "amount_overdue",
                          "available")}
    totals["count"] = len(states)
    alerts = open_alerts(states, as_of, alert_days)
    by_severity = {s: sum(1 for a in alerts if a["severity"] == s) for s in ("high", "medium", "low")}
    currencies = sorted({st.currency for st in states})
    return {
        "as_of": as_of.isoformat(), "lines": len(states), "currencies": currencies,
        "buckets": buckets, "totals": totals,
        "watch_list": sum(1 for st in states if st.watch_list),
        "frozen": sum(1 for st in states if st.frozen),
        "delinquent": sum(1 for st in states if st.days_past_due > 0),
        "roll_rates": roll_rates(states, as_of),
        "alerts": {"open": len(alerts), "window_days": alert_days, "by_severity": by_severity,
                   "items": alerts[:ALERTS_SHOWN]},
    }


# ---------------------------------------------------------------- reading the lines

async def running_lines(client: Client, task_queue: str, limit: int = MAX_LINES) -> tuple[list[str], bool]:
    """Workflow ids of the running lines on `task_queue` (at most `limit`) and whether more exist."""
    if "'" in task_queue:
        raise ProblemError(500, "Bad configuration", "The task queue name contains a quote.")
    query = (f"WorkflowType = 'CreditLineWorkflow' AND ExecutionStatus = 'Running' "
             f"AND TaskQueue = '{task_queue}'")
    ids: list[str] = []
    async for wf in client.list_workflows(query, limit=limit + 1):
        if len(ids) >= limit:
            return ids, True
        ids.append(wf.id)
    return ids, False


async def line_states(client: Client, workflow_ids: list[str]) -> tuple[list[CreditLineState], int]:
    """Each line's `status` query, `QUERY_CONCURRENCY` at a time; returns (states, unreachable)."""
    from workflows.credit_line import CreditLineWorkflow

    gate = asyncio.Semaphore(QUERY_CONCURRENCY)

    async def one(wid: str) -> CreditLineState | None:
        async with gate:
            try:
                handle = client.get_workflow_handle_for(CreditLineWorkflow.run, wid)
                return await asyncio.wait_for(handle.query(CreditLineWorkflow.status), timeout=QUERY_TIMEOUT_S)
            except Exception:  # closed meanwhile, no worker, timeout: counted, not fatal
                return None

    results = await asyncio.gather(*(one(w) for w in workflow_ids))
    states = [r for r in results if r is not None]
    return states, len(results) - len(states)


# ---------------------------------------------------------------- routes

@router.get("/v1/portfolio/summary")
async def portfolio_summary(
    request: Request, principal: StaffDep, client: TemporalDep,
    as_of: date | None = Query(default=None, description="business date; default: today (UTC) or the "
                                                          "latest evaluation, whichever is later"),
    alert_days: int = Query(default=30, ge=1, le=365),
) -> dict[str, Any]:
    """Staff only: counts and balances by bucket, roll rates month over month, open alerts."""
    settings = request.app.state.settings
    ids, truncated = await running_lines(client, settings.task_queue)
    states, unreachable = await line_states(client, ids)
    if as_of is None:
        latest = max((st.last_evaluated_on for st in states if st.last_evaluated_on), default=None)
        today = datetime.now(timezone.utc).date()
        as_of = max(today, latest) if latest else today
    out = summarize(states, as_of, alert_days)
    out.update(truncated=truncated, unreachable=unreachable)
    return out


@router.get("/console/portfolio", include_in_schema=False)
async def portfolio_page() -> FileResponse:
    """The portfolio page of the officer console (static; data from /v1/portfolio/summary)."""
    return FileResponse(STATIC_DIR / "portfolio.html", media_type="text/html; charset=utf-8",
                        headers=SECURITY_HEADERS)


@router.get("/console/portfolio/static/{name}", include_in_schema=False)
async def portfolio_static(name: str) -> FileResponse:
    media = PAGE_FILES.get(name)
    if media is None:
        raise ProblemError(404, "Not found", "No such portfolio file.")
    return FileResponse(STATIC_DIR / name, media_type=media,
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})
