"""The page without a workflow behind it: keyboard-only sign-in, focus order, errors in plain words.

The API runs without a reachable Temporal server here, so the inbox call answers 503 and the
page must say so in words (not a code or a stack trace) in its alert region.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from creditflow.config import Settings
from creditflow.security.tokens import TokenService

pytestmark = pytest.mark.browser


async def test_sign_in_with_the_keyboard_and_see_server_errors_in_words(
    page: Page, console_url: str, settings: Settings,
) -> None:
    token = TokenService(settings).issue("olga", "officer")
    await page.goto(f"{console_url}/console")
    await expect(page.get_by_label("Officer token")).to_be_focused()

    await page.keyboard.type(token)
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    await page.keyboard.press("Enter")

    await expect(page.locator("#who-text")).to_have_text("Signed in as olga (officer)")
    await expect(page.get_by_role("heading", name="Review inbox")).to_be_focused()
    await expect(page.get_by_role("alert")).to_have_text(
        "The service is unavailable, nothing was changed: Temporal cannot be reached right now; retry in a moment.",
        timeout=15_000)
    # An officer sees only the officer queue in the filter.
    assert await page.get_by_label("Queue").locator("option").all_text_contents() == ["All my queues", "officer"]
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Queue")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Refresh")).to_be_focused()

    # The token lives in this tab's sessionStorage, never in localStorage; the cookie is HttpOnly.
    assert await page.evaluate("() => sessionStorage.getItem('creditflow.token')") == token
    assert await page.evaluate("() => localStorage.length") == 0
    assert "creditflow_token" not in await page.evaluate("() => document.cookie")

    # Sign out clears the tab's token and the codec cookie.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Officer token")).to_be_focused()
    assert await page.evaluate("() => sessionStorage.getItem('creditflow.token')") is None
    assert not [c for c in await page.context.cookies() if c["name"] == "creditflow_token"]


async def test_a_bad_or_non_staff_token_is_refused_in_words(page: Page, console_url: str, settings: Settings) -> None:
    await page.goto(f"{console_url}/console")
    await page.get_by_label("Officer token").fill("this is not a token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("This token is not valid or has expired. Ask for a new one.")
    await expect(page.get_by_label("Officer token")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    applicant = TokenService(settings).issue("someone", "applicant")
    await page.get_by_label("Officer token").fill(applicant)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Not allowed: The officer console is for credit officers")
    assert not [c for c in await page.context.cookies() if c["name"] == "creditflow_token"]


async def test_page_loads_nothing_from_other_origins(page: Page, console_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    await page.goto(f"{console_url}/console")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert requested and all(u.startswith(console_url) or u.startswith("data:") for u in requested), requested
