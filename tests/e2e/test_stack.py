"""The whole stack as `make run` starts it: `creditflow up` with real processes on loopback ports,
applications driven through the HTTP API, then SIGTERM must stop everything and free every port."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from creditflow.demo import demo_cases, submit_case
from tests.conftest import free_port, make_settings

pytestmark = pytest.mark.e2e


def _port_free(port: int) -> bool:
    """Nothing listens on the port any more (TIME_WAIT leftovers of closed connections are fine)."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    var = tmp_path_factory.mktemp("stack-var")
    ports = {"api": free_port(), "nlp": free_port(), "temporal": free_port(), "ui": free_port()}
    env = dict(os.environ)
    env.update({
        "CREDITFLOW_VAR_DIR": str(var), "CREDITFLOW_API_PORT": str(ports["api"]),
        "CREDITFLOW_NLP_PORT": str(ports["nlp"]), "CREDITFLOW_NLP_URL": f"http://127.0.0.1:{ports['nlp']}",
        "CREDITFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "CREDITFLOW_TEMPORAL_UI_URL": f"http://127.0.0.1:{ports['ui']}",
        "CREDITFLOW_PUBLIC_API_URL": f"http://127.0.0.1:{ports['api']}",
    })
    settings = make_settings(var)
    if settings.database_url:  # PostgreSQL run: a schema of its own
        env["CREDITFLOW_DATABASE_URL"] = settings.database_url
    log = open(var / "up.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "creditflow.cli", "up", "--no-demo"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{ports['api']}"
    deadline = time.monotonic() + 300
    text = ""
    while time.monotonic() < deadline:
        text = (var / "up.log").read_text(errors="replace")
        if "creditflow is running" in text:
            break
        if proc.poll() is not None:
            raise AssertionError(f"creditflow up exited early:\n{text[-3000:]}")
        time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"stack did not come up:\n{text[-3000:]}")
    yield {"api": api, "settings": settings, "proc": proc, "ports": ports, "var": var, "log": var / "up.log"}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)


def _tokens(settings):  # type: ignore[no-untyped-def]
    from creditflow.demo import demo_tokens

    return demo_tokens(settings)


async def _poll(http: httpx.AsyncClient, app_id: str, token: str, stages: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        r = await http.get(f"/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        if body["stage"] in stages:
            return body
        await asyncio.sleep(0.3)
    raise AssertionError(f"application {app_id} stuck in {body.get('stage')}: {body}")


async def test_applications_reach_decisions_through_the_http_api(stack) -> None:  # type: ignore[no-untyped-def]
    tokens = _tokens(stack["settings"])
    cases = {c["label"]: c for c in demo_cases()}
    async with httpx.AsyncClient(base_url=stack["api"], timeout=60) as http:
        approved = await submit_case(http, tokens["applicant"], cases["clear approval"], key="e2e-1")
        referred = await submit_case(http, tokens["applicant"], cases["referral to officer"], key="e2e-2")
        body = await _poll(http, approved, tokens["applicant"], {"approved", "declined", "in_review"})
        assert body["stage"] == "approved" and body["decision"]["outcome"] == "approve"
        assert body["decision"]["decided_by"] == "auto" and body["decision"]["plans"]

        body = await _poll(http, referred, tokens["applicant"], {"in_review", "approved", "declined"})
        assert body["stage"] == "in_review" and body["decision"] is None
        officer = {"Authorization": f"Bearer {tokens['officer']}"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # visibility lags a little behind the workflow
            items = (await http.get("/v1/review/tasks", headers=officer)).json()["items"]
            if any(t["application_id"] == referred for t in items):
                break
            await asyncio.sleep(0.3)
        else:
            raise AssertionError("referred application never appeared in the officer inbox")
        task = next(t for t in items if t["application_id"] == referred)
        assert task["queue"] == "officer" and task["sla_due_at"]
        r = await http.post(f"/v1/review/tasks/{referred}/claim", headers=officer)
        assert r.status_code == 200, r.text
        r = await http.post(f"/v1/review/tasks/{referred}/decision", headers=officer,
                            json={"action": "approve", "comment": "Verified income and employment."})
        assert r.status_code == 200, r.text
        body = await _poll(http, referred, tokens["applicant"], {"approved"})
        assert body["decision"]["decided_by"] == ["demo-officer"]

        ev = await http.get(f"/v1/applications/{approved}/evidence", headers=officer)
        assert ev.status_code == 200 and ev.json()["records"]
    verify = subprocess.run([sys.executable, "-m", "creditflow.cli", "ledger", "verify"], capture_output=True,
                            env={**os.environ, "CREDITFLOW_VAR_DIR": str(stack["var"]),
                                 **({"CREDITFLOW_DATABASE_URL": stack["settings"].database_url}
                                    if stack["settings"].database_url else {})})
    assert verify.returncode == 0, verify.stderr.decode()


def test_sigterm_stops_every_process_and_frees_ports(stack) -> None:  # type: ignore[no-untyped-def]
    proc = stack["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    for name, port in stack["ports"].items():
        assert _port_free(port), f"{name} port {port} still bound after shutdown"
    out = subprocess.run(["pgrep", "-f", str(stack["var"])], capture_output=True, text=True)
    assert out.stdout.strip() == "", f"orphan processes: {out.stdout}"
