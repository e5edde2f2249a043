"""The console's own HTTP surface: the page and its headers, static files, the codec session cookie.

These run in-process (no browser, no Temporal): they pin the security properties the
browser tests rely on but cannot see directly (CSP, cookie attributes, problem bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from creditflow.config import Settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from creditflow.api.app import create_app

    with TestClient(create_app(settings)) as c:
        yield c


def _token(client: TestClient, role: str, sub: str = "olga") -> str:
    return client.app.state.tokens.issue(sub, role)  # type: ignore[attr-defined]


def test_page_is_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    r = client.get("/console")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    # No inline script and nothing from another origin (the page must work offline).
    assert "<script>" not in r.text and "onclick" not in r.text
    assert "http://" not in r.text and "https://" not in r.text


def test_static_files_are_allow_listed(client: TestClient) -> None:
    js = client.get("/console/static/console.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    code = js.text.split("*/", 1)[1]  # the header comment names the rule; the code must keep it
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink
    assert client.get("/console/static/console.css").status_code == 200
    for bad in ("console.html", "..%2Froutes%2Fconsole.py", "nope.js"):
        r = client.get(f"/console/static/{bad}")
        assert r.status_code == 404, bad


def test_session_sets_the_codec_cookie_for_staff(client: TestClient) -> None:
    r = client.post("/console/session", json={"token": _token(client, "senior_officer")})
    assert r.status_code == 200
    assert r.json() == {"sub": "olga", "role": "senior_officer", "queues": ["officer", "senior", "committee"]}
    cookie = r.headers["set-cookie"]
    parts = [p.strip() for p in cookie.split(";")]
    assert parts[0].startswith("creditflow_token=")
    attrs = {p.split("=")[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
    assert attrs["httponly"] is True
    assert attrs["samesite"].lower() == "strict"
    assert attrs["path"] == "/codec"
    # The cookie carries exactly the verified token, so the codec endpoint accepts it.
    token = parts[0].split("=", 1)[1]
    assert client.app.state.tokens.verify(token).sub == "olga"  # type: ignore[attr-defined]


def test_session_cookie_opens_the_codec_endpoint(client: TestClient) -> None:
    client.post("/console/session", json={"token": _token(client, "officer")})
    r = client.post("/codec/decode", json={"payloads": []})
    assert r.status_code == 200, r.text
    client.delete("/console/session")
    assert "creditflow_token" not in client.cookies
    assert client.post("/codec/decode", json={"payloads": []}).status_code == 401


def test_bad_token_is_a_401_problem(client: TestClient) -> None:
    r = client.post("/console/session", json={"token": "not-a-jwt"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert "set-cookie" not in r.headers


def test_applicant_token_is_refused(client: TestClient) -> None:
    r = client.post("/console/session", json={"token": _token(client, "applicant", "someone")})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "set-cookie" not in r.headers


def test_session_needs_a_json_body(client: TestClient) -> None:
    token = _token(client, "officer")
    # A cross-site HTML form can only send form or text bodies: neither may open a session.
    r = client.post("/console/session", content=f'{{"token": "{token}"}}', headers={"content-type": "text/plain"})
    assert r.status_code in (415, 422)
    r = client.post("/console/session", data={"token": token})
    assert r.status_code in (415, 422)
    assert "set-cookie" not in r.headers


def test_sign_out_clears_the_cookie(client: TestClient) -> None:
    r = client.delete("/console/session")
    assert r.status_code == 204
    cookie = r.headers["set-cookie"]
    assert cookie.startswith('creditflow_token=""') and "Max-Age=0" in cookie and "Path=/codec" in cookie
