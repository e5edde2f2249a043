"""Regenerate the committed workflow histories used by the replay tests (run on purpose only:
`make histories`). Each history comes from a real run: dev server, real NLP service, real decision
engine, real database. Payloads are written unencrypted (the codec does not affect determinism, and
committed histories must not need a secret to replay).

Since v6 the three cases go through the real API (in process), as applicants' applications do: the
API analyses plain-text uploads and notes, so the workflow finds their analyses stored. A fourth
history, `approved_auto_nlp`, starts the workflow directly on unanalysed documents (as the API does
when the NLP service was down at intake), so the regular analysis activity's path is recorded too."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).parent


async def main(suffix: str = "") -> None:
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from creditflow.api.app import create_app as create_api
    from creditflow.demo import create_case, demo_cases, demo_tokens
    from creditflow.nlp.service import create_app
    from creditflow.store.db import Database
    from creditflow.worker import build_worker
    from tests.conftest import _Server, free_port, make_settings, temporal_bin
    from tests.helpers import start_application, wait_stage
    from workflows.credit_application import CreditApplicationWorkflow
    from workflows.credit_application_types import ClaimInput, DecideInput
    from workflows.search_attributes import ALL

    port = free_port()
    server = _Server(create_app(), port)
    server.start()
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    var = Path(tempfile.mkdtemp())
    settings = make_settings(var, encrypt_payloads=False, nlp_url=f"http://127.0.0.1:{port}")
    db = Database(settings.db_url)
    db.create_all()
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_bin(), search_attributes=ALL,
                                                data_converter=pydantic_data_converter)
    tq = settings.task_queue = f"hist-{uuid.uuid4().hex[:6]}"
    cases = {c["label"]: c for c in demo_cases()}
    token = demo_tokens(settings)["applicant"]
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api(settings, temporal=env.client, db=db)),
                            base_url="http://api", timeout=60)

    async def through_api(case: dict) -> object:
        app_id = await create_case(api, token, case)
        r = await api.post(f"/v1/applications/{app_id}/submit", headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        return env.client.get_workflow_handle_for(CreditApplicationWorkflow.run, f"application-{app_id}")

    try:
        async with build_worker(env.client, settings, db, task_queue=tq):
            for name, label in (("approved_auto", "clear approval"), ("declined_auto", "decline"),
                                ("referred_officer_approved", "referral to officer"),
                                ("approved_auto_nlp", "clear approval")):
                if name.endswith("_nlp"):
                    _, handle = await start_application(env.client, settings, db, cases[label], tq)
                else:
                    handle = await through_api(cases[label])
                if name == "referred_officer_approved":
                    await wait_stage(handle, {"in_review"})
                    await handle.execute_update(CreditApplicationWorkflow.claim,
                                                ClaimInput(officer_id="olga", role="officer"))
                    await handle.execute_update(CreditApplicationWorkflow.decide, DecideInput(
                        officer_id="olga", role="officer", action="approve", comment="verified"))
                await handle.result()
                history = await handle.fetch_history()
                (OUT / f"credit_application_{name}{suffix}.json").write_text(json.dumps(history.to_json_dict(), indent=1))
                print("wrote", name)
    finally:
        await api.aclose()
        await env.shutdown()
        server.stop()


if __name__ == "__main__":
    # Histories recorded by older workflow code stay committed (they prove patched changes still
    # replay); record new ones next to them with a suffix, e.g. `generate.py _v2`.
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else ""))
