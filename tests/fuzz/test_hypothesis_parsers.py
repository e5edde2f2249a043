"""Property tests for the parsers on the trust boundary: the application gatekeeper
(schemas.ApplicationCreate), the content-addressed blob store and the problem+json handlers.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from creditflow.api.problems import PROBLEM_JSON, ProblemError, install_problem_handlers, problem
from creditflow.demo import demo_cases
from creditflow.schemas import ApplicationCreate, ConsumerApplicant, DealerApplicant
from creditflow.store.blobs import BlobIntegrityError, BlobStore

VALID = demo_cases()[0]["body"]
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=25,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _replace(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(obj) if isinstance(obj, dict) else list(obj)
    copy[head] = _replace(obj[head], tuple(rest), value)
    return copy


VALID_PATHS = _paths(VALID)


# ---- ApplicationCreate --------------------------------------------------------------------


@SETTINGS
@given(json_values)
def test_arbitrary_json_is_accepted_or_a_validation_error(value: Any) -> None:
    try:
        ApplicationCreate.model_validate(value)
    except ValidationError:
        pass


@SETTINGS
@given(st.sampled_from(VALID_PATHS), json_values)
def test_mutating_one_field_of_a_valid_body_never_crashes(path: tuple[Any, ...], value: Any) -> None:
    body = _replace(VALID, path, value)
    try:
        model = ApplicationCreate.model_validate(body)
    except ValidationError:
        return
    # Whatever got through obeys the gatekeeper's invariants.
    assert model.requested_amount > 0 and math.isfinite(model.requested_amount)
    assert 1 <= model.term_months <= 120
    expected = ConsumerApplicant if model.product == "consumer_installment" else DealerApplicant
    assert isinstance(model.applicant, expected)
    again = ApplicationCreate.model_validate_json(model.model_dump_json())
    assert again == model


@SETTINGS
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_as_json_are_a_validation_error(raw: bytes) -> None:
    try:
        ApplicationCreate.model_validate_json(raw)
    except ValidationError:
        pass


@SETTINGS
@given(st.text(min_size=1, max_size=30).filter(lambda k: k not in VALID["applicant"]), json_values)
def test_unknown_applicant_fields_are_always_refused(key: str, value: Any) -> None:
    body = {**VALID, "applicant": {**VALID["applicant"], key: value}}
    with pytest.raises(ValidationError):
        ApplicationCreate.model_validate(body)


# ---- blob store ---------------------------------------------------------------------------


@pytest.fixture
def blob_root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_blob_round_trip_is_content_addressed(blob_root: Path, data: bytes) -> None:
    store = BlobStore(blob_root)
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.put(data) == digest  # idempotent
    assert store.exists(digest) and store.get(digest) == data


@SETTINGS
@given(name=st.text(max_size=80))
def test_blob_names_other_than_sha256_hex_are_refused(blob_root: Path, name: str) -> None:
    assume(len(name) != 64 or any(c not in "0123456789abcdef" for c in name))
    store = BlobStore(blob_root)
    for op in (store.get, store.exists):
        with pytest.raises(ValueError):
            op(name)


@SETTINGS
@given(data=st.binary(min_size=1, max_size=512), flip=st.integers(min_value=0))
def test_tampered_blob_is_detected(blob_root: Path, data: bytes, flip: int) -> None:
    store = BlobStore(blob_root)
    digest = store.put(data)
    path = blob_root / digest[:2] / digest[2:]
    tampered = bytearray(data)
    tampered[flip % len(data)] ^= 0x01
    path.write_bytes(bytes(tampered))
    try:
        with pytest.raises(BlobIntegrityError):
            store.get(digest)
    finally:
        path.unlink()


# ---- problem handlers ---------------------------------------------------------------------


def _problem_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/applications")
    async def create(body: ApplicationCreate) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/raise/{status}")
    async def raise_problem(status: int, detail: str = "") -> None:
        raise ProblemError(status, None, detail or None)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("internal secret SECRET-boom")

    return app


CLIENT = TestClient(_problem_app(), raise_server_exceptions=False)
secrets_ = st.from_regex(r"SECRET-[a-z0-9]{6,12}", fullmatch=True)


@SETTINGS
@given(st.sampled_from(VALID_PATHS[1:]), secrets_)
def test_validation_problems_never_echo_submitted_values(path: tuple[Any, ...], secret: str) -> None:
    body = _replace(VALID, path, secret)
    r = CLIENT.post("/applications", json=body)
    if r.status_code == 200:  # the secret was a legal value (free-text field): nothing to check
        return
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    problem_body = r.json()
    assert problem_body["status"] == 422 and problem_body["errors"]
    assert secret not in r.text
    for err in problem_body["errors"]:
        assert set(err) == {"loc", "msg", "type"}


@SETTINGS
@given(st.integers(min_value=400, max_value=599), st.text(max_size=200))
def test_problem_error_renders_rfc9457(status: int, detail: str) -> None:
    r = CLIENT.get(f"/raise/{status}", params={"detail": detail})
    assert r.status_code == status
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body = r.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    if detail:
        assert body["detail"] == detail


@SETTINGS
@given(st.integers(min_value=400, max_value=599), st.text(max_size=50), st.text(max_size=200),
       st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True).filter(
           lambda k: k not in {"type", "title", "status", "detail", "headers"}), json_scalars, max_size=3))
def test_problem_builder_is_valid_json_with_extras(status: int, title: str, detail: str,
                                                  extra: dict[str, Any]) -> None:
    extra = {k: v for k, v in extra.items() if not (isinstance(v, float) and not math.isfinite(v))}
    response = problem(status, title, detail, **extra)
    body = json.loads(response.body)
    assert response.status_code == status and response.media_type == PROBLEM_JSON
    assert body["title"] == title and body["status"] == status and body["detail"] == detail
    for k, v in extra.items():
        assert body[k] == v


def test_unhandled_error_is_opaque_500_with_error_id() -> None:
    r = CLIENT.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert "SECRET" not in r.text and len(r.json()["error_id"]) == 32
