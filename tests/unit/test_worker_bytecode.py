"""The worker caches the workflow modules' bytecode (the sandbox re-imports them for every run)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import workflows
from creditflow.worker import cache_workflow_bytecode


def test_workflow_bytecode_is_cached_even_when_python_is_told_not_to_write_it(monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as PYTHONDONTWRITEBYTECODE=1 sets it
    source = Path(workflows.__file__).parent / "credit_application.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)
    assert cache_workflow_bytecode()
    assert cached.exists() and cached.stat().st_size > 0
    # what the sandbox's import will do: load the cached code, never compile the source
    loader = importlib.machinery.SourceFileLoader("workflows.credit_application", str(source))

    def no_compile(*_a: object, **_k: object) -> None:
        raise AssertionError("compiled the source although a valid cache exists")

    monkeypatch.setattr(loader, "source_to_code", no_compile)
    assert loader.get_code("workflows.credit_application") is not None
