"""HTTP side: problem+json handlers, authentication/role dependencies, the codec endpoint, CORS."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from temporalio.api.common.v1 import Payload

from creditflow.api.deps import ApplicantDep, PrincipalDep, StaffDep, require_roles
from creditflow.api.problems import PROBLEM_JSON, ProblemError, install_problem_handlers, problem
from creditflow.api.routes.codec import SESSION_COOKIE, codec_cors
from creditflow.api.routes.codec import router as codec_router
from creditflow.config import Settings
from creditflow.security.codec import ENCODING, load_codec
from creditflow.security.tokens import Principal, TokenService

UI = "http://127.0.0.1:8233"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ssn: str
    amount: int


def build_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.state.tokens = TokenService(settings)
    install_problem_handlers(app)
    app.include_router(codec_router)
    codec_cors(app, settings)

    @app.get("/me")
    async def me(p: PrincipalDep) -> dict:
        return p.model_dump()

    @app.get("/staff")
    async def staff(p: StaffDep) -> dict:
        return {"sub": p.sub}

    @app.get("/mine")
    async def mine(p: ApplicantDep) -> dict:
        return {"sub": p.sub}

    @app.get("/senior", dependencies=[Depends(require_roles("senior_officer"))])
    async def senior() -> dict:
        return {"ok": True}

    @app.post("/validate")
    async def validate(body: Body) -> dict:
        return {"ok": True}

    @app.get("/conflict")
    async def conflict() -> None:
        raise ProblemError(409, "Already claimed", "task claimed by officer-2", assignee="officer-2")

    @app.get("/http404")
    async def http404() -> None:
        raise HTTPException(404, "application not found")

    @app.get("/direct")
    async def direct():  # type: ignore[no-untyped-def]
        return problem(429, "Too Many Requests", "slow down", type="https://example.test/rate", retry_after=3)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal state 123-45-6789")

    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return build_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def bearer(app: FastAPI, role: str, sub: str = "user-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.tokens.issue(sub, role)}"}


def assert_problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["status"] == status
    assert body["title"]
    assert "type" in body
    return body


# ---- authentication and roles ---------------------------------------------------------------


def test_valid_token_gives_principal(app: FastAPI, client: TestClient) -> None:
    resp = client.get("/me", headers=bearer(app, "officer", "officer-9"))
    assert resp.status_code == 200
    assert resp.json() == {"sub": "officer-9", "role": "officer"}


def test_missing_token_401_with_challenge(client: TestClient) -> None:
    body = assert_problem(client.get("/me"), 401)
    resp = client.get("/me")
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert body["detail"] == "authentication required"


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwdw==", "Bearer "])
def test_bad_token_401(client: TestClient, header: str) -> None:
    resp = client.get("/me", headers={"Authorization": header})
    assert_problem(resp, 401)
    assert "Bearer" in resp.headers["www-authenticate"]


def test_expired_token_401_says_expired(app: FastAPI, client: TestClient) -> None:
    import time

    import jwt

    svc: TokenService = app.state.tokens
    kid = svc.current_kid
    now = int(time.time())
    token = jwt.encode(
        {"sub": "a", "role": "officer", "iss": svc.settings.jwt_issuer, "aud": svc.settings.jwt_audience,
         "iat": now - 100, "exp": now - 50},
        svc._private[kid], algorithm="EdDSA", headers={"kid": kid},
    )
    resp = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert assert_problem(resp, 401)["detail"] == "token expired"
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]


def test_roles(app: FastAPI, client: TestClient) -> None:
    for role in ("officer", "senior_officer", "admin"):
        assert client.get("/staff", headers=bearer(app, role)).status_code == 200
    body = assert_problem(client.get("/staff", headers=bearer(app, "applicant")), 403)
    assert "applicant" in body["detail"]
    assert client.get("/mine", headers=bearer(app, "applicant", "app-1")).json() == {"sub": "app-1"}
    assert_problem(client.get("/mine", headers=bearer(app, "admin")), 403)
    assert_problem(client.get("/senior", headers=bearer(app, "officer")), 403)
    assert client.get("/senior", headers=bearer(app, "senior_officer")).status_code == 200
    assert_problem(client.get("/staff"), 401)  # no token: 401 before any role check


def test_require_roles_needs_roles() -> None:
    with pytest.raises(ValueError):
        require_roles()


# ---- problem handlers -----------------------------------------------------------------------


def test_validation_error_lists_errors_without_echoing_input(client: TestClient) -> None:
    resp = client.post("/validate", json={"ssn": "123-45-6789", "amount": "lots", "extra": "x"})
    body = assert_problem(resp, 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "amount") in locs and ("body", "extra") in locs
    assert "123-45-6789" not in resp.text and "lots" not in resp.text
    for err in body["errors"]:
        assert set(err) == {"loc", "msg", "type"}


def test_problem_error_and_extras(client: TestClient) -> None:
    body = assert_problem(client.get("/conflict"), 409)
    assert body == {"type": "about:blank", "title": "Already claimed", "status": 409,
                    "detail": "task claimed by officer-2", "assignee": "officer-2"}
    direct = assert_problem(client.get("/direct"), 429)
    assert direct["type"] == "https://example.test/rate" and direct["retry_after"] == 3


def test_http_exceptions_and_unknown_routes(client: TestClient) -> None:
    assert assert_problem(client.get("/http404"), 404)["detail"] == "application not found"
    assert assert_problem(client.get("/no-such-route"), 404)["title"] == "Not Found"
    assert_problem(client.delete("/me"), 405)


def test_unhandled_error_is_opaque_500_and_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="creditflow.api.problems"):
        resp = client.get("/boom")
    body = assert_problem(resp, 500)
    assert "secret internal state" not in resp.text
    assert "Traceback" not in resp.text and "RuntimeError" not in resp.text
    assert len(body["error_id"]) == 32
    record = next(r for r in caplog.records if body["error_id"] in r.getMessage())
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


# ---- codec endpoint -------------------------------------------------------------------------


def _wire(payloads: list[Payload]) -> dict:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def _from_wire(body: dict) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p.get("metadata", {}).items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body["payloads"]
    ]


SECRET = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps({"full_name": "Ada Lovelace"}).encode())


def test_codec_round_trip_over_http(app: FastAPI, client: TestClient, settings: Settings) -> None:
    headers = {**bearer(app, "officer"), "X-Namespace": "default"}
    enc = client.post("/codec/encode", json=_wire([SECRET]), headers=headers)
    assert enc.status_code == 200, enc.text
    [encrypted] = _from_wire(enc.json())
    assert encrypted.metadata["encoding"] == ENCODING
    assert b"Lovelace" not in encrypted.data
    dec = client.post("/codec/decode", json=enc.json(), headers=headers)
    assert dec.status_code == 200, dec.text
    assert _from_wire(dec.json()) == [SECRET]
    # the endpoint uses the same keys as workers: a worker-side codec reads the HTTP result
    assert load_codec(settings).decrypt_payload(encrypted) == SECRET


async def test_codec_decodes_what_a_worker_encrypted(app: FastAPI, client: TestClient, settings: Settings) -> None:
    [worker_side] = await load_codec(settings).encode([SECRET])
    dec = client.post("/codec/decode", json=_wire([worker_side, SECRET]), headers=bearer(app, "admin"))
    assert _from_wire(dec.json()) == [SECRET, SECRET]  # foreign (plain) payload passes through


def test_codec_requires_staff(app: FastAPI, client: TestClient) -> None:
    for path in ("/codec/encode", "/codec/decode"):
        assert_problem(client.post(path, json=_wire([SECRET])), 401)
        assert_problem(client.post(path, json=_wire([SECRET]), headers=bearer(app, "applicant")), 403)


def test_codec_accepts_console_session_cookie(app: FastAPI, settings: Settings) -> None:
    with TestClient(app) as c:
        c.cookies.set(SESSION_COOKIE, app.state.tokens.issue("officer-1", "officer"))
        assert c.post("/codec/encode", json=_wire([SECRET])).status_code == 200
        c.cookies.set(SESSION_COOKIE, app.state.tokens.issue("app-1", "applicant"))
        assert c.post("/codec/encode", json=_wire([SECRET])).status_code == 403


def test_codec_empty_and_bad_bodies(app: FastAPI, client: TestClient) -> None:
    h = bearer(app, "officer")
    assert client.post("/codec/decode", json={"payloads": []}, headers=h).json() == {"payloads": []}
    assert_problem(client.post("/codec/decode", content=b"nope", headers=h), 400)
    assert_problem(client.post("/codec/decode", json={"payloads": [{"metadata": 5}]}, headers=h), 400)
    assert_problem(client.post("/codec/decode", json={"payloads": "x"}, headers=h), 400)
    assert_problem(client.post("/codec/decode", json={"nonsense": 1}, headers=h), 400)


def test_codec_undecryptable_payload_is_a_problem(app: FastAPI, client: TestClient) -> None:
    alien = Payload(metadata={"encoding": ENCODING, "encryption-key-id": b"retired"}, data=b"x" * 40)
    resp = client.post("/codec/decode", json=_wire([alien]), headers=bearer(app, "officer"))
    assert "retired" in assert_problem(resp, 422)["detail"]


def test_cors_only_for_ui_origin_and_only_on_codec(app: FastAPI, client: TestClient) -> None:
    pre = client.options(
        "/codec/decode",
        headers={"Origin": UI, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,x-namespace"},
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == UI
    assert pre.headers["access-control-allow-credentials"] == "true"
    allowed = pre.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(h.strip() for h in allowed.split(","))

    evil = client.options(
        "/codec/decode",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in evil.headers

    actual = client.post("/codec/decode", json=_wire([SECRET]),
                         headers={**bearer(app, "officer"), "Origin": UI})
    assert actual.headers["access-control-allow-origin"] == UI

    other_route = client.get("/me", headers={**bearer(app, "officer"), "Origin": UI})
    assert "access-control-allow-origin" not in other_route.headers


def test_principal_model_is_frozen() -> None:
    p = Principal(sub="a", role="officer")
    with pytest.raises(Exception):
        p.role = "admin"  # type: ignore[misc]


def test_codec_body_limit(app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import creditflow.api.routes.codec as codec_module

    monkeypatch.setattr(codec_module, "MAX_BODY_BYTES", 100)
    resp = client.post("/codec/decode", json=_wire([SECRET] * 5), headers=bearer(app, "officer"))
    assert_problem(resp, 413)
