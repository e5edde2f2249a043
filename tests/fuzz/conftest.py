"""Fixtures for the fuzz tests: the real API on a loopback port with a lenient rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from creditflow.api.ratelimit import RateLimiter
from tests.conftest import serve


@pytest.fixture
def fuzz_api_url(temporal_env, settings, db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """create_app wired to the session's Temporal server and this test's database.

    No worker: fuzzed ids never name a real application, so nothing waits on a workflow, and
    created applications simply stay in awaiting_documents. The rate limit is raised so the
    fuzzer exercises the routes behind it (429 itself is covered in tests/api/test_hardening.py).
    """
    from creditflow.api.app import create_app

    app = create_app(settings, temporal=temporal_env.client, db=db)
    app.state.rate_limiter = RateLimiter(per_minute=100_000, burst=100_000)
    with serve(app, timeout=30) as url:
        yield url
