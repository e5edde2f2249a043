"""docker-compose.yml cannot be run here (no Docker engine), so its structure is checked instead:
it must run the same creditflow processes as `creditflow up`, with health checks and replicas."""

from __future__ import annotations

from pathlib import Path

import yaml

from creditflow.config import Settings
from creditflow.up import stack_commands

ROOT = Path(__file__).resolve().parents[2]


def test_compose_runs_the_same_processes_as_up(tmp_path: Path) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    up_names = {p.name for p in stack_commands(Settings(var_dir=tmp_path))}
    assert up_names == {"temporal", "nlp", "worker", "api"}
    for name in ("nlp", "worker", "api"):
        assert services[name]["command"][0] == name, name  # ENTRYPOINT is `creditflow`
        assert services[name]["image"] == "creditflow:latest"
        assert services[name]["restart"] == "unless-stopped"
    for p in stack_commands(Settings(var_dir=tmp_path)):
        if p.name in ("nlp", "worker", "api"):
            assert p.argv[-1] == p.name
    assert "temporal" in services and "temporal-ui" in services and "postgres" in services
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert services["nlp"]["deploy"]["replicas"] == 2 and services["worker"]["deploy"]["replicas"] == 2
    for name in ("nlp", "api", "temporal", "postgres"):
        assert "healthcheck" in services[name], name
    assert (ROOT / "Dockerfile").read_text().count("ENTRYPOINT") == 1


def test_production_worker_runs_unsandboxed_with_the_shared_environment() -> None:
    """The worker's own `environment` must extend the shared one (a YAML merge is shallow: a plain
    map would drop the database URL and Temporal address), and it turns the sandbox off."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    env = services["worker"]["environment"]
    assert env["CREDITFLOW_WORKER_WORKFLOW_SANDBOX"] == "false"
    assert Settings(worker_workflow_sandbox=env["CREDITFLOW_WORKER_WORKFLOW_SANDBOX"]).worker_workflow_sandbox is False
    shared = services["api"]["environment"]
    assert {k: env[k] for k in shared} == shared
    assert "CREDITFLOW_WORKER_WORKFLOW_SANDBOX" not in shared


def test_search_attributes_fit_the_dev_server_limits() -> None:
    from workflows.search_attributes import ALL

    kinds: dict[str, int] = {}
    for key in ALL:
        kinds[key.indexed_value_type.name] = kinds.get(key.indexed_value_type.name, 0) + 1
    assert kinds.get("KEYWORD", 0) <= 10
    assert all(n <= 3 for k, n in kinds.items() if k != "KEYWORD")


def test_ci_calls_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci/run").read_text()
    assert "make test" in ci.splitlines()[-1]
    assert "make test" in (ROOT / "README.md").read_text()
