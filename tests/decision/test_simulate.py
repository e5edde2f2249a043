
from decision_builders import consumer_docs, consumer_input

from creditflow.decision.engine import decide
from creditflow.decision.policy import POLICY_DIR
from creditflow.decision.simulate import simulate


def test_candidate_policy_changes_are_explained() -> None:
    inputs = [
        consumer_input(app_id="a-small", amount=2000),
        consumer_input(app_id="a-4000", amount=4000),  # above the candidate's auto_max 3000
        consumer_input(app_id="a-nsf", amount=2000, documents=consumer_docs(nsf_count=1)),
    ]
    records = [(i, decide(i)) for i in inputs]
    assert all(d.outcome == "approve" for _, d in records)
    rep = simulate(records, POLICY_DIR / "candidate.yml")
    assert rep.n == 3 and rep.approval_rate_before == 1.0
    changed = {c.application_id: c for c in rep.changed}
    assert "a-small" not in changed
    assert changed["a-4000"].after == "refer" and changed["a-4000"].responsible == "RF_AMOUNT_ABOVE_AUTO"
    assert changed["a-nsf"].responsible == "RF_NSF"
    assert rep.approval_rate_after == round(1 / 3, 4)
    assert rep.candidate_version.endswith("candidate") and len(rep.candidate_sha256) == 64


def test_same_policy_changes_nothing() -> None:
    records = [(i, decide(i)) for i in (consumer_input(app_id=f"x{n}", amount=1000 + 1000 * n) for n in range(6))]
    rep = simulate(records, POLICY_DIR / "consumer.yml")
    assert rep.changed == [] and rep.outcomes_before == rep.outcomes_after
