"""Fixtures for the security tests: an isolated var/ directory and settings pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditflow.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(env="test", var_dir=tmp_path / "var", codec_keys=None)
