"""The offline verification snippet in docs/EVIDENCE.md works on a real bundle, and fails on a forged one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from creditflow.ledger.log import EvidenceLog

from .conftest import entry

DOC = Path(__file__).resolve().parents[2] / "docs" / "EVIDENCE.md"


def _snippet() -> dict:
    code = next(b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S) if "def check_bundle" in b)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_documented_snippet_verifies_a_bundle(log: EvidenceLog, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(11):
        log.append(entry(n, app="app-X" if n in (2, 7, 10) else "app-Y"))
    bundle = log.evidence_bundle("app-X")
    check = _snippet()["check_bundle"]
    check(bundle, log.public_key_pem.encode())
    assert capsys.readouterr().out.count("verified") == 3
    bundle["records"][1]["payload"] = bundle["records"][1]["payload"].replace('"n":7', '"n":8')
    with pytest.raises(AssertionError, match="record 7"):
        check(bundle, log.public_key_pem.encode())
    bundle["signed_tree_head"]["tree_size"] += 1
    with pytest.raises(InvalidSignature):
        check(bundle, log.public_key_pem.encode())
