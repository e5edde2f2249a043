"""Connecting to Temporal the same way everywhere: address, namespace and the encrypting converter.

Worker, API and CLI all use `connect`, so payloads are encrypted on every path and no process
can accidentally write plaintext into a history.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.converter import DataConverter

from creditflow.config import Settings


def data_converter(settings: Settings) -> DataConverter:
    from creditflow.security.codec import data_converter as make

    return make(settings)


async def connect(settings: Settings, retries: int = 1, delay: float = 1.0) -> Client:
    last: Exception | None = None
    for _ in range(max(1, retries)):
        try:
            return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                        data_converter=data_converter(settings))
        except Exception as err:  # server still starting
            last = err
            await asyncio.sleep(delay)
    assert last is not None
    raise last
