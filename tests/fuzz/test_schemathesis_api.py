"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis 4).

Every operation gets schema-valid and schema-violating requests (positive and negative
generation), once with an applicant token and once with an officer token, against the real
app on uvicorn. The checks: never a 5xx; responses match the documented schema for their
status (4XX answers are documented as RFC 9457 Problem, see api.middleware.document_problems);
and every 4xx is application/problem+json whatever its status.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

PROBLEM_JSON = "application/problem+json"


def problem_json_for_client_errors(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx, documented or not, is a problem+json body with a matching status."""
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith(PROBLEM_JSON), (response.status_code, content_type)
        body = response.json()
        assert body["status"] == response.status_code and body["title"], body


CHECKS = [not_a_server_error, response_schema_conformance, problem_json_for_client_errors]
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def _openapi() -> dict[str, Any]:
    """The OpenAPI document of the production app, built once at collection time.

    (schemathesis' fixture-based lazy loader touches `request.node._nodeid`, which pytest 9
    no longer has, so the schema is loaded eagerly and requests go to the live server via
    `base_url`.) The throwaway var dir only holds the keys and SQLite file create_app makes.
    """
    import tempfile
    from pathlib import Path

    from creditflow.api.app import create_app
    from creditflow.config import Settings

    var = Path(tempfile.mkdtemp(prefix="creditflow-openapi-"))
    return create_app(Settings(var_dir=var, env="test")).openapi()


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@FUZZ
def test_api_as_applicant(case: Any, fuzz_api_url: str, tokens: dict[str, str]) -> None:
    case.call_and_validate(base_url=fuzz_api_url, headers={"Authorization": f"Bearer {tokens['applicant']}"}, checks=CHECKS, timeout=30)


@schema.parametrize()
@FUZZ
def test_api_as_officer(case: Any, fuzz_api_url: str, tokens: dict[str, str]) -> None:
    case.call_and_validate(base_url=fuzz_api_url, headers={"Authorization": f"Bearer {tokens['officer']}"}, checks=CHECKS, timeout=30)
