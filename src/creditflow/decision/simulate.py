"""Re-decide recorded applications under a candidate policy before it goes live.

Why: a policy change is a business decision with consequences (approval rate, exposure, who
is affected); replaying recorded `DecisionInput`s through the candidate shows them, case by
case, with the rule responsible for each changed outcome.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from creditflow.decision.contract import Decision, DecisionInput
from creditflow.decision.engine import decide
from creditflow.decision.policy import load_policy_file


class ChangedOutcome(BaseModel):
    application_id: str
    before: str
    after: str
    limit_before: float | None
    limit_after: float | None
    rules_added: list[str] = Field(default_factory=list)  # fired under the candidate only
    rules_removed: list[str] = Field(default_factory=list)  # fired under the recorded policy only
    responsible: str  # the rule (or "grade"/"limit"/"authority") that explains the change


class SimReport(BaseModel):
    candidate_policy: str
    candidate_version: str
    candidate_sha256: str
    n: int
    outcomes_before: dict[str, int]
    outcomes_after: dict[str, int]
    approval_rate_before: float
    approval_rate_after: float
    total_limit_before: float
    total_limit_after: float
    changed: list[ChangedOutcome]


def _approved(d: Decision) -> bool:
    return d.outcome == "approve"


def _responsible(before: Decision, after: Decision, added: list[str], removed: list[str]) -> str:
    effect_rank = {"decline": 0, "refer": 1}
    hits = {h.rule_id: h for h in after.rules_fired}
    if added:
        return min(added, key=lambda r: effect_rank.get(hits[r].effect, 2))
    if removed:
        return removed[0]
    if before.grade != after.grade:
        return "grade"
    if before.credit_limit != after.credit_limit:
        return "limit"
    return "authority"


def simulate(records: list[tuple[DecisionInput, Decision]], policy_path: Path) -> SimReport:
    """Decide every recorded input under `policy_path`; compare with the recorded decision."""
    cand = load_policy_file(Path(policy_path))
    before_c: Counter[str] = Counter()
    after_c: Counter[str] = Counter()
    changed: list[ChangedOutcome] = []
    lim_b = lim_a = 0.0
    for inp, before in records:
        after = decide(inp, policy_path=Path(policy_path))
        before_c[before.outcome] += 1
        after_c[after.outcome] += 1
        if before.outcome in ("approve", "counteroffer"):
            lim_b += before.credit_limit or 0.0
        if after.outcome in ("approve", "counteroffer"):
            lim_a += after.credit_limit or 0.0
        if before.outcome != after.outcome or before.credit_limit != after.credit_limit:
            rb = {h.rule_id for h in before.rules_fired}
            ra = {h.rule_id for h in after.rules_fired}
            added, removed = sorted(ra - rb), sorted(rb - ra)
            changed.append(ChangedOutcome(
                application_id=inp.application_id, before=before.outcome, after=after.outcome,
                limit_before=before.credit_limit, limit_after=after.credit_limit, rules_added=added,
                rules_removed=removed, responsible=_responsible(before, after, added, removed)))
    n = len(records)
    return SimReport(
        candidate_policy=str(policy_path), candidate_version=cand.version, candidate_sha256=cand.sha256, n=n,
        outcomes_before=dict(before_c), outcomes_after=dict(after_c),
        approval_rate_before=round(before_c["approve"] / n, 4) if n else 0.0,
        approval_rate_after=round(after_c["approve"] / n, 4) if n else 0.0,
        total_limit_before=round(lim_b, 2), total_limit_after=round(lim_a, 2), changed=changed)
