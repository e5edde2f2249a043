"""One settings object for every process, read from the environment (prefix CREDITFLOW_).

Why one object: the API, worker, NLP service and CLI must agree on where the database,
Temporal and the key files live; passing a `Settings` around (instead of reading the
environment at import time) lets tests point a whole process tree at a temporary `var/`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_", extra="ignore")

    env: str = Field("dev", description="dev | test | prod; prod refuses generated dev keys")
    var_dir: Path = REPO_ROOT / "var"
    models_dir: Path = REPO_ROOT / "models"
    database_url: str | None = None  # default: sqlite file var/creditflow.db

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "credit-approval"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    nlp_url: str = "http://127.0.0.1:8081"
    nlp_host: str = "127.0.0.1"
    nlp_port: int = 8081
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_api_url: str = "http://127.0.0.1:8000"

    jwt_issuer: str = "creditflow"
    jwt_audience: str = "creditflow-api"
    jwt_ttl_seconds: int = 8 * 3600

    max_upload_bytes: int = 10 * 1024 * 1024
    max_nlp_chars: int = 200_000
    info_request_days: int = 30
    review_sla_hours: int = 24
    encrypt_payloads: bool = True
    # Security (see docs/SECURITY.md). Outside "dev"/"test", key files are never generated
    # silently: set allow_generated_keys=true once on purpose, or provision the keys.
    allow_generated_keys: bool = False
    # JSON {kid: base64(32-byte key)}; the LAST entry encrypts, all decrypt. Overrides the file
    # var_dir/codec-keys.json when set.
    codec_keys: SecretStr | None = None

    # Worker tuning and telemetry (docs/OPERATIONS.md). Defaults match what the worker always did;
    # benchmarks/load.py measures the effect of changing them.
    worker_max_concurrent_activities: int = 32
    worker_max_concurrent_workflow_tasks: int | None = None  # None: SDK default
    worker_max_cached_workflows: int = 1000  # sticky cache size (SDK default)
    worker_sticky_schedule_to_start_seconds: float = 10.0  # SDK default
    worker_max_concurrent_workflow_task_polls: int = 5  # SDK default
    worker_max_concurrent_activity_task_polls: int = 5  # SDK default
    # False runs workflow code without the Python SDK's sandbox: 12-28% less worker CPU per application
    # under load (no per-run re-import of the workflow module; benchmarks/RESULTS.md). The sandbox is a
    # development-time guard against non-deterministic calls; with it off, determinism rests on the test
    # suite, which runs every workflow path sandboxed, and on the replay tests (both runners).
    # Production (docker-compose.yml) turns it off; docs/OPERATIONS.md explains the trade.
    worker_workflow_sandbox: bool = True
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = None  # Temporal SDK Prometheus endpoint; off when unset
    # OpenTelemetry tracing API -> workflow -> activity -> NLP (creditflow.tracing); exporter from
    # the standard OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* variables
    otel_enabled: bool = False

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.var_dir / 'creditflow.db'}"

    @property
    def blob_dir(self) -> Path:
        return self.var_dir / "blobs"

    def ensure_var(self) -> Path:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return self.var_dir


@lru_cache
def get_settings() -> Settings:
    return Settings()
