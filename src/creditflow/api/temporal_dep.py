"""The Temporal client as a FastAPI dependency: connected lazily, 503 while Temporal is down.

Tests override `get_temporal` or pass a client to `create_app`; nothing swaps a global.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from creditflow.api.problems import ProblemError
from creditflow.temporal_client import connect
from creditflow.tracing import traced_client

_lock = asyncio.Lock()


async def get_temporal(request: Request) -> Client:
    state = request.app.state
    if getattr(state, "temporal", None) is None:
        async with _lock:
            if getattr(state, "temporal", None) is None:
                try:
                    client = await asyncio.wait_for(connect(state.settings), timeout=5)
                    state.temporal = traced_client(client, state.settings)  # no-op unless tracing is on
                except Exception:
                    raise ProblemError(503, "Workflow service unavailable",
                                       "Temporal cannot be reached right now; retry in a moment.") from None
    return state.temporal


TemporalDep = Annotated[Client, Depends(get_temporal)]


def is_not_found(err: BaseException) -> bool:
    return isinstance(err, RPCError) and err.status == RPCStatusCode.NOT_FOUND


def handle_for(client: Client, workflow_id: str) -> WorkflowHandle:
    return client.get_workflow_handle(workflow_id)
