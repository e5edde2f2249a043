"""httpx (through httpcore) asks which async library runs on every connection-pool operation.

Without `sniffio` installed (anyio 4.x stopped depending on it) each of those calls is a failed
import that searches sys.path: 86 us instead of ~1.4 us, about 3% of the API's and the worker's CPU
under load. The dependency is pinned in pyproject.toml for that reason alone; this test keeps it.
"""

from __future__ import annotations

import asyncio
import sys


def test_async_library_detection_does_not_import_on_every_call(monkeypatch) -> None:
    from httpcore._synchronization import current_async_library

    import sniffio  # noqa: F401  (the pinned dependency itself)

    attempts: list[str] = []
    real_import = __builtins__["__import__"] if isinstance(__builtins__, dict) else __builtins__.__import__

    def counting_import(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name == "sniffio" and name not in sys.modules:
            attempts.append(name)
        return real_import(name, *args, **kwargs)

    async def detect() -> str:
        return current_async_library()

    monkeypatch.setattr("builtins.__import__", counting_import)
    assert asyncio.run(detect()) == "asyncio"
    assert attempts == [], "sniffio is missing: every httpx pool operation would search sys.path for it"
