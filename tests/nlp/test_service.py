"""The NLP HTTP service: contract responses, problem+json errors, never a 500 on bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

import creditflow.nlp as nlp
from creditflow.config import Settings
from creditflow.nlp.service import create_app
from nlp_doc_cases import CASES
from test_extract import make_pdf


@pytest.fixture(scope="module")
def client():
    settings = Settings(max_nlp_chars=200_000, max_upload_bytes=1_000_000)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def test_healthz_after_startup(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["model_version"] == nlp.model_version()
    assert nlp.LOAD_COUNT == 1


def test_healthz_503_before_the_pipeline_loads(monkeypatch):
    monkeypatch.setattr(nlp, "pipeline_loaded", lambda: False)
    with TestClient(create_app(preload=False)) as c:
        r = c.get("/healthz")
    assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")


def test_analyze_document(client):
    text, gold = CASES["pay_stub"]
    r = client.post("/v1/analyze", json={"text": text, "kind": "auto"})
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "document" and body["doc_type"] == "pay_stub"
    assert body["fields"]["gross_pay"]["value"] == gold["gross_pay"]
    fv = body["fields"]["employee_name"]
    assert text[fv["start"]:fv["end"]] == gold["employee_name"]
    assert set(body) >= {"kind", "doc_type", "doc_type_confidence", "fields", "entities", "risk_signals",
                         "protected_attributes", "pii", "model_version"}


def test_analyze_note(client):
    r = client.post("/v1/analyze", json={"text": "Spoke with the applicant; her employer confirmed.", "kind": "note"})
    assert r.status_code == 200 and r.json()["doc_type"] is None


@pytest.mark.parametrize("payload", [
    {"text": ""}, {"text": "<html><script>alert(1)</script></html>"}, {"text": "\u0000\u0001\u0002 junk"},
    {"text": "申请人表示她去年失业了。"}, {"text": "Le demandeur a perdu son emploi en mars."},
])
def test_odd_texts_are_valid_analyses(client, payload):
    r = client.post("/v1/analyze", json=payload)
    assert r.status_code == 200
    assert r.json()["model_version"]


def test_two_megabytes_is_413_problem(client):
    r = client.post("/v1/analyze", json={"text": "a" * 2_000_000})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 413


@pytest.mark.parametrize("body,ctype", [
    (b"not json", "application/json"), (b'{"kind": "note"}', "application/json"),
    (b'{"text": "x", "kind": "poem"}', "application/json"), (b'{"text": 5}', "application/json"),
    (b'{"text": "x", "extra": 1}', "application/json"), (b"", "application/json"),
    (bytes(range(256)), "application/octet-stream"),
])
def test_bad_bodies_are_422_problem(client, body, ctype):
    r = client.post("/v1/analyze", content=body, headers={"content-type": ctype})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_extract_plain_and_pdf(client):
    r = client.post("/v1/extract", content=b"Net Pay: $1,000.00\n", headers={"content-type": "text/plain"})
    assert r.status_code == 200 and r.json() == {"text": "Net Pay: $1,000.00\n", "pages": 1, "method": "plain"}
    r = client.post("/v1/extract", content=make_pdf(["Hello PDF"]), headers={"content-type": "application/pdf"})
    assert r.status_code == 200 and "Hello PDF" in r.json()["text"] and r.json()["method"] == "pdf_text"


def test_extract_errors(client):
    r = client.post("/v1/extract", content=b"x" * 1_000_001, headers={"content-type": "text/plain"})
    assert r.status_code == 413
    r = client.post("/v1/extract", content=b"hello", headers={"content-type": "application/zip"})
    assert r.status_code == 415
    r = client.post("/v1/extract", content=b"%PDF-1.4 broken", headers={"content-type": "application/pdf"})
    assert r.status_code == 422
    r = client.post("/v1/extract", content=b"", headers={"content-type": "text/plain"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_metrics(client):
    client.post("/v1/analyze", json={"text": "hello"})
    r = client.get("/metrics")
    assert r.status_code == 200 and "creditflow_nlp_analyzed_texts_total" in r.text


def test_openapi_lists_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/analyze", "/v1/extract", "/healthz"} <= set(paths)
    json.dumps(paths)
