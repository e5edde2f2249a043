"""Fuzzing the NLP service's POST /v1/analyze from its OpenAPI document (schemathesis 4).

Positive cases are any text with any kind; negative ones break the body (wrong types,
unknown fields, missing text). The real service (spaCy + encoder) answers on a loopback port
(the session's `nlp_url`). Checks: never a 5xx, 200 bodies match the Analysis model, every
4xx is problem+json, and the evidence offsets of a 200 point into the text that was sent.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.fuzz.test_schemathesis_api import problem_json_for_client_errors


def offsets_inside_the_text(ctx: Any, response: Any, case: Any) -> None:
    """Every span (field, entity, signal evidence, pii, protected attribute) lies in the text."""
    if response.status_code != 200 or not isinstance(case.body, dict):
        return
    text = case.body.get("text")
    if not isinstance(text, str):
        return
    data = json.loads(response.content)
    spans: list[dict[str, Any]] = list(data.get("fields", {}).values()) + data.get("entities", [])
    spans += [s["evidence"] for s in data.get("risk_signals", [])]
    spans += data.get("pii", []) + data.get("protected_attributes", [])
    for span in spans:
        assert 0 <= span["start"] <= span["end"] <= len(text), span
        if "text" in span:
            assert text[span["start"]:span["end"]] == span["text"], span


def _openapi() -> dict[str, Any]:
    from creditflow.nlp.service import create_app

    return create_app(preload=False).openapi()


schema = schemathesis.openapi.from_dict(_openapi()).include(path="/v1/analyze", method="POST")
CHECKS = [not_a_server_error, response_schema_conformance, problem_json_for_client_errors, offsets_inside_the_text]


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_nlp_analyze(case: Any, nlp_url: str) -> None:
    case.call_and_validate(base_url=nlp_url, checks=CHECKS, timeout=120)
