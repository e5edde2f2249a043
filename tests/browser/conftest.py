"""Browser fixtures: Debian Chromium driven by Playwright's async API (no pytest-playwright plugin).

Why async: the API, worker and Temporal fixtures live on the session event loop
(pytest-asyncio, asyncio_mode=auto) and Playwright's sync API refuses to run inside a running
loop. `playwright install` downloads browsers and fails offline, so we launch the system
Chromium; when it is missing (install it with `apt-get install chromium` or `make system-deps`)
the browser tests are skipped with that reason, and only then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator["Browser"]:  # type: ignore[name-defined]  # noqa: F821
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture
async def page(browser):  # type: ignore[no-untyped-def]
    """A fresh browser context (own cookies and sessionStorage) per test; console errors fail the test."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = await context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    pg.js_errors = errors  # type: ignore[attr-defined]
    yield pg
    await context.close()
    assert not errors, errors


@pytest.fixture(scope="session")
def screenshots() -> Iterator[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOTS


@pytest.fixture
def console_url(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The API app alone (no Temporal, no worker) on a loopback port: enough for the page itself."""

    from creditflow.api.app import create_app
    from tests.conftest import free_port, serve

    # Point Temporal at a closed port: a developer's running `creditflow up` must not leak in,
    # and API calls that need Temporal answer 503, which the page must explain.
    settings.temporal_address = f"127.0.0.1:{free_port()}"
    with serve(create_app(settings), timeout=30) as url:
        yield url
