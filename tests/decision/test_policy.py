from pathlib import Path
from typing import Any

import pytest
import yaml

from creditflow.decision.policy import (CONSUMER_SYMBOLS, DEALER_SYMBOLS, POLICY_DIR, PolicyError,
                                        authority_check, load_policy, load_policy_file, protected_reference,
                                        queue_for, required_approvals)


def _write(tmp_path: Path, mutate: Any) -> Path:
    data = yaml.safe_load((POLICY_DIR / "consumer.yml").read_text())
    mutate(data)
    p = tmp_path / "p.yml"
    p.write_text(yaml.safe_dump(data))
    return p


def _add_rule(expr: str) -> Any:
    def m(d: dict[str, Any]) -> None:
        d["rules"].append({"id": "RF_TEST", "expression": expr, "effect": "refer", "reason_code": "RISK_SIGNAL",
                           "severity": "low"})
    return m


def test_shipped_policies_load_with_authority() -> None:
    p = load_policy("consumer_installment")
    assert p.version == "consumer-2025.11.0" and len(p.sha256) == 64
    assert p.authority.auto_max == 5000 and p.authority.four_eyes_above == 20000
    assert p.authority.role_max == {"officer": 20000, "senior_officer": 100000}
    assert p.spec.info_request_days == 30
    d = load_policy("dealer_working_capital")
    assert d.authority.auto_max > p.authority.auto_max
    load_policy_file(POLICY_DIR / "candidate.yml")


@pytest.mark.parametrize("expr", [
    "age < 25", "applicant_age > 60", "date_of_birth == '2000-01-01'", "sex == 'f'", "gender != 'm'",
    "marital_status == 'single'", "religion == 'x'", "race == 'x'", "ethnicity == 'x'", "national_origin == 'x'",
    "nationality == 'x'", "disability", "pregnancy", "is_pregnant", "foreign_worker", "dob_year > 1990",
])
def test_loader_rejects_protected_attribute_rules(tmp_path: Path, expr: str) -> None:
    with pytest.raises(PolicyError, match="protected"):
        load_policy_file(_write(tmp_path, _add_rule(expr)))


def test_protected_words_inside_string_literals_or_other_words_are_fine() -> None:
    assert protected_reference("credit_history == 'age'") is None
    assert protected_reference("savings_balance > 100 and housing == 'own'") is None  # 'average', 'mortgage'...
    assert protected_reference("is_minor") is None  # legal capacity, computed in code


@pytest.mark.parametrize("expr, match", [
    ("dti >", "RuleSyntaxError"), ("unknown_symbol > 1", "SymbolResolutionError"),
    ("grade > 3", "EvaluationError"), ("dti + 1", "boolean"),
])
def test_loader_rejects_bad_expressions(tmp_path: Path, expr: str, match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        load_policy_file(_write(tmp_path, _add_rule(expr)))


@pytest.mark.parametrize("mutate", [
    lambda d: d["pricing"]["apr_by_grade"].update(E=29.9),           # APR cap
    lambda d: d["limits"].update(dti_cap="high"),                     # type
    lambda d: d.pop("authority"),                                     # missing section
    lambda d: d["rules"][0].update(effect="approve"),                 # unknown effect
    lambda d: d["rules"][0].update(reason_code="NO_SUCH_CODE"),       # reason without text
    lambda d: d["rules"].append(dict(d["rules"][0])),                 # duplicate id
    lambda d: d.update(surprise=1),                                   # unknown key
    lambda d: d["grades"].update(approve=["A"]),                      # grades not a partition
])
def test_loader_fails_closed(tmp_path: Path, mutate: Any) -> None:
    with pytest.raises(PolicyError):
        load_policy_file(_write(tmp_path, mutate))


def test_rule_schema_has_no_protected_symbols() -> None:
    for s in list(CONSUMER_SYMBOLS) + list(DEALER_SYMBOLS):
        assert protected_reference(s) is None, s


def test_compiled_rules_agree_with_rule_engine() -> None:
    import random

    rng = random.Random(7)
    for product in ("consumer_installment", "dealer_working_capital"):
        pol = load_policy(product)
        for _ in range(300):
            facts: dict[str, Any] = {}
            for name, t in pol.symbols.items():
                if t.name == "BOOLEAN":
                    facts[name] = rng.random() < 0.3
                elif t.name == "STRING":
                    facts[name] = rng.choice(["no_credits", "existing_paid", "A", "D", "own"])
                else:
                    facts[name] = round(rng.uniform(-1, 3) if rng.random() < 0.7 else rng.uniform(0, 30000), 3)
            for r in pol.rules:
                assert r.matches(facts) == r.matches_reference(facts), (r.spec.id, facts)


def test_authority_helpers() -> None:
    a = load_policy("consumer_installment").authority
    assert authority_check(a, "auto", 5000) and not authority_check(a, "auto", 5000.01)
    assert authority_check(a, "officer", 20000) and not authority_check(a, "officer", 20001)
    assert authority_check(a, "senior_officer", 100000) and not authority_check(a, "senior_officer", 100001)
    assert not authority_check(a, "applicant", 1)
    assert queue_for(a, 6000) == "officer" and queue_for(a, 50000) == "senior" and queue_for(a, 2e5) == "committee"
    assert required_approvals(a, 20000) == 1 and required_approvals(a, 20000.01) == 2
