"""GET /metrics: Prometheus exposition of the API's registry (creditflow.metrics.ApiMetrics).

Who may read it: an `admin` bearer token by default, because route-level counts and latencies
tell an outsider which endpoints exist and how busy the lenders are. A Prometheus scraper
can send a long-lived admin token (`authorization: {credentials_file: ...}` in the scrape
config); on a private network where the scraper cannot, set
`CREDITFLOW_METRICS_PUBLIC=true` to serve it without authentication. It is left out of the
OpenAPI document: it is an operations endpoint, not part of the API contract.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic_settings import BaseSettings, SettingsConfigDict

from creditflow.api.deps import get_principal
from creditflow.api.problems import ProblemError

router = APIRouter(tags=["operations"])


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_METRICS_", extra="ignore")

    public: bool = False


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    public = getattr(request.app.state, "metrics_public", None)
    if public is None:
        public = MetricsSettings().public
    if not public:
        principal = get_principal(request)
        if principal.role != "admin":
            raise ProblemError(403, "Forbidden", "Metrics are for the admin role.")
    body, content_type = request.app.state.metrics.render()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
