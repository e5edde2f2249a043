"""The officer console end to end: real Chromium, real API, real Temporal workflow, real NLP service.

Each test starts a demo application on this test's task queue, waits for the workflow to put it
in review, then works it only through the page, and checks the outcome both on the page and
through the API. Screenshots for the docs are written to docs/screenshots/.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from creditflow.demo import bank_statement, demo_cases, pay_stub
from tests.helpers import start_application, wait_stage
from workflows.credit_application import CreditApplicationWorkflow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETTLE_MS = 60_000  # the workflow runs evidence/persist activities after a decision


def referral_case(**body_over: Any) -> dict[str, Any]:
    case = copy.deepcopy(next(c for c in demo_cases() if c["label"] == "referral to officer"))
    case["body"].update(body_over)
    return case


def four_eyes_case(amount: float = 30_000) -> dict[str, Any]:
    """The referral applicant asking for more than an officer may approve alone, with the income
    (stated and documented alike) to support it, so the whole amount goes to the senior queue."""
    case = referral_case(requested_amount=amount)
    a = case["body"]["applicant"]
    a["monthly_income"] = 20_000
    case["documents"][1:] = [pay_stub(a["full_name"], a["employer_name"], 20_000, 14_500),
                             bank_statement(a["full_name"], 5_200, 20_000, 16_400)]
    return case


async def sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/console")
    await page.get_by_label("Officer token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who-text")).to_contain_text("Signed in as")


async def sign_out(page: Page) -> None:
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def inbox_row(page: Page, app_id: str, queue: str | None = None):  # type: ignore[no-untyped-def]
    """The inbox row of `app_id`, refreshing while visibility (search attributes) catches up."""
    if queue is not None:
        await page.get_by_label("Queue").select_option(queue)
    row = page.locator(f'#inbox-rows tr[data-application="{app_id}"]')
    for _ in range(100):
        if await row.count():
            break
        await page.get_by_role("button", name="Refresh").click()
        await page.wait_for_timeout(200)
    await expect(row).to_be_visible()
    return row


async def api_get(base: str, token: str, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.get(path, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return r.json()


async def test_officer_claims_and_approves_with_a_comment(
    page: Page, api_url: str, temporal_env, settings, db, task_queue: str,  # type: ignore[no-untyped-def]
    tokens: dict[str, str], screenshots: Path,
) -> None:
    case = referral_case()
    amount = case["body"]["requested_amount"]
    assert 5_000 < amount <= 20_000  # above automatic approval, within an officer's authority
    app_id, handle = await start_application(temporal_env.client, settings, db, case, task_queue)
    st = await wait_stage(handle, {"in_review"})
    assert st.review is not None and st.review.queue == "officer"

    await sign_in(page, api_url, tokens["officer"])
    # The codec cookie for the Temporal UI: HttpOnly, SameSite=Strict, only sent to /codec.
    cookie = next(c for c in await page.context.cookies() if c["name"] == "creditflow_token")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/codec")
    assert cookie["value"] == tokens["officer"]

    row = await inbox_row(page, app_id)
    cells = await row.locator("td").all_text_contents()
    assert cells[0] == "officer" and cells[1] == app_id and cells[3] == f"${amount:,.2f}"
    assert cells[6] == "unassigned" and "overdue" not in cells[5]
    await page.screenshot(path=str(screenshots / "inbox.png"))

    # Two days later (the browser's clock only) the same task is past its SLA: said in words, not colour only.
    later = await page.context.browser.new_context(locale="en-US")  # type: ignore[union-attr]
    try:
        late_page = await later.new_page()
        await late_page.clock.set_fixed_time(datetime.now(timezone.utc) + timedelta(days=2))
        await sign_in(late_page, api_url, tokens["officer"])
        late_row = await inbox_row(late_page, app_id)
        await expect(late_row).to_have_class("overdue")
        await expect(late_row.locator("td").nth(5)).to_contain_text("overdue")
    finally:
        await later.close()

    await row.get_by_role("link", name=app_id).click()
    await expect(page.get_by_role("heading", name=f"Application {app_id}")).to_be_focused()
    await expect(page.locator("#task-stage")).to_have_text("in_review")
    await expect(page.locator("#rec-outcome")).to_have_text("Recommended: refer to officer queue")
    await expect(page.get_by_role("link", name="Open the workflow in the Temporal UI")).to_have_attribute(
        "href", f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows/application-{app_id}")

    await page.get_by_role("button", name="Claim").click()
    await expect(page.locator("#messages")).to_contain_text("You claimed this task")
    await expect(page.locator("#review-state")).to_contain_text("demo-officer")

    # Approve without a comment: blocked in the page, in words, and nothing reaches the workflow.
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#comment-error")).to_have_text(
        "Write a comment before you approve: every review action needs one.")
    await expect(page.get_by_role("alert")).to_contain_text("Write a comment")
    await expect(page.get_by_label("Comment (required for every action)")).to_be_focused()
    await expect(page.get_by_label("Comment (required for every action)")).to_have_attribute("aria-invalid", "true")
    st = await handle.query(CreditApplicationWorkflow.status)
    assert st.review.actions == [] and st.stage == "in_review"

    await page.get_by_label("Comment (required for every action)").fill("Income and employment verified.")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#task-stage")).to_have_text("approved", timeout=SETTLE_MS)
    await expect(page.locator("#final-outcome")).to_contain_text("approve (decided by demo-officer)")

    view = await api_get(api_url, tokens["officer"], f"/v1/applications/{app_id}")
    assert view["stage"] == "approved"
    assert view["decision"]["outcome"] == "approve"
    assert "demo-officer" in view["decision"]["decided_by"]
    st = await handle.query(CreditApplicationWorkflow.status)
    assert [(a.officer_id, a.comment) for a in st.review.approvals] == [
        ("demo-officer", "Income and employment verified.")]


async def test_four_eyes_needs_two_senior_officers(
    page: Page, api_url: str, temporal_env, settings, db, task_queue: str,  # type: ignore[no-untyped-def]
    tokens: dict[str, str], screenshots: Path,
) -> None:
    app_id, handle = await start_application(temporal_env.client, settings, db,
                                             four_eyes_case(), task_queue)
    st = await wait_stage(handle, {"in_review"})
    assert st.review is not None and st.review.queue == "senior" and st.review.required_approvals == 2, (
        st.recommendation.model_dump(exclude={"features", "score_breakdown", "authority"}) if st.recommendation else st)

    # Maker: the first senior officer claims and approves.
    await sign_in(page, api_url, tokens["senior_officer"])
    row = await inbox_row(page, app_id, queue="senior")
    await row.get_by_role("link", name=app_id).click()
    await expect(page.locator("#review-state")).to_contain_text("0 of 2 required")
    await page.get_by_role("button", name="Claim").click()
    await expect(page.locator("#review-state")).to_contain_text("demo-senior")
    await page.get_by_label("Comment (required for every action)").fill("Maker: documents and income check out.")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#messages")).to_contain_text("Your approval is recorded (1 of 2)")
    await expect(page.locator("#review-state")).to_contain_text("1 of 2 required")
    await expect(page.locator("#task-stage")).to_have_text("in_review")

    # The maker may not also be the checker: the workflow's validator says no, the page says why.
    await page.get_by_role("button", name="Claim").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Not allowed: you approved this task as maker; a different officer must check it")
    await page.get_by_label("Comment (required for every action)").fill("Approving again.")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("alert")).to_contain_text("Conflict: claim the task before deciding")
    st = await handle.query(CreditApplicationWorkflow.status)
    assert [a.officer_id for a in st.review.approvals] == ["demo-senior"] and st.stage == "in_review"

    # Checker: a second senior officer sees the first approval with its comment, then approves.
    await sign_out(page)
    await sign_in(page, api_url, tokens["senior2"])
    row = await inbox_row(page, app_id, queue="senior")
    await row.get_by_role("link", name=app_id).click()
    first = page.locator("#approvals li").first
    await expect(first).to_contain_text("approve by demo-senior (senior_officer)")
    await expect(first.locator("blockquote")).to_have_text("Maker: documents and income check out.")
    await page.get_by_role("button", name="Claim").click()
    await expect(page.locator("#review-state")).to_contain_text("demo-senior-2")
    await page.get_by_label("Comment (required for every action)").fill("Checker: agree, within policy.")
    await page.locator("#approvals").scroll_into_view_if_needed()
    await page.screenshot(path=str(screenshots / "four_eyes.png"))
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#task-stage")).to_have_text("approved", timeout=SETTLE_MS)

    view = await api_get(api_url, tokens["senior2"], f"/v1/applications/{app_id}")
    assert view["stage"] == "approved"
    assert sorted(view["decision"]["decided_by"]) == ["demo-senior", "demo-senior-2"]


async def test_note_evidence_and_protected_mention_are_highlighted(
    page: Page, api_url: str, temporal_env, settings, db, task_queue: str,  # type: ignore[no-untyped-def]
    tokens: dict[str, str], screenshots: Path,
) -> None:
    note = "She mentioned she is pregnant and took a payday loan last month."
    app_id, handle = await start_application(temporal_env.client, settings, db, referral_case(notes=[note]),
                                             task_queue)
    await wait_stage(handle, {"in_review", "approved", "declined", "counteroffered", "info_requested"})

    detail = await api_get(api_url, tokens["officer"], f"/v1/review/tasks/{app_id}")
    analysis = detail["notes"][0]["analysis"]
    loan = next(s for s in analysis["risk_signals"] if s["code"] == "HIGH_COST_BORROWING")
    preg = next(p for p in analysis["protected_attributes"] if p["category"] == "pregnancy")

    await sign_in(page, api_url, tokens["officer"])
    await page.goto(f"{api_url}/console#/task/{app_id}")
    await expect(page.get_by_role("heading", name=f"Application {app_id}")).to_be_visible()

    note_box = page.locator("#notes .note").first
    marks = note_box.locator('mark[data-codes~="HIGH_COST_BORROWING"]')
    await expect(marks.first).to_be_visible()
    assert "".join(await marks.all_text_contents()) == loan["evidence"]["text"] == note[
        loan["evidence"]["start"]:loan["evidence"]["end"]]
    await expect(marks.first).to_have_class(f"hl risk-{loan['polarity']}")
    await expect(note_box.locator(".tag[data-code=HIGH_COST_BORROWING]")).to_have_text(
        f"HIGH_COST_BORROWING · {loan['polarity']}")

    protected = note_box.locator('mark.protected[data-categories~="pregnancy"]')
    assert "".join(await protected.all_text_contents()) == note[preg["start"]:preg["end"]]
    assert "pregnan" in note[preg["start"]:preg["end"]]
    await expect(note_box.locator(".tag-protected[data-category=pregnancy]")).to_have_text(
        "do not consider: pregnancy")
    await expect(note_box.locator(".protected-note")).to_contain_text("pregnancy (“pregnant”)")
    await expect(page.locator("#legend")).to_contain_text("do not consider")

    # Documents show their type, extracted fields and highlighted source text.
    stub = page.locator('#documents section[data-doc-type="pay_stub"]')
    await expect(stub.locator("h4")).to_contain_text("Pay stub")
    await expect(stub.locator('tr[data-field="gross_pay"] td').first).to_have_text("9,000")
    await expect(stub.locator("mark.field").first).to_be_visible()
    # Score breakdown drawn as bars, one per feature, and the recommendation's reasons.
    rec = detail["status"]["recommendation"]
    assert await page.locator("#score-breakdown tbody tr").count() == len(rec["score_breakdown"]) > 0
    assert await page.locator("#score-breakdown svg rect").count() == len(rec["score_breakdown"])
    # For the docs: the evidence section (legend, the note, the first documents), not the whole long page.
    top = await page.locator("#evidence-title").evaluate("e => e.closest('section').getBoundingClientRect().top + scrollY")
    await page.screenshot(path=str(screenshots / "application.png"), full_page=True,
                          clip={"x": 0, "y": top - 8, "width": 1280, "height": 1100})


async def test_officer_sends_a_counteroffer(
    page: Page, api_url: str, temporal_env, settings, db, task_queue: str,  # type: ignore[no-untyped-def]
    tokens: dict[str, str],
) -> None:
    case = referral_case()
    app_id, handle = await start_application(temporal_env.client, settings, db, case, task_queue)
    await wait_stage(handle, {"in_review"})
    offer = case["body"]["requested_amount"] - 1_000

    await sign_in(page, api_url, tokens["officer"])
    await page.goto(f"{api_url}/console#/task/{app_id}")
    await page.get_by_role("button", name="Claim").click()
    await expect(page.locator("#review-state")).to_contain_text("demo-officer")

    await expect(page.get_by_label("Offered amount")).to_be_hidden()
    await page.get_by_role("radio", name="Counteroffer").check()
    await expect(page.get_by_label("Offered amount")).to_be_visible()
    await page.get_by_label("Comment (required for every action)").fill("Lower amount fits the verified income.")
    await page.get_by_role("button", name="Send counteroffer").click()
    await expect(page.get_by_role("alert")).to_have_text("Enter the amount you offer (a number above zero).")
    await expect(page.get_by_label("Offered amount")).to_be_focused()

    await page.get_by_label("Offered amount").fill(str(offer))
    await page.get_by_label("Term (months)").select_option("12")
    await page.get_by_role("button", name="Send counteroffer").click()
    await expect(page.locator("#task-stage")).to_have_text("counteroffered", timeout=SETTLE_MS)

    st = await handle.query(CreditApplicationWorkflow.status)
    entry = st.review.actions[-1]
    assert (entry.officer_id, entry.action, entry.amount, entry.term_months) == ("demo-officer", "counteroffer",
                                                                                 offer, 12)
