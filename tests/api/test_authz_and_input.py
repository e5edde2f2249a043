"""Every route x role, applicant isolation, and hostile input against the real API process."""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest

from creditflow.demo import demo_cases

CASE = demo_cases()[0]
STAFF = ("officer", "senior_officer", "admin")

# (method, path template, roles allowed). {app} is an application of "applicant".
ROUTES = [
    ("POST", "/v1/applications", {"applicant"}),
    ("GET", "/v1/applications", {"applicant", *STAFF}),
    ("GET", "/v1/applications/{app}", {"applicant", *STAFF}),
    ("POST", "/v1/applications/{app}/documents", {"applicant"}),
    ("POST", "/v1/applications/{app}/submit", {"applicant"}),
    ("POST", "/v1/applications/{app}/offer/accept", {"applicant"}),
    ("GET", "/v1/applications/{app}/evidence", {"applicant", *STAFF}),
    ("GET", "/v1/review/tasks", set(STAFF)),
    ("GET", "/v1/review/tasks/{app}", set(STAFF)),
    ("POST", "/v1/review/tasks/{app}/claim", set(STAFF)),
    ("POST", "/v1/review/tasks/{app}/decision", set(STAFF)),
    ("POST", "/codec/encode", set(STAFF)),
    ("POST", "/codec/decode", set(STAFF)),
]
ROLE_TOKEN = {"applicant": "applicant", "officer": "officer", "senior_officer": "senior_officer", "admin": "admin"}


async def _create(http: httpx.AsyncClient, token: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return await http.post("/v1/applications", json=CASE["body"], headers=headers)


def _kwargs(method: str, path: str) -> dict:
    if path.endswith("/documents"):
        return {"files": {"file": ("a.txt", b"Name: X\n", "text/plain")}}
    if path.endswith("/decision"):
        return {"json": {"action": "approve", "comment": "ok fine"}}
    if path.startswith("/codec"):
        return {"json": {"payloads": []}}
    if method == "POST" and path == "/v1/applications":
        return {"json": CASE["body"]}
    return {}


async def test_route_role_table(api_url: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        app_id = (await _create(http, tokens["applicant"])).json()["id"]
        for method, template, allowed in ROUTES:
            path = template.format(app=app_id)
            r = await http.request(method, path, **_kwargs(method, path))
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
            for role, tok in ROLE_TOKEN.items():
                r = await http.request(method, path, headers={"Authorization": f"Bearer {tokens[tok]}"},
                                       **_kwargs(method, path))
                if role in allowed:
                    assert r.status_code not in (401, 403), (method, path, role, r.status_code, r.text)
                    assert r.status_code < 500, (method, path, role, r.text)
                else:
                    assert r.status_code == 403, (method, path, role, r.status_code, r.text)


async def test_applicant_sees_only_own_applications(api_url: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        app_id = (await _create(http, tokens["applicant"])).json()["id"]
        other = {"Authorization": f"Bearer {tokens['applicant2']}"}
        for method, path in (("GET", f"/v1/applications/{app_id}"), ("POST", f"/v1/applications/{app_id}/submit"),
                             ("GET", f"/v1/applications/{app_id}/evidence")):
            r = await http.request(method, path, headers=other)
            assert r.status_code == 404, (path, r.status_code)
        r = await http.post(f"/v1/applications/{app_id}/documents", headers=other,
                            files={"file": ("a.txt", b"hello", "text/plain")})
        assert r.status_code == 404
        listed = (await http.get("/v1/applications", headers=other)).json()["items"]
        assert app_id not in {a["id"] for a in listed}
        mine = (await http.get("/v1/applications", headers={"Authorization": f"Bearer {tokens['applicant']}"}))
        assert app_id in {a["id"] for a in mine.json()["items"]}


async def test_idempotency_key_under_concurrency_creates_one_application(api_url: str, tokens: dict[str, str],
                                                                         db) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        results = await asyncio.gather(*(_create(http, tokens["applicant"], key="same-key") for _ in range(6)))
    assert all(r.status_code == 201 for r in results), [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        body = dict(CASE["body"], requested_amount=1234)
        r = await http.post("/v1/applications", json=body, headers={"Authorization": f"Bearer {tokens['applicant']}",
                                                                    "Idempotency-Key": "same-key"})
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("body", [
    {},
    {"product": "consumer_installment"},
    {**CASE["body"], "applicant": {**CASE["body"]["applicant"], "race": "x"}},
    {**CASE["body"], "requested_amount": -5},
    {**CASE["body"], "requested_amount": "NaN"},
    {**CASE["body"], "term_months": 10**9},
    {**CASE["body"], "product": "mortgage"},
])
async def test_bad_application_bodies_are_422_problems(api_url: str, tokens: dict[str, str], body: dict) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        r = await http.post("/v1/applications", json=body, headers={"Authorization": f"Bearer {tokens['applicant']}"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_bad_uploads(api_url: str, tokens: dict[str, str], settings) -> None:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {tokens['applicant']}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        app_id = (await _create(http, tokens["applicant"])).json()["id"]
        url = f"/v1/applications/{app_id}/documents"
        big = io.BytesIO(b"a" * (settings.max_upload_bytes + 10))
        r = await http.post(url, headers=auth, files={"file": ("big.txt", big, "text/plain")})
        assert r.status_code == 413, r.text
        r = await http.post(url, headers=auth, files={"file": ("x.exe", b"MZ\x90\x00", "application/x-msdownload")})
        assert r.status_code == 415
        r = await http.post(url, headers=auth, files={"file": ("fake.pdf", b"just text", "application/pdf")})
        assert r.status_code == 415  # magic number does not match the declared type
        r = await http.post(url, headers=auth, files={"file": ("e.txt", b"", "text/plain")})
        assert r.status_code == 422
        r = await http.post(url, headers=auth, files={"file": ("../../etc/passwd", b"Name: Alice\n", "text/plain")})
        assert r.status_code == 201  # the filename is only a label; storage is by hash
        for resp in (r,):
            assert "sha256" in resp.json()
        r = await http.get(f"/v1/applications/{app_id}", headers=auth)
        assert r.status_code == 200 and len(r.json()["documents"]) == 1


async def test_empty_idempotency_key_is_a_clear_422(api_url: str, tokens: dict[str, str]) -> None:
    """Found by schemathesis: an empty key used to collide on the unique index and answer 500."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        for _ in range(2):
            r = await http.post("/v1/applications", json=CASE["body"],
                                headers={"Authorization": f"Bearer {tokens['applicant']}", "Idempotency-Key": ""})
            assert r.status_code == 422 and "Idempotency-Key" in r.json()["title"]
