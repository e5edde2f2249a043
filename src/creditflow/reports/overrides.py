"""Override report: how often officers went against the automatic recommendation, and why.

Risk managers watch this number: a rising override rate means either the policy or the
officers need attention. It is computed from the immutable officer decision records.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from creditflow.store import repo
from creditflow.store.db import Database


def override_report(db: Database) -> dict[str, Any]:
    with db.session() as s:
        rows = [r for r in repo.decisions_for(s) if r.kind == "officer"]
    final = [r for r in rows if r.outcome in ("approve", "decline", "counteroffer")]
    overrides = [r for r in final if r.payload.get("override")]
    by_officer = Counter(r.actor for r in overrides)
    by_reason = Counter(code for r in overrides for code in r.payload.get("reason_codes", []))
    by_direction = Counter(f"{r.payload.get('recommended')}->{r.outcome}" for r in overrides)
    return {
        "officer_decisions": len(final),
        "overrides": len(overrides),
        "override_rate": round(len(overrides) / len(final), 4) if final else 0.0,
        "by_officer": dict(by_officer.most_common()),
        "by_reason_code": dict(by_reason.most_common()),
        "by_direction": dict(by_direction),
        "items": [{"application_id": r.application_id, "officer": r.actor, "recommended": r.payload.get("recommended"),
                   "action": r.outcome, "reason_codes": r.payload.get("reason_codes", []),
                   "at": r.created_at.isoformat()} for r in overrides],
    }
